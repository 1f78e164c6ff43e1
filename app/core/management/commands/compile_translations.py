"""Compile the translation catalogues (locale/<lang>/LC_MESSAGES/*.po -> .mo) with polib.

Django's own `compilemessages` needs GNU gettext's msgfmt, which the container image does not
have (no apt packages in the build, no shell); polib is pure Python. Run in the image build,
by the test suite (app/tests/conftest.py) and by `make app`. Fuzzy and untranslated entries are
left out of the .mo, as msgfmt does; app/tests/test_i18n.py fails when there are any.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogues() -> list[Path]:
    return sorted(po for base in settings.LOCALE_PATHS for po in Path(base).glob("*/LC_MESSAGES/*.po"))


def compile_catalogue(po_path: Path) -> tuple[Path, int]:
    """Write the .mo next to the .po; the number of translated messages in it."""
    try:
        catalogue = polib.pofile(str(po_path), check_for_duplicates=True)
    except (OSError, ValueError) as exc:
        raise CommandError(f"{po_path}: {exc}") from exc
    mo_path = po_path.with_suffix(".mo")
    partial = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.tmp")
    catalogue.save_as_mofile(str(partial))
    os.replace(partial, mo_path)  # atomic: a process reading the catalogue never sees half a file
    return mo_path, len(catalogue.translated_entries())


def compile_all(*, only_stale: bool = False) -> list[tuple[Path, int]]:
    done = []
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if only_stale and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        done.append(compile_catalogue(po_path))
    return done


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files (pure Python, no gettext tools needed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--stale", action="store_true", help="only catalogues whose .mo is missing or older than the .po")

    def handle(self, *args: Any, **options: Any) -> None:
        if not catalogues():
            raise CommandError(f"no .po files under {', '.join(str(p) for p in settings.LOCALE_PATHS)}")
        for mo_path, count in compile_all(only_stale=options["stale"]):
            self.stdout.write(f"compiled {mo_path} ({count} messages)")
