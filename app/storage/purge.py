"""Purging S3 after the deletion of rows has committed (never before: a rollback must not lose media)."""

from __future__ import annotations

import functools
import logging
import uuid

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction

from storage import s3
from storage.models import PurgeRequest

CONTROLS: dict[str, str] = {
    "USR-2": "objects are purged in transaction.on_commit; a durable PurgeRequest row makes failures retryable",
}

logger = logging.getLogger(__name__)


def schedule_purge(prefix: str) -> PurgeRequest:
    """Record the purge in the current transaction and run it once that transaction has committed."""
    if not s3.is_purgeable(prefix):
        raise s3.UnsafePrefixError(f"refusing to schedule a purge of {prefix!r}")
    request = PurgeRequest.objects.create(prefix=prefix)
    transaction.on_commit(functools.partial(run_purge, request.id), robust=True)
    return request


def run_purge(request_id: uuid.UUID) -> bool:
    """Purge one queued prefix; True when done (the queue row is then deleted)."""
    request = PurgeRequest.objects.filter(id=request_id).first()
    if request is None:
        return True
    try:
        count = s3.purge_prefix(request.prefix)
    except (BotoCoreError, ClientError, s3.PurgeError) as exc:
        PurgeRequest.objects.filter(id=request_id).update(attempts=request.attempts + 1, last_error=str(exc)[:2000])
        logger.warning("S3 purge of %s failed (attempt %d), will be retried: %s", request.prefix, request.attempts + 1, exc)
        return False
    PurgeRequest.objects.filter(id=request_id).delete()
    logger.info("purged %d object version(s) under %s", count, request.prefix)
    return True


def run_pending() -> tuple[int, int]:
    """Retry every queued purge; returns (done, failed)."""
    done = failed = 0
    for request_id in PurgeRequest.objects.order_by("created_at").values_list("id", flat=True):
        if run_purge(request_id):
            done += 1
        else:
            failed += 1
    return done, failed
