"""The contract between the platform (the Pulumi program, components/) and the app (this image).

Every fact that both sides must agree on lives here and nowhere else: the database's name, port
and roles, the JSON keys of the role secrets, the health endpoints, the container user and its one
writable path, the image's entrypoint commands, and the environment of every process: which
variables the platform sets (plain or as an ECS secret) and which of them the app refuses to start
without. The relay's environment (relay/entrypoint.sh) is listed here too, so that the platform's
side of it has a single home.

It lives in the app because the image's build context is app/ (app/Dockerfile); the platform
imports it through components/contract.py. Pure Python, standard library only, no Django and no
I/O: importing it has no effect.

Tests hold both sides to it: app/tests/test_contract.py (the production settings read exactly
these variables, and start with exactly what each process is given) and
tests/infra/test_contract.py (the rendered task definitions set exactly these variables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# --- the database (docs/database-roles.md) ----------------------------------------------------

#: the database every role connects to (RDS `db_name`; the app's DATABASE_NAME default)
DB_NAME: Final = "kakoi"
#: the PostgreSQL port: the RDS instance listens on it, the security groups open it, the app connects to it
DB_PORT: Final = 5432
#: the RDS master user (non-default, SQL-3); the app gets it only in the db-provision task, from the master secret
DB_MASTER_USER: Final = "kakoi_admin"
#: the role that owns the schema and runs the migrations (created by `manage.py ensure_db_roles`)
DB_OWNER_ROLE: Final = "kakoi_owner"
#: the DML-only role of the web process, subject to row-level security (SQL-3, ISO-1)
DB_WEB_ROLE: Final = "kakoi_web"
#: the role secrets the platform declares empty (`<project>/<stack>/db/<suffix>`) and ensure_db_roles fills
DB_ROLE_SECRETS: Final = {"owner": DB_OWNER_ROLE, "web": DB_WEB_ROLE}
#: the JSON keys of a database secret the containers get (ECS `valueFrom: <arn>:<key>::`); RDS writes the
#: master secret with the same keys, ensure_db_roles writes the role secrets with them
SECRET_USERNAME_KEY: Final = "username"
SECRET_PASSWORD_KEY: Final = "password"
#: libpq sslmode the platform sets and production refuses to run without (ENC-1)
DB_SSLMODE: Final = "verify-full"
#: the RDS CA bundle inside the image (app/Dockerfile ADDs it there; DATABASE_SSLROOTCERT points to it)
RDS_CA_BUNDLE: Final = "/etc/ssl/certs/rds-global-bundle.pem"

# --- the container -----------------------------------------------------------------------------

#: uid and gid of the image's non-root user (app/Dockerfile `USER`; the task definitions' `user`; CMD-1)
APP_UID: Final = 10001
APP_GID: Final = 10001
APP_USER: Final = f"{APP_UID}:{APP_GID}"
#: the only writable path of a container (read-only root filesystem; gunicorn's worker_tmp_dir)
WRITABLE_PATH: Final = "/tmp"  # nosec B108  # noqa: S108
#: the port gunicorn binds when PORT is not set (the stack's appPort default is the same)
DEFAULT_APP_PORT: Final = 8000
#: the settings module of every deployed process
PRODUCTION_SETTINGS: Final = "kakoi.settings.production"

#: health endpoints, answered before routing (core.middleware.HealthCheckMiddleware):
#: liveness (the process answers; the container health check) and readiness (the database answers;
#: the load balancer's target group and the availability canary)
HEALTH_LIVE_PATH: Final = "/healthz/live"
HEALTH_READY_PATH: Final = "/healthz/ready"

#: arguments of the image's entrypoint (`python -m kakoi.entrypoint`, app/kakoi/entrypoint.py)
COMMAND_WEB: Final = "web"
COMMAND_MIGRATE: Final = "migrate"
COMMAND_MANAGE: Final = "manage"
COMMANDS: Final = frozenset({COMMAND_WEB, COMMAND_MIGRATE, COMMAND_MANAGE})


# --- environment variables ---------------------------------------------------------------------


class Env:
    """Names of the environment variables the app reads in production (kakoi/settings/, kakoi/gunicorn_conf.py)."""

    # set by the platform
    DJANGO_SETTINGS_MODULE: Final = "DJANGO_SETTINGS_MODULE"
    DJANGO_SECRET_KEY: Final = "DJANGO_SECRET_KEY"
    DJANGO_ALLOWED_HOSTS: Final = "DJANGO_ALLOWED_HOSTS"
    DJANGO_CSRF_TRUSTED_ORIGINS: Final = "DJANGO_CSRF_TRUSTED_ORIGINS"
    DATABASE_HOST: Final = "DATABASE_HOST"
    DATABASE_PORT: Final = "DATABASE_PORT"
    DATABASE_NAME: Final = "DATABASE_NAME"
    DATABASE_USER: Final = "DATABASE_USER"
    DATABASE_PASSWORD: Final = "DATABASE_PASSWORD"
    DATABASE_SSLMODE: Final = "DATABASE_SSLMODE"
    DATABASE_SSLROOTCERT: Final = "DATABASE_SSLROOTCERT"
    DATABASE_MASTER_USER: Final = "DATABASE_MASTER_USER"
    DATABASE_MASTER_PASSWORD: Final = "DATABASE_MASTER_PASSWORD"
    DB_OWNER_SECRET_ARN: Final = "DB_OWNER_SECRET_ARN"
    DB_WEB_SECRET_ARN: Final = "DB_WEB_SECRET_ARN"
    AWS_REGION: Final = "AWS_REGION"
    KAKOI_MEDIA_BUCKET: Final = "KAKOI_MEDIA_BUCKET"
    KAKOI_EMAIL_FROM: Final = "KAKOI_EMAIL_FROM"
    KAKOI_SES_CONFIGURATION_SET: Final = "KAKOI_SES_CONFIGURATION_SET"
    KAKOI_SCAN_QUEUE_URL: Final = "KAKOI_SCAN_QUEUE_URL"
    KAKOI_TURN_URLS: Final = "KAKOI_TURN_URLS"
    KAKOI_TURN_SECRET: Final = "KAKOI_TURN_SECRET"
    PORT: Final = "PORT"
    # set by the entrypoint itself (never by the platform): the command it runs (one of COMMANDS); only
    # `web` serves live calls and so requires CALLS_ENV
    KAKOI_COMMAND: Final = "KAKOI_COMMAND"
    # the image's own (app/Dockerfile ENV)
    KAKOI_STATIC_ROOT: Final = "KAKOI_STATIC_ROOT"


#: what the app reads with a default and the platform leaves alone (tuning; documented in the README's
#: configuration reference): the platform setting one of them is a deliberate change of this contract
APP_TUNING_ENV: Final = frozenset(
    {
        "AWS_DEFAULT_REGION",
        "DATABASE_CONN_MAX_AGE",
        "DATABASE_CONNECT_TIMEOUT",
        "DATABASE_STATEMENT_TIMEOUT_MS",
        "DATABASE_LOCK_TIMEOUT_MS",
        "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        "KAKOI_SESSION_IDLE_SECONDS",
        "KAKOI_SESSION_ABSOLUTE_SECONDS",
        "KAKOI_S3_ENDPOINT_URL",
        "KAKOI_MEDIA_MAX_UPLOAD_BYTES",
        "KAKOI_MEDIA_REQUIRE_MALWARE_SCAN",
        "KAKOI_MEDIA_SCAN_SWEEP_AFTER_SECONDS",
        "KAKOI_MEDIA_SCAN_SWEEP_INTERVAL_SECONDS",
        "KAKOI_TURN_CREDENTIAL_TTL_SECONDS",
        "KAKOI_ROOM_MAX_PARTICIPANTS",
        "KAKOI_TRUSTED_PROXY_COUNT",
        "KAKOI_EMAIL_OTP_TTL_SECONDS",
        "KAKOI_INVITATION_TTL_SECONDS",
        "KAKOI_LOG_LEVEL",
        "GUNICORN_WORKERS",
    }
)

#: the plain environment the platform gives every container of the app image
#: (components/app_service.py `app_environment`)
PLATFORM_ENV: Final = frozenset(
    {
        Env.DJANGO_SETTINGS_MODULE,
        Env.DJANGO_ALLOWED_HOSTS,
        Env.DJANGO_CSRF_TRUSTED_ORIGINS,
        Env.DATABASE_HOST,
        Env.DATABASE_PORT,
        Env.DATABASE_NAME,
        Env.DATABASE_SSLMODE,
        Env.DATABASE_SSLROOTCERT,
        Env.AWS_REGION,
        Env.KAKOI_MEDIA_BUCKET,
        Env.KAKOI_EMAIL_FROM,
        Env.KAKOI_SES_CONFIGURATION_SET,
        Env.KAKOI_TURN_URLS,
    }
)

#: what production refuses to start without, in every process of the app image
REQUIRED_ENV: Final = frozenset(
    {
        Env.DJANGO_SECRET_KEY,
        Env.DJANGO_ALLOWED_HOSTS,
        Env.DJANGO_CSRF_TRUSTED_ORIGINS,
        Env.DATABASE_HOST,
        Env.DATABASE_SSLROOTCERT,
        Env.AWS_REGION,
        Env.KAKOI_MEDIA_BUCKET,
        Env.KAKOI_EMAIL_FROM,
    }
)
#: the credentials of a process that connects as an application role (owner or web)
ROLE_CREDENTIALS_ENV: Final = frozenset({Env.DATABASE_USER, Env.DATABASE_PASSWORD})
#: the credentials of the db-provision task (the master secret)
MASTER_CREDENTIALS_ENV: Final = frozenset({Env.DATABASE_MASTER_USER, Env.DATABASE_MASTER_PASSWORD})
#: live calls: only the process that serves them needs the relay's URLs and shared secret (ENC-1)
CALLS_ENV: Final = frozenset({Env.KAKOI_TURN_URLS, Env.KAKOI_TURN_SECRET})


@dataclass(frozen=True)
class Process:
    """One kind of process of an image: its container name, command, and its environment.

    `environment` is the plain environment the platform sets, `secrets` what it injects from Secrets
    Manager (ECS `secrets`), `required` what the process refuses to start without (a subset of both)."""

    #: the container name in the task definition
    name: str
    #: the entrypoint arguments
    command: tuple[str, ...]
    environment: frozenset[str]
    secrets: frozenset[str]
    required: frozenset[str]

    @property
    def names(self) -> frozenset[str]:
        """Every variable the platform sets for this process."""
        return self.environment | self.secrets


#: the web container: gunicorn behind the load balancer, connected as kakoi_web; signs TURN credentials
WEB: Final = Process(
    name="web",
    command=(COMMAND_WEB,),
    environment=PLATFORM_ENV | {Env.PORT},
    secrets=ROLE_CREDENTIALS_ENV | {Env.DJANGO_SECRET_KEY, Env.KAKOI_TURN_SECRET},
    required=REQUIRED_ENV | ROLE_CREDENTIALS_ENV | CALLS_ENV,
)
#: the service's migrate container: plain migrations, connected as kakoi_owner
MIGRATE: Final = Process(
    name="migrate",
    command=(COMMAND_MIGRATE,),
    environment=PLATFORM_ENV,
    secrets=ROLE_CREDENTIALS_ENV | {Env.DJANGO_SECRET_KEY},
    required=REQUIRED_ENV | ROLE_CREDENTIALS_ENV,
)
#: the one-off db-provision task: ensure_db_roles with the master credentials (writes the role secrets), then migrate
DB_PROVISION: Final = Process(
    name="db-provision",
    command=(COMMAND_MIGRATE,),
    environment=PLATFORM_ENV | {Env.DB_OWNER_SECRET_ARN, Env.DB_WEB_SECRET_ARN},
    secrets=MASTER_CREDENTIALS_ENV | {Env.DJANGO_SECRET_KEY},
    required=REQUIRED_ENV | MASTER_CREDENTIALS_ENV,
)
#: the scan-result consumer service (AV-1): `manage consume_scan_results`, connected as kakoi_web
SCAN_CONSUMER: Final = Process(
    name="scan-consumer",
    command=(COMMAND_MANAGE, "consume_scan_results"),
    environment=PLATFORM_ENV | {Env.KAKOI_SCAN_QUEUE_URL},
    secrets=ROLE_CREDENTIALS_ENV | {Env.DJANGO_SECRET_KEY},
    required=REQUIRED_ENV | ROLE_CREDENTIALS_ENV,
)
#: the scheduled retry of the durable email outbox (components/schedules.py, every 5 minutes), as kakoi_web
SEND_QUEUED_EMAIL: Final = Process(
    name="send-queued-email",
    command=(COMMAND_MANAGE, "send_queued_email"),
    environment=PLATFORM_ENV,
    secrets=ROLE_CREDENTIALS_ENV | {Env.DJANGO_SECRET_KEY},
    required=REQUIRED_ENV | ROLE_CREDENTIALS_ENV,
)
#: the scheduled retry of queued S3 purges (components/schedules.py, every 15 minutes), as kakoi_web
PURGE_OBJECTS: Final = Process(
    name="purge-objects",
    command=(COMMAND_MANAGE, "purge_objects"),
    environment=PLATFORM_ENV,
    secrets=ROLE_CREDENTIALS_ENV | {Env.DJANGO_SECRET_KEY},
    required=REQUIRED_ENV | ROLE_CREDENTIALS_ENV,
)
#: every process of the app image, by container name
APP_PROCESSES: Final = {p.name: p for p in (WEB, MIGRATE, DB_PROVISION, SCAN_CONSUMER, SEND_QUEUED_EMAIL, PURGE_OBJECTS)}

#: every variable the production settings read (platform-set, entrypoint-set, the image's own, tuning)
APP_ENV: Final = frozenset().union(*(p.names for p in APP_PROCESSES.values())) | {Env.KAKOI_COMMAND, Env.KAKOI_STATIC_ROOT} | APP_TUNING_ENV


# --- the TURN relay's image (relay/entrypoint.sh, relay/README.md) -------------------------------


class RelayEnv:
    """Names of the variables relay/entrypoint.sh reads that the platform sets."""

    TURN_SECRET: Final = "TURN_SECRET"
    TURN_REALM: Final = "TURN_REALM"
    TURN_LISTEN_PORT: Final = "TURN_LISTEN_PORT"
    TURN_MIN_PORT: Final = "TURN_MIN_PORT"
    TURN_MAX_PORT: Final = "TURN_MAX_PORT"
    TURN_ALLOWED_PEER_CIDRS: Final = "TURN_ALLOWED_PEER_CIDRS"
    TURN_USER_QUOTA: Final = "TURN_USER_QUOTA"
    TURN_TOTAL_QUOTA: Final = "TURN_TOTAL_QUOTA"


#: the relay container (components/relay.py); TURN_TLS_CERT/TURN_TLS_KEY stay unset (a self-signed pair for the NLB)
RELAY: Final = Process(
    name="relay",
    command=(),
    environment=frozenset(
        {
            RelayEnv.TURN_REALM,
            RelayEnv.TURN_LISTEN_PORT,
            RelayEnv.TURN_MIN_PORT,
            RelayEnv.TURN_MAX_PORT,
            RelayEnv.TURN_ALLOWED_PEER_CIDRS,
            RelayEnv.TURN_USER_QUOTA,
            RelayEnv.TURN_TOTAL_QUOTA,
        }
    ),
    secrets=frozenset({RelayEnv.TURN_SECRET}),
    required=frozenset({RelayEnv.TURN_SECRET, RelayEnv.TURN_REALM, RelayEnv.TURN_ALLOWED_PEER_CIDRS}),
)
