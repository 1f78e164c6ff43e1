"""Malware scan results as events (AV-1): GuardDuty -> EventBridge -> SQS -> `manage.py consume_scan_results`.

GuardDuty Malware Protection for S3 publishes one event per scanned object to the default
EventBridge bus, detail-type "GuardDuty Malware Protection Object Scan Result"
(https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html):

    {"source": "aws.guardduty", "detail-type": "GuardDuty Malware Protection Object Scan Result",
     "detail": {"schemaVersion": "1.0", "scanStatus": "COMPLETED", "resourceType": "S3_OBJECT",
                "s3ObjectDetails": {"bucketName": ..., "objectKey": ..., "eTag": ..., "versionId": ...,
                                    "s3Throttled": false},
                "scanResultDetails": {"scanResultStatus": "NO_THREATS_FOUND", "threats": null}}}

An EventBridge rule (components/scan_events.py) sends them to an encrypted SQS queue; the
consumer service applies each to its recording here. Page views only read the database.

* **Idempotent**: applying a result is a state change guarded by a row lock; a redelivered
  event finds the state already applied (or the row already deleted after a threat) and does
  nothing, so nobody is mailed twice.
* **Order**: GuardDuty scans an object as soon as it lands, often before the browser confirms
  the upload; the result is then stored on the PENDING row with the version it is about, and
  confirm_upload applies it if that is the version it confirms.
* **Lost events**: a recording waiting for its result has a ScanCheck row; the consumer's
  periodic sweep reads the scan tag of rows that are due (the tag carries the same result) and
  applies it; then it looks again with backoff.
* **Malformed events** raise MalformedEventError: the consumer logs them and leaves them on the
  queue, which moves them to its dead-letter queue after a few receives (alarmed).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from accounts import notices, preferences
from accounts.models import User
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from storage import s3 as storage_s3
from tenancy.db import tenant_context

from media import objects
from media.models import Recording, ScanCheck, Status
from media.service import purge_object

CONTROLS: dict[str, str] = {
    "AV-1": "scan results arrive as GuardDuty EventBridge events through SQS; the consumer records the result on the "
    "confirmed version, deletes and notifies on THREATS_FOUND, is idempotent under redelivery, sends malformed events to "
    "the dead-letter queue, and a periodic sweep reads the scan tag when an event was lost; page views read only the database",
}

logger = logging.getLogger(__name__)

DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"
SOURCE = "aws.guardduty"
MAX_BODY_BYTES = 256 * 1024  # SQS's message size limit


class MalformedEventError(ValueError):
    """Not a scan result event this consumer can apply (wrong shape, wrong bucket, unknown key layout)."""


@dataclass(frozen=True)
class ScanEvent:
    bucket: str
    key: str
    version_id: str
    result: str
    event_id: str


def _field(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, dict) or name not in data:
            raise MalformedEventError(f"missing {'.'.join(path)}")
        data = data[name]
    return data


def _text(data: Any, *path: str, required: bool = True) -> str:
    try:
        value = _field(data, *path)
    except MalformedEventError:
        if required:
            raise
        return ""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > 1024:
        raise MalformedEventError(f"{'.'.join(path)} is not a non-empty string")
    return value


def parse_event(body: str | bytes) -> ScanEvent:
    """The SQS message body (the EventBridge event, as the rule's target delivers it) -> ScanEvent."""
    if len(body) > MAX_BODY_BYTES:
        raise MalformedEventError("message too large")
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedEventError(f"not JSON: {exc.__class__.__name__}") from None
    if _text(event, "source") != SOURCE or _text(event, "detail-type") != DETAIL_TYPE:
        raise MalformedEventError("not a GuardDuty Malware Protection object scan result")
    resource_type = _text(event, "detail", "resourceType", required=False)
    if resource_type and resource_type != "S3_OBJECT":
        raise MalformedEventError(f"resourceType {resource_type!r}")
    bucket = _text(event, "detail", "s3ObjectDetails", "bucketName")
    if bucket != settings.KAKOI_MEDIA_BUCKET:
        raise MalformedEventError(f"bucket {bucket!r} is not the media bucket")
    key = _text(event, "detail", "s3ObjectDetails", "objectKey")
    if storage_s3.company_of_key(key) is None:
        raise MalformedEventError("the object key is not a recording key")
    version = _text(event, "detail", "s3ObjectDetails", "versionId", required=False)
    result = _text(event, "detail", "scanResultDetails", "scanResultStatus")
    return ScanEvent(
        bucket=bucket,
        key=key,
        version_id="" if version == "null" else version,
        result=result,
        event_id=_text(event, "id", required=False),
    )


# --- applying a result -------------------------------------------------------------------------


def _notify_threat(recording: Recording) -> None:
    owner = User.objects.filter(pk=recording.owner_id).first()
    if owner is None:
        return
    notices.recording_removed(preferences.recipient(owner), recording.display_name)


def apply_result(recording: Recording, result: str) -> str:
    """Apply a scan result of the recording's confirmed version (row locked by the caller); returns what happened."""
    if result == objects.THREATS_FOUND:
        logger.warning("malware found in recording %s of company %s: deleting it", recording.pk, recording.company_id)
        _notify_threat(recording)
        purge_object(recording)
        ScanCheck.objects.filter(object_key=recording.object_key).delete()
        recording.delete()
        return "threat-removed"
    if result == objects.NO_THREATS_FOUND:
        if recording.status == Status.READY and recording.scan_result == result:
            return "duplicate"
        recording.status, recording.scan_result, recording.ready_at = Status.READY, result, timezone.now()
        recording.save(update_fields=["status", "scan_result", "ready_at"])
        ScanCheck.objects.filter(object_key=recording.object_key).delete()
        return "ready"
    if result in objects.SCAN_RESULTS:  # UNSUPPORTED, ACCESS_DENIED, FAILED: never downloadable, may be rescanned
        if recording.status == Status.READY:
            return "duplicate"  # a clean result of this version was applied already; a later failure changes nothing
        if recording.status == Status.NOT_SCANNED and recording.scan_result == result:
            return "duplicate"
        recording.status, recording.scan_result = Status.NOT_SCANNED, result
        recording.save(update_fields=["status", "scan_result"])
        ScanCheck.objects.filter(object_key=recording.object_key).delete()
        return "not-scanned"
    logger.error("unknown scan result %r for recording %s: left waiting (not downloadable)", result, recording.pk)
    return "unknown-result"


def record_event(event: ScanEvent) -> str:
    """Apply one scan event, in its own transaction under the recording's tenant; returns the outcome."""
    company_id = storage_s3.company_of_key(event.key)
    if company_id is None:  # parse_event refuses such keys; a hand-made ScanEvent may not
        raise MalformedEventError("the object key is not a recording key")
    with tenant_context(company_id):
        recording = Recording.objects.select_for_update().filter(company_id=company_id, object_key=event.key).first()
        if recording is None:
            return "no-recording"  # deleted (by its owner, or after a threat: a redelivery), or never confirmed
        if recording.status == Status.PENDING:
            if event.result == objects.THREATS_FOUND:
                return apply_result(recording, event.result)
            # before the confirmation: keep it for confirm_upload, with the version it is about
            recording.scan_result, recording.scanned_version_id = event.result, event.version_id
            recording.save(update_fields=["scan_result", "scanned_version_id"])
            return "stored-before-confirmation"
        if event.version_id != recording.version_id:
            # another version of the key (the form re-used after confirmation): never what is served
            logger.info(
                "scan result for version %r of recording %s ignored (confirmed %r)", event.version_id, recording.pk, recording.version_id
            )
            return "other-version"
        return apply_result(recording, event.result)


def start_waiting(recording: Recording) -> Recording | None:
    """A recording was just confirmed (SCANNING): apply a result that arrived first, else queue it for the sweep."""
    early = recording.scan_result
    if early and recording.scanned_version_id == recording.version_id:
        return None if apply_result(recording, early) == "threat-removed" else recording
    due = timezone.now() + timedelta(seconds=int(settings.MEDIA_SCAN_SWEEP_AFTER_SECONDS))
    ScanCheck.objects.update_or_create(object_key=recording.object_key, defaults={"due_at": due, "attempts": 0})
    return recording


# --- the reconciliation sweep ------------------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, int(settings.MEDIA_SCAN_SWEEP_AFTER_SECONDS) * 2 ** min(attempts, 10)))


def sweep(*, limit: int = 200) -> dict[str, int]:
    """Read the scan tag of recordings whose result is overdue (a lost event) and apply it; returns outcome counts."""
    outcomes: dict[str, int] = {}
    now = timezone.now()
    due = list(ScanCheck.objects.filter(due_at__lte=now).order_by("due_at").values_list("object_key", flat=True)[:limit])
    for key in due:
        outcome = _sweep_one(key)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if due:
        logger.info("scan sweep: %s", outcomes)
    return outcomes


def _sweep_one(key: str) -> str:
    company_id = storage_s3.company_of_key(key)
    with transaction.atomic():
        check = ScanCheck.objects.select_for_update(skip_locked=True).filter(object_key=key).first()
        if check is None:
            return "taken"
        if company_id is None:
            check.delete()
            return "bad-key"
        with tenant_context(company_id):
            recording = Recording.objects.select_for_update().filter(company_id=company_id, object_key=key).first()
            if recording is None or recording.status not in (Status.SCANNING,):
                check.delete()
                return "done"
            try:
                result = objects.scan_result(recording.object_key, recording.version_id)
            except (BotoCoreError, ClientError) as exc:
                logger.warning("sweep: reading the scan tag of %s failed: %s", recording.pk, exc)
                result = ""
            if result:
                outcome = apply_result(recording, result)
                if outcome == "unknown-result":
                    result = ""
                else:
                    return f"applied-{outcome}"
            check.attempts += 1
            check.due_at = timezone.now() + _backoff(check.attempts)
            check.save(update_fields=["attempts", "due_at"])
            return "still-waiting"
