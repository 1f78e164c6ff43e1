"""`manage.py provision_db`: ensure_db_roles, then `migrate` connected as the owner role.

This is what the migration task runs (container argument `migrate`); the web
process never migrates. The owner's password never leaves this process except
into its Secrets Manager secret.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from core import dbroles
from core.management.commands.ensure_db_roles import run

CONTROLS: dict[str, str] = {
    "SQL-3": "migrations run as kakoi_owner in a separate task; the web role never owns or alters the schema",
}


class Command(BaseCommand):
    help = "Create/update the database roles, then apply migrations as the owner role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rotate", action="store_true", help="rotate both role passwords")
        parser.add_argument("--create-database", action="store_true", help="create the database first if missing (local runs)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = run(rotate=options["rotate"], create_database=options["create_database"])
        for action in result.actions:
            self.stdout.write(f"ensure_db_roles: {action}")
        db = connections["default"]
        saved = {"USER": db.settings_dict.get("USER"), "PASSWORD": db.settings_dict.get("PASSWORD")}
        db.close()
        db.settings_dict.update(USER=dbroles.OWNER_ROLE, PASSWORD=result.owner_password)
        try:
            call_command("migrate", interactive=False, verbosity=options.get("verbosity", 1), stdout=self.stdout)
        finally:
            db.close()
            db.settings_dict.update(saved)
