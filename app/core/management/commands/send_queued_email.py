"""Retry the emails the backend could not send at the time (schedule it like purge_objects)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core import outbox


class Command(BaseCommand):
    help = "Send every queued email (core.models.OutboundEmail) the email backend refused or could not be reached for."

    def handle(self, *args: Any, **options: Any) -> None:
        sent, pending = outbox.send_queued()
        self.stdout.write(f"sent {sent} queued email(s), {pending} still queued")
