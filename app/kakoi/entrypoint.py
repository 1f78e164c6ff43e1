"""The container's entrypoint (`python -m kakoi.entrypoint <command>`), without any shell.

  web (default)    gunicorn (uvicorn workers) serving kakoi.asgi (HTTP + WebSocket), started in this process (no exec, no shell)
  migrate          with DATABASE_MASTER_USER set (the db-provision task): ensure_db_roles, then
                   migrate as kakoi_owner (`provision_db`; `migrate --rotate` rotates the role
                   passwords); without it (the service's migrate container, connected as
                   kakoi_owner): plain `migrate`
  manage <cmd>     one of a short allow-list of management commands (purge_objects,
                   consume_scan_results, send_queued_email, check)

The web command never migrates. The command is published to the settings as KAKOI_COMMAND
(kakoi/contract.py): only `web` serves live calls, so only it requires the relay's URLs and secret.
"""

from __future__ import annotations

import os
import sys

from kakoi import contract

CONTROLS: dict[str, str] = {
    "CMD-1": "the entrypoint starts gunicorn and management commands in-process: no shell, no subprocess, no exec",
    "SQL-3": "the web command never runs migrations; migrations run in a separate task as kakoi_owner",
}

USAGE = (
    "usage: python -m kakoi.entrypoint [web | migrate [--rotate] | manage {purge_objects,consume_scan_results,send_queued_email,check} ...]"
)
MANAGE_ALLOWED = frozenset({"purge_objects", "consume_scan_results", "send_queued_email", "check"})


def _django() -> None:
    import django

    django.setup()


def web() -> int:
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = ["gunicorn", "--config", "python:kakoi.gunicorn_conf", "kakoi.asgi:application"]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return 0


def migrate(args: list[str]) -> int:
    # A migration may rewrite a table for longer than a web request may run: no statement or lock timeout
    # for it (the web process keeps its fail-fast ones, kakoi/settings/base.py).
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    os.environ.setdefault("DATABASE_LOCK_TIMEOUT_MS", "0")
    _django()
    from core.dbroles import OWNER_ROLE
    from django.conf import settings
    from django.core.management import call_command

    if settings.KAKOI_DB_MASTER_USER:
        call_command("provision_db", *args)
        return 0
    if args:
        print("migrate takes options only in the db-provision task (DATABASE_MASTER_USER set)", file=sys.stderr)
        return 2
    if settings.DATABASES["default"]["USER"] != OWNER_ROLE:
        print(f"refusing to migrate as {settings.DATABASES['default']['USER']!r}: migrations run as {OWNER_ROLE}", file=sys.stderr)
        return 2
    call_command("migrate", interactive=False)
    return 0


def manage(args: list[str]) -> int:
    if not args or args[0] not in MANAGE_ALLOWED:
        print(USAGE, file=sys.stderr)
        return 2
    _django()
    from django.core.management import call_command

    call_command(*args)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault(contract.Env.DJANGO_SETTINGS_MODULE, contract.PRODUCTION_SETTINGS)
    command, rest = (args[0], args[1:]) if args else (contract.COMMAND_WEB, [])
    if command in contract.COMMANDS:
        # set, not defaulted: the settings must know what this process is, whatever its environment says
        os.environ[contract.Env.KAKOI_COMMAND] = command
    if command == "web" and not rest:
        return web()
    if command == "migrate":
        return migrate(rest)
    if command == "manage":
        return manage(rest)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
