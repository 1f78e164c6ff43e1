"""Health endpoints for the load balancer; settings per environment; `check --deploy` with production settings."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from kakoi import contract

APP = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "kakoi.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "a-long-random-secret-key-for-the-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "kakoi.example",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://kakoi.example",
    "DATABASE_HOST": "db.internal.example",
    "DATABASE_USER": "kakoi_web",
    "DATABASE_PASSWORD": "from-the-web-secret",
    "DATABASE_SSLROOTCERT": "/etc/ssl/certs/rds-global-bundle.pem",
    "AWS_REGION": "ap-northeast-1",
    "KAKOI_MEDIA_BUCKET": "kakoi-media",
    "KAKOI_EMAIL_FROM": "no-reply@kakoi.example",
    "KAKOI_TURN_URLS": "turns:turn.kakoi.example:443?transport=tcp",
    "KAKOI_TURN_SECRET": "t" * 40,
}


# --- health ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_liveness_answers_without_database_session_or_host_check(client, django_assert_num_queries, settings):
    """/healthz/live: plain HTTP, the task's IP as Host, no query, no cookie (the load balancer's probe)."""
    settings.SECURE_SSL_REDIRECT = True
    with django_assert_num_queries(0):
        response = client.get(contract.HEALTH_LIVE_PATH, HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 200 and response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response.cookies


@pytest.mark.django_db
def test_readiness_checks_the_database(client, settings, monkeypatch):
    """/healthz/ready: 200 when the database answers, 503 when it does not; public and session-less."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(contract.HEALTH_READY_PATH, HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 200 and not response.cookies

    from core import middleware

    class Broken:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr(middleware, "connection", Broken())
    response = client.get(contract.HEALTH_READY_PATH, HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 503


def test_health_endpoints_are_read_only(client):
    """CSRF-1: the health endpoints take GET/HEAD only."""
    assert client.post(contract.HEALTH_LIVE_PATH).status_code == 405


# --- settings -------------------------------------------------------------------------------


def load_production(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict:
    for name in contract.APP_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_module("kakoi.settings.production")


@pytest.mark.parametrize("missing", sorted(contract.WEB.required))
def test_production_refuses_to_start_without_a_required_variable(monkeypatch, missing: str):
    """Production settings (the web process) name each missing variable the contract requires in ImproperlyConfigured."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    with pytest.raises(ImproperlyConfigured, match=missing):
        load_production(monkeypatch, env)


def test_production_settings_with_everything_set(monkeypatch):
    """ENC-1/SQL-3: production connects as the configured role with sslmode=verify-full and SES email."""
    values = load_production(monkeypatch, PRODUCTION_ENV)
    db = values["DATABASES"]["default"]
    assert db["USER"] == "kakoi_web" and db["OPTIONS"]["sslmode"] == "verify-full"
    assert db["OPTIONS"]["sslrootcert"] == "/etc/ssl/certs/rds-global-bundle.pem"
    assert values["MAILERS"]["default"]["BACKEND"] == "core.mail.SesV2EmailBackend"
    assert values["DEBUG"] is False


def test_production_refuses_weaker_database_tls(monkeypatch):
    """ENC-1: anything but verify-full is refused in production."""
    with pytest.raises(ImproperlyConfigured, match="DATABASE_SSLMODE"):
        load_production(monkeypatch, {**PRODUCTION_ENV, "DATABASE_SSLMODE": "require"})


def test_sql3_migration_task_needs_master_credentials_instead_of_web_ones(monkeypatch):
    """SQL-3: the db-provision task has the master user and no web credentials; its password is required too."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in {"DATABASE_USER", "DATABASE_PASSWORD"}}
    with pytest.raises(ImproperlyConfigured, match="DATABASE_MASTER_PASSWORD"):
        load_production(monkeypatch, {**env, "DATABASE_MASTER_USER": "kakoi_admin"})
    values = load_production(monkeypatch, {**env, "DATABASE_MASTER_USER": "kakoi_admin", "DATABASE_MASTER_PASSWORD": "x"})
    assert values["KAKOI_DB_MASTER_USER"] == "kakoi_admin"


def test_pwd1_argon2_first_and_validators_on():
    """PWD-1: Argon2 is the first (hashing) entry of PASSWORD_HASHERS; the four validators are on, length >= 12."""
    from kakoi.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    names = [v["NAME"].rsplit(".", 1)[1] for v in base.AUTH_PASSWORD_VALIDATORS]
    assert names == ["UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"]
    assert base.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"]["min_length"] >= 12


def test_ses4_cj2_login_required_middleware_is_on_and_ordered():
    """SES-4/CJ-2: LoginRequiredMiddleware runs after authentication and after the tenant transaction is opened."""
    from kakoi.settings import base

    order = base.MIDDLEWARE
    assert order[0] == "core.middleware.HealthCheckMiddleware"
    assert (
        order.index("django.contrib.auth.middleware.AuthenticationMiddleware")
        < order.index("tenancy.middleware.TenantTransactionMiddleware")
        < order.index("django.contrib.auth.middleware.LoginRequiredMiddleware")
    )
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in order
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in order
    assert base.DATABASES["default"]["ATOMIC_REQUESTS"] is False  # the tenant middleware's transaction replaces it


def test_check_deploy_with_production_settings_reports_nothing():
    """`manage.py check --deploy --fail-level WARNING` with production settings: no warning, no error."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "KAKOI_"))}, **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=APP,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
