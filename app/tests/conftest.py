"""Test setup for the app: a real PostgreSQL database, migrated as kakoi_owner, used as kakoi_web.

The session fixture `django_db_setup` (replacing pytest-django's):
1. as the bootstrap superuser (KAKOI_TEST_DB_ADMIN_USER, default `postgres`), drops and
   creates a fresh database `kakoi_test_<pid>`;
2. runs the app's own role provisioning (core.dbroles.provision: the code behind
   `manage.py ensure_db_roles`) against it, which creates/updates kakoi_owner and kakoi_web
   with new random passwords;
3. connects as kakoi_owner and runs `migrate`;
4. points Django's connection at kakoi_web (with its password): every test's queries are
   made by a login of kakoi_web, not by SET ROLE (test_roles.py asserts session_user).
At the end it drops the database. Nothing is assumed to exist beforehand except the
PostgreSQL server and its superuser.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import psycopg
import pytest
from accounts.models import Invitation, Role, SecondFactor, User, UserSession
from accounts.sessions import AUTH_AT_KEY, SECOND_FACTOR_KEY, SEEN_AT_KEY
from core import dbroles
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client, TestCase
from django.utils import timezone
from moto import mock_aws
from psycopg import sql
from tenancy.db import tenant_context
from tenancy.models import Company

PASSWORD = "correct horse battery staple 42"


def pytest_configure(config: pytest.Config) -> None:
    """The translation catalogues, compiled before any test loads one (the .mo files are not committed)."""
    import django.test.signals  # noqa: F401  (registers Django's own handler that drops cached catalogues)
    from core.management.commands.compile_translations import compile_all
    from django.core.signals import setting_changed

    compile_all()
    # On a fresh clone the .mo files did not exist when Django started (pytest-django sets it up
    # before this hook, and an import may already have loaded a catalogue): Django's own
    # setting_changed handler for LOCALE_PATHS drops the cached catalogues, so every test reads
    # the ones just compiled.
    setting_changed.send(sender=None, setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=False)


def _admin_connection() -> dbroles.Connection:
    db = settings.DATABASES["default"]
    return dbroles.Connection(
        host=str(db.get("HOST") or "127.0.0.1"),
        port=int(db.get("PORT") or 5432),
        dbname=str(db["NAME"]),
        user=settings.KAKOI_DB_MASTER_USER,
        password=settings.KAKOI_DB_MASTER_PASSWORD,
    )


def _drop_database(admin: dbroles.Connection) -> None:
    with admin.connect(dbname="postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(admin.dbname)))


def _drop_stale_test_databases(admin: dbroles.Connection, base_name: str) -> None:
    """Databases left by earlier runs that were killed (their process is gone)."""
    with admin.connect(dbname="postgres") as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{base_name}\\_%"])]
        for name in names:
            pid = name.rsplit("_", 1)[-1]
            if not pid.isdigit():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            except PermissionError:
                pass  # a live process of another user


@dataclass
class RoleSecrets:
    owner_password: str
    web_password: str


@pytest.fixture(scope="session")
def role_secrets() -> RoleSecrets:
    """Filled in by django_db_setup."""
    return RoleSecrets("", "")


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: Any, role_secrets: RoleSecrets) -> Iterator[None]:
    db = settings.DATABASES["default"]
    base_name = str(db["NAME"])
    db["NAME"] = f"{base_name}_{os.getpid()}"
    admin = _admin_connection()
    _drop_stale_test_databases(admin, base_name)
    _drop_database(admin)
    result = dbroles.provision(admin, secret_arns={}, create_database=True)
    role_secrets.owner_password, role_secrets.web_password = result.owner_password, result.web_password
    with django_db_blocker.unblock():
        connections.close_all()
        db.update(USER=dbroles.OWNER_ROLE, PASSWORD=result.owner_password)
        call_command("migrate", verbosity=0, interactive=False)
        connections.close_all()
        db.update(USER=dbroles.WEB_ROLE, PASSWORD=result.web_password)
    yield
    with django_db_blocker.unblock():
        connections.close_all()
    _drop_database(admin)


class CommitClient(Client):
    """A test client that runs on_commit callbacks of each request, as a real COMMIT would.

    The test's own transaction never commits, so without this the emails and S3 purges
    queued with transaction.on_commit would never run.
    """

    def __init__(self, *args: Any, **defaults: Any) -> None:
        # Like a browser set to English: the suite's assertions read the source language. Tests of the
        # Japanese pages pass HTTP_ACCEPT_LANGUAGE or give the user a saved language (test_i18n.py).
        defaults.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
        super().__init__(*args, **defaults)

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def client() -> CommitClient:
    return CommitClient()


@pytest.fixture
def csrf_client() -> CommitClient:
    return CommitClient(enforce_csrf_checks=True)


# --- AWS (moto) -----------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto for every AWS call; the media bucket exists with versioning on (as in production)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": settings.AWS_REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=settings.AWS_REGION)
        s3.create_bucket(Bucket=settings.KAKOI_MEDIA_BUCKET, CreateBucketConfiguration={"LocationConstraint": settings.AWS_REGION})
        s3.put_bucket_versioning(Bucket=settings.KAKOI_MEDIA_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield s3


# --- tenants and users ----------------------------------------------------------------------


@dataclass
class Tenant:
    company: Company
    manager: User
    member: User
    invitation: Invitation


def make_user(company: Company, email: str, role: str = Role.MEMBER, **extra: Any) -> User:
    with tenant_context(company.pk):
        return User.objects.create_user(email, PASSWORD, company=company, role=role, **extra)


def make_tenant(label: str, *, language: str = "en", time_zone: str = "Asia/Tokyo") -> Tenant:
    """A company with a manager, a member and a pending invitation. Its default language is English unless
    asked (the suite's assertions read the source language); a company's own default is Japanese."""
    company_id = uuid.uuid4()
    with tenant_context(company_id):
        company = Company.objects.create(pk=company_id, name=f"Company {label}", default_language=language, default_time_zone=time_zone)
        manager = User.objects.create_user(f"manager-{label}@example.com", PASSWORD, company=company, role=Role.MANAGER)
        member = User.objects.create_user(f"member-{label}@example.com", PASSWORD, company=company, role=Role.MEMBER)
        invitation = Invitation.objects.create(
            company=company,
            email=f"invitee-{label}@example.com",
            nonce_hash=uuid.uuid4().hex,
            invited_by=manager,
            expires_at=timezone.now() + timedelta(seconds=settings.KAKOI_INVITATION_TTL_SECONDS),
        )
    return Tenant(company, manager, member, invitation)


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("a")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return make_tenant("b")


def sign_in(client: Client, user: User, *, second_factor: bool = True) -> None:
    """A completed login (as complete_login leaves it, by default after a second factor) without going through the forms."""
    client.force_login(user, backend="accounts.backends.EmailBackend")
    session = client.session
    now = int(time.time())
    session[AUTH_AT_KEY] = now
    session[SEEN_AT_KEY] = now
    session[SECOND_FACTOR_KEY] = second_factor
    session.save()
    with tenant_context(user.company_id):
        UserSession.objects.get_or_create(company_id=user.company_id, user=user, session_key=session.session_key)


@pytest.fixture
def signed_in() -> Callable[[Client, User], None]:
    return sign_in


@pytest.fixture
def member_without_2fa(tenant_a: Tenant) -> User:
    assert tenant_a.member.second_factor == SecondFactor.NONE
    return tenant_a.member


def mailed_path(message: Any) -> str:
    """The path of the (first) link to this site in an email."""
    match = re.search(r"https?://testserver(/\S+)", str(message.body))
    assert match is not None, message.body
    return match.group(1)


def db_admin() -> psycopg.Connection[Any]:
    """A superuser connection to the test database, for assertions the web role must not be able to make."""
    return _admin_connection().connect()
