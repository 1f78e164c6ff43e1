"""Retry queued S3 purges (run on a schedule; a no-op when the queue is empty)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from storage.purge import run_pending


class Command(BaseCommand):
    help = "Delete from S3 every object under the prefixes queued by account deletions that could not be purged yet."

    def handle(self, *args: Any, **options: Any) -> None:
        done, failed = run_pending()
        self.stdout.write(f"purged {done} prefix(es), {failed} still pending")
        if failed:
            raise CommandError(f"{failed} purge(s) failed; they stay queued")
