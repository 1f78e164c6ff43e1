"""Production: everything that differs per deployment comes from the environment, and the
process refuses to start (ImproperlyConfigured naming the variable) when a required one is missing.

The variables, and which process needs which, are the contract's (kakoi/contract.py): every
process needs `REQUIRED_ENV` and its database credentials; only the web process serves live calls
and so needs the relay's URLs and secret. The entrypoint says which command it runs
(KAKOI_COMMAND, set by kakoi/entrypoint.py itself); without it, this is the web process.
"""

from __future__ import annotations

import copy

from django.core.exceptions import ImproperlyConfigured

from kakoi import contract
from kakoi.contract import Env
from kakoi.settings import base, env
from kakoi.settings.base import *  # noqa: F403

CONTROLS: dict[str, str] = {
    "SQL-3": "the web process needs DATABASE_USER/DATABASE_PASSWORD (kakoi_web's secret); only the migration task has master credentials",
    "ENC-1": "database TLS with sslmode=verify-full against the RDS CA bundle",
}

KAKOI_COMMAND = env.get(Env.KAKOI_COMMAND, contract.COMMAND_WEB)
if KAKOI_COMMAND not in contract.COMMANDS:
    raise ImproperlyConfigured(f"{Env.KAKOI_COMMAND} must be one of {', '.join(sorted(contract.COMMANDS))}, got {KAKOI_COMMAND!r}.")

DEBUG = False
SECRET_KEY = env.require(Env.DJANGO_SECRET_KEY)
ALLOWED_HOSTS = env.require_list(Env.DJANGO_ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env.require_list(Env.DJANGO_CSRF_TRUSTED_ORIGINS)

DATABASES = copy.deepcopy(base.DATABASES)
_db = DATABASES["default"]
_db["HOST"] = env.require(Env.DATABASE_HOST)
_db["PORT"] = env.get_int(Env.DATABASE_PORT, contract.DB_PORT)
_db["NAME"] = env.get(Env.DATABASE_NAME, contract.DB_NAME)
KAKOI_DB_MASTER_USER = env.get(Env.DATABASE_MASTER_USER)
KAKOI_DB_MASTER_PASSWORD = env.get(Env.DATABASE_MASTER_PASSWORD)
KAKOI_DB_OWNER_SECRET_ARN = env.get(Env.DB_OWNER_SECRET_ARN)
KAKOI_DB_WEB_SECRET_ARN = env.get(Env.DB_WEB_SECRET_ARN)
if KAKOI_DB_MASTER_USER:
    # The migration task: provision_db connects with the master credentials, then as the owner
    # role with the password it has just set; it has no web credentials.
    env.require(Env.DATABASE_MASTER_PASSWORD)
else:
    _db["USER"] = env.require(Env.DATABASE_USER)
    _db["PASSWORD"] = env.require(Env.DATABASE_PASSWORD)
_sslmode = env.get(Env.DATABASE_SSLMODE, contract.DB_SSLMODE)
if _sslmode != contract.DB_SSLMODE:
    raise ImproperlyConfigured(f"{Env.DATABASE_SSLMODE} must be {contract.DB_SSLMODE} in production (got {_sslmode!r}).")
_db["OPTIONS"]["sslmode"] = _sslmode
_db["OPTIONS"]["sslrootcert"] = env.require(Env.DATABASE_SSLROOTCERT)

AWS_REGION = env.require(Env.AWS_REGION)
KAKOI_MEDIA_BUCKET = env.require(Env.KAKOI_MEDIA_BUCKET)
if not MEDIA_REQUIRE_MALWARE_SCAN:  # noqa: F405
    raise ImproperlyConfigured(
        "KAKOI_MEDIA_REQUIRE_MALWARE_SCAN cannot be off in production: recordings must pass GuardDuty's malware scan (AV-1)."
    )
if KAKOI_S3_ENDPOINT_URL and not KAKOI_S3_ENDPOINT_URL.startswith("https://"):  # noqa: F405
    raise ImproperlyConfigured(f"KAKOI_S3_ENDPOINT_URL must be an https URL in production (ENC-1), got {KAKOI_S3_ENDPOINT_URL!r}.")  # noqa: F405
# Live calls: the web process hands out the relay's URLs and signs credentials with its secret. The
# other processes (migrate, db-provision, scan-consumer) are not given the secret and do not need it.
if KAKOI_COMMAND == contract.COMMAND_WEB:
    KAKOI_TURN_URLS = env.require_list(Env.KAKOI_TURN_URLS)
    KAKOI_TURN_SECRET = env.require(Env.KAKOI_TURN_SECRET)
    if len(KAKOI_TURN_SECRET) < 32:
        raise ImproperlyConfigured(f"{Env.KAKOI_TURN_SECRET} must be at least 32 characters (the relay's TURN REST API secret).")
DEFAULT_FROM_EMAIL = env.require(Env.KAKOI_EMAIL_FROM)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS = {
    "default": {
        "BACKEND": "core.mail.SesV2EmailBackend",
        "OPTIONS": {"configuration_set": env.get(Env.KAKOI_SES_CONFIGURATION_SET)},
    }
}
