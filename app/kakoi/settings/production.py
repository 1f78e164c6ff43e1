"""Production: everything that differs per deployment comes from the environment, and the
process refuses to start (ImproperlyConfigured naming the variable) when a required one is missing."""

from __future__ import annotations

import copy

from django.core.exceptions import ImproperlyConfigured

from kakoi.settings import base, env
from kakoi.settings.base import *  # noqa: F403

CONTROLS: dict[str, str] = {
    "SQL-3": "the web process needs DATABASE_USER/DATABASE_PASSWORD (kakoi_web's secret); only the migration task has master credentials",
    "ENC-1": "database TLS with sslmode=verify-full against the RDS CA bundle",
}

DEBUG = False
SECRET_KEY = env.require("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.require_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.require_list("DJANGO_CSRF_TRUSTED_ORIGINS")

DATABASES = copy.deepcopy(base.DATABASES)
_db = DATABASES["default"]
_db["HOST"] = env.require("DATABASE_HOST")
_db["PORT"] = env.get_int("DATABASE_PORT", 5432)
_db["NAME"] = env.get("DATABASE_NAME", "kakoi")
KAKOI_DB_MASTER_USER = env.get("DATABASE_MASTER_USER")
KAKOI_DB_MASTER_PASSWORD = env.get("DATABASE_MASTER_PASSWORD")
KAKOI_DB_OWNER_SECRET_ARN = env.get("DB_OWNER_SECRET_ARN")
KAKOI_DB_WEB_SECRET_ARN = env.get("DB_WEB_SECRET_ARN")
if KAKOI_DB_MASTER_USER:
    # The migration task: provision_db connects with the master credentials, then as the owner
    # role with the password it has just set; it has no web credentials.
    env.require("DATABASE_MASTER_PASSWORD")
else:
    _db["USER"] = env.require("DATABASE_USER")
    _db["PASSWORD"] = env.require("DATABASE_PASSWORD")
_sslmode = env.get("DATABASE_SSLMODE", "verify-full")
if _sslmode != "verify-full":
    raise ImproperlyConfigured(f"DATABASE_SSLMODE must be verify-full in production (got {_sslmode!r}).")
_db["OPTIONS"]["sslmode"] = _sslmode
_db["OPTIONS"]["sslrootcert"] = env.require("DATABASE_SSLROOTCERT")

AWS_REGION = env.require("AWS_REGION")
KAKOI_MEDIA_BUCKET = env.require("KAKOI_MEDIA_BUCKET")
if not MEDIA_REQUIRE_MALWARE_SCAN:  # noqa: F405
    raise ImproperlyConfigured(
        "KAKOI_MEDIA_REQUIRE_MALWARE_SCAN cannot be off in production: recordings must pass GuardDuty's malware scan (AV-1)."
    )
if KAKOI_S3_ENDPOINT_URL and not KAKOI_S3_ENDPOINT_URL.startswith("https://"):  # noqa: F405
    raise ImproperlyConfigured(f"KAKOI_S3_ENDPOINT_URL must be an https URL in production (ENC-1), got {KAKOI_S3_ENDPOINT_URL!r}.")  # noqa: F405
KAKOI_TURN_URLS = env.require_list("KAKOI_TURN_URLS")
KAKOI_TURN_SECRET = env.require("KAKOI_TURN_SECRET")
if len(KAKOI_TURN_SECRET) < 32:
    raise ImproperlyConfigured("KAKOI_TURN_SECRET must be at least 32 characters (the relay's TURN REST API secret).")
DEFAULT_FROM_EMAIL = env.require("KAKOI_EMAIL_FROM")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS = {
    "default": {
        "BACKEND": "core.mail.SesV2EmailBackend",
        "OPTIONS": {"configuration_set": env.get("KAKOI_SES_CONFIGURATION_SET")},
    }
}
