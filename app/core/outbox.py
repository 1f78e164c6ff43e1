"""Send emails through the durable outbox (core.models.OutboundEmail): queued in the change's transaction,
sent after COMMIT, retried by `manage send_queued_email` when the backend failed (AVL-1: an SES outage or
throttling delays a notice, it never loses it and never undoes the change it reports)."""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core.models import OutboundEmail

CONTROLS: dict[str, str] = {
    "CSRF-3": "account notices are queued durably with the change they report and retried until sent",
}

logger = logging.getLogger(__name__)

#: queued notices older than this are given up (logged); a sign-in code is useless long before
GIVE_UP_AFTER = timedelta(days=2)


def enqueue(to: str, subject: str, body: str) -> None:
    """Queue an email in the current transaction; try to send it once that transaction has committed."""
    message = OutboundEmail.objects.create(to=to, subject=subject, body=body)
    transaction.on_commit(functools.partial(send_one, message.id), robust=True)


def send_one(message_id: uuid.UUID) -> bool:
    """Send one queued email; True when sent (its row is then deleted), False when kept for a retry."""
    with transaction.atomic():
        message = OutboundEmail.objects.select_for_update(skip_locked=True).filter(id=message_id).first()
        if message is None:
            return True  # sent meanwhile by another process
        try:
            send_mail(message.subject, message.body, None, [message.to])
        except Exception as exc:  # any backend failure (SES, SMTP, network): keep it queued
            OutboundEmail.objects.filter(id=message_id).update(attempts=message.attempts + 1, last_error=str(exc)[:2000])
            logger.warning("email %s could not be sent (attempt %d), kept for a retry: %s", message_id, message.attempts + 1, exc)
            return False
        message.delete()
        return True


def send_queued() -> tuple[int, int]:
    """Retry every queued email (oldest first); returns (sent, still queued)."""
    expired = OutboundEmail.objects.filter(created_at__lt=timezone.now() - GIVE_UP_AFTER)
    for message in expired:
        logger.error("giving up email %s to %s after %d attempts: %s", message.id, message.to, message.attempts, message.last_error)
    expired.delete()
    sent = pending = 0
    for message_id in OutboundEmail.objects.order_by("created_at").values_list("id", flat=True):
        if send_one(message_id):
            sent += 1
        else:
            pending += 1
    return sent, pending
