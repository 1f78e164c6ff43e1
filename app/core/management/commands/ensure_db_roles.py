"""`manage.py ensure_db_roles`: create/update the owner and web roles (docs/database-roles.md).

Connects with DATABASE_MASTER_USER / DATABASE_MASTER_PASSWORD to DATABASE_HOST /
DATABASE_PORT / DATABASE_NAME (TLS as configured by DATABASE_SSLMODE /
DATABASE_SSLROOTCERT). When DB_OWNER_SECRET_ARN / DB_WEB_SECRET_ARN are set, the
passwords are kept in (and reused from) those Secrets Manager secrets.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from storage import s3

from core import dbroles

CONTROLS: dict[str, str] = {
    "SQL-3": "the roles, grants and default privileges are part of the app and re-applied before every migration",
}


def master_connection() -> dbroles.Connection:
    db = settings.DATABASES["default"]
    if not settings.KAKOI_DB_MASTER_USER:
        raise CommandError("DATABASE_MASTER_USER is not set: ensure_db_roles must run with the master credentials")
    options = db.get("OPTIONS", {})
    return dbroles.Connection(
        host=str(db.get("HOST") or "127.0.0.1"),
        port=int(db.get("PORT") or 5432),
        dbname=str(db["NAME"]),
        user=settings.KAKOI_DB_MASTER_USER,
        password=settings.KAKOI_DB_MASTER_PASSWORD,
        sslmode=str(options.get("sslmode", "prefer")),
        sslrootcert=str(options.get("sslrootcert", "")),
    )


def run(*, rotate: bool = False, create_database: bool = False) -> dbroles.RoleResult:
    arns = {
        role: arn
        for role, arn in ((dbroles.OWNER_ROLE, settings.KAKOI_DB_OWNER_SECRET_ARN), (dbroles.WEB_ROLE, settings.KAKOI_DB_WEB_SECRET_ARN))
        if arn
    }
    client = s3.client("secretsmanager") if arns else None
    return dbroles.provision(master_connection(), secret_arns=arns, secrets_client=client, rotate=rotate, create_database=create_database)


class Command(BaseCommand):
    help = "Create or update the kakoi_owner and kakoi_web database roles, their grants and their secrets (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rotate", action="store_true", help="generate new passwords even if the secrets hold some")
        parser.add_argument("--create-database", action="store_true", help="create the database first if missing (local runs)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = run(rotate=options["rotate"], create_database=options["create_database"])
        except dbroles.RoleSafetyError as exc:
            raise CommandError(str(exc)) from exc
        for action in result.actions:
            self.stdout.write(f"ensure_db_roles: {action}")
