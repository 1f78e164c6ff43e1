"""The scan-result consumer (AV-1, issue 12 finding 8) against moto's SQS, with events in GuardDuty's documented shape
(tests/scanevents.py): results applied, redelivery harmless, malformed events dead-lettered, lost events swept up."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
import scanevents
from conftest import Tenant
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from media import objects, scans
from media.management.commands.consume_scan_results import Consumer
from media.models import Recording, ScanCheck, Status
from tenancy.db import tenant_context
from test_media_upload import confirm, upload, uploaded, versions

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(aws: Any) -> dict[str, str]:
    """The scan queue with its dead-letter queue (maxReceiveCount 2, redelivered at once), as components/scan_events.py."""
    sqs = boto3.client("sqs", region_name=settings.AWS_REGION)
    dlq = sqs.create_queue(QueueName="scan-results-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="scan-results",
        Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})},
    )["QueueUrl"]
    return {"url": url, "dlq": dlq}


def send(queue: dict[str, str], body: str) -> None:
    boto3.client("sqs", region_name=settings.AWS_REGION).send_message(QueueUrl=queue["url"], MessageBody=body)


def depth(url: str) -> int:
    attributes = boto3.client("sqs", region_name=settings.AWS_REGION).get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def consume(queue: dict[str, str], django_capture_on_commit_callbacks: Any) -> Consumer:
    consumer = Consumer(queue["url"], wait_seconds=0)
    with django_capture_on_commit_callbacks(execute=True):
        while consumer.poll_once():
            pass
    return consumer


def reload(recording: Recording) -> Recording | None:
    with tenant_context(recording.company_id):
        return Recording.objects.filter(pk=recording.pk).first()


def fresh(recording: Recording) -> Recording:
    found = reload(recording)
    assert found is not None, "the recording was deleted"
    return found


@pytest.fixture
def scanning(client: Any, signed_in: Any, tenant_a: Tenant, aws: Any) -> Recording:
    signed_in(client, tenant_a.member)
    recording = uploaded(client, aws, name="meeting.wav")
    assert recording.status == Status.SCANNING
    return recording


def test_av1_a_clean_result_event_makes_the_recording_ready(client, scanning, queue, django_capture_on_commit_callbacks):
    """AV-1: NO_THREATS_FOUND for the confirmed version: READY, downloadable, off the sweep queue, message deleted."""
    send(queue, scanevents.body(scanning.object_key, objects.NO_THREATS_FOUND, scanning.version_id))
    consumer = consume(queue, django_capture_on_commit_callbacks)
    assert consumer.counts == {"ready": 1}
    assert fresh(scanning).status == Status.READY
    assert not ScanCheck.objects.filter(object_key=scanning.object_key).exists()
    assert depth(queue["url"]) == 0
    assert client.get(reverse("media:download", args=[scanning.pk])).status_code == 302


def test_av1_redelivered_events_are_harmless(client, scanning, queue, aws, django_capture_on_commit_callbacks):
    """AV-1: the same clean event twice changes nothing the second time; a threat event delivered three times deletes
    the recording and its object once and mails the uploader once."""
    clean = scanevents.body(scanning.object_key, objects.NO_THREATS_FOUND, scanning.version_id)
    send(queue, clean)
    send(queue, clean)
    assert consume(queue, django_capture_on_commit_callbacks).counts == {"ready": 1, "duplicate": 1}
    ready_at = fresh(scanning).ready_at

    other = uploaded(client, aws, name="infected.wav")
    mail.outbox.clear()
    threat = scanevents.body(other.object_key, objects.THREATS_FOUND, other.version_id)
    for _ in range(3):
        send(queue, threat)
    assert consume(queue, django_capture_on_commit_callbacks).counts == {"threat-removed": 1, "no-recording": 2}
    assert reload(other) is None and versions(aws, other.object_key) == []
    (notice,) = mail.outbox
    assert notice.to == [scanning.owner.email] and "infected.wav" in notice.body
    assert fresh(scanning).ready_at == ready_at
    assert depth(queue["url"]) == 0


def test_av1_malformed_events_go_to_the_dead_letter_queue(scanning, queue, django_capture_on_commit_callbacks, caplog):
    """AV-1: bodies that are not scan results (not JSON, deep JSON, another detail-type, another bucket, a foreign key,
    a missing status) are logged, never applied, never crash the consumer, and end in the DLQ after 2 receives."""
    bad = [
        "not json",
        "[" * 5000 + "]" * 5000,
        json.dumps({**scanevents.event(scanning.object_key, "NO_THREATS_FOUND"), "detail-type": "GuardDuty Finding"}),
        scanevents.body(scanning.object_key, objects.NO_THREATS_FOUND, scanning.version_id, bucket="someone-elses-bucket"),
        scanevents.body("uploads/../../etc/passwd", objects.NO_THREATS_FOUND),
        json.dumps({"source": "aws.guardduty", "detail-type": scans.DETAIL_TYPE, "detail": {"s3ObjectDetails": {}}}),
    ]
    for body in bad:
        send(queue, body)
    consumer = Consumer(queue["url"], wait_seconds=0)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(6):
            consumer.poll_once()
    assert consumer.counts == {"malformed": 2 * len(bad)}
    assert depth(queue["url"]) == 0 and depth(queue["dlq"]) == len(bad)
    assert fresh(scanning).status == Status.SCANNING
    assert "malformed scan event" in caplog.text


def test_av1_a_database_error_is_retried_not_fatal(scanning, queue, monkeypatch):
    """AV-1: an error while applying leaves the message on the queue (redelivered later); the consumer carries on."""

    def broken(_event: Any) -> str:
        raise DatabaseError("connection lost")

    monkeypatch.setattr(scans, "record_event", broken)
    send(queue, scanevents.body(scanning.object_key, objects.NO_THREATS_FOUND, scanning.version_id))
    consumer = Consumer(queue["url"], wait_seconds=0)
    consumer.poll_once()
    assert consumer.counts == {"retry": 1} and depth(queue["url"]) == 1


def test_av1_a_result_for_another_version_is_ignored(client, scanning, queue, aws, django_capture_on_commit_callbacks):
    """AV-1 / PATH-1: a version written later under the same key (the form re-used) never unlocks the confirmed one."""
    replaced = aws.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=scanning.object_key, Body=b"MZ", ContentType="audio/wav")
    send(queue, scanevents.body(scanning.object_key, objects.NO_THREATS_FOUND, replaced["VersionId"]))
    assert consume(queue, django_capture_on_commit_callbacks).counts == {"other-version": 1}
    assert fresh(scanning).status == Status.SCANNING


def test_av1_a_result_that_arrives_before_the_confirmation_is_applied_by_it(
    client, signed_in, tenant_a, aws, queue, django_capture_on_commit_callbacks
):
    """AV-1: GuardDuty often scans before the browser confirms: the result is kept with its version and the
    confirmation applies it (READY at once, nothing left for the sweep)."""
    signed_in(client, tenant_a.member)
    issued = upload(client, aws)
    key = issued["upload"]["fields"]["key"]
    send(queue, scanevents.body(key, objects.NO_THREATS_FOUND, scanevents.current_version(aws, key)))
    assert consume(queue, django_capture_on_commit_callbacks).counts == {"stored-before-confirmation": 1}
    assert confirm(client, issued).json()["status"] == "ready"
    assert not ScanCheck.objects.filter(object_key=key).exists()


def test_av1_the_sweep_finds_results_whose_event_was_lost(client, scanning, aws, django_capture_on_commit_callbacks, settings):
    """AV-1: no event came (lost): once due, the sweep reads the version's scan tag and applies it; still untagged
    recordings are looked at again later (backoff), and a threat found this way is removed and reported."""
    assert scans.sweep() == {}  # not due yet
    ScanCheck.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert scans.sweep() == {"still-waiting": 1}  # no tag yet
    check = ScanCheck.objects.get(object_key=scanning.object_key)
    assert check.attempts == 1 and check.due_at > timezone.now() + timedelta(seconds=settings.MEDIA_SCAN_SWEEP_AFTER_SECONDS)
    aws.put_object_tagging(
        Bucket=settings.KAKOI_MEDIA_BUCKET,
        Key=scanning.object_key,
        VersionId=scanning.version_id,
        Tagging={"TagSet": [{"Key": objects.SCAN_TAG, "Value": objects.NO_THREATS_FOUND}]},
    )
    ScanCheck.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert scans.sweep() == {"applied-ready": 1}
    assert fresh(scanning).status == Status.READY and not ScanCheck.objects.exists()

    infected = uploaded(client, aws, name="lost-threat.wav")
    aws.put_object_tagging(
        Bucket=settings.KAKOI_MEDIA_BUCKET,
        Key=infected.object_key,
        Tagging={"TagSet": [{"Key": objects.SCAN_TAG, "Value": objects.THREATS_FOUND}]},
    )
    ScanCheck.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert scans.sweep() == {"applied-threat-removed": 1}
    assert reload(infected) is None and len(mail.outbox) == 1


def test_av1_the_command_consumes_once_and_needs_a_queue(scanning, queue, settings, capsys, django_capture_on_commit_callbacks):
    """AV-1: `manage.py consume_scan_results --once` applies what is queued; without a queue URL it says what is missing."""
    send(queue, scanevents.body(scanning.object_key, objects.NO_THREATS_FOUND, scanning.version_id))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("consume_scan_results", "--once", "--wait-seconds", "0", "--queue-url", queue["url"])
    assert "'ready': 1" in capsys.readouterr().out
    assert fresh(scanning).status == Status.READY
    settings.KAKOI_SCAN_QUEUE_URL = ""
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="KAKOI_SCAN_QUEUE_URL"):
        call_command("consume_scan_results", "--once")


def test_av1_a_threat_found_before_the_confirmation_removes_the_upload(
    client, signed_in, tenant_a, aws, queue, django_capture_on_commit_callbacks
):
    """AV-1: a THREATS_FOUND event for an upload not yet confirmed deletes it at once; the confirmation then finds nothing."""
    signed_in(client, tenant_a.member)
    issued = upload(client, aws)
    key = issued["upload"]["fields"]["key"]
    send(queue, scanevents.body(key, objects.THREATS_FOUND, scanevents.current_version(aws, key)))
    assert consume(queue, django_capture_on_commit_callbacks).counts == {"threat-removed": 1}
    assert versions(aws, key) == []
    assert confirm(client, issued).status_code == 404


def test_av1_the_consumer_does_not_receive_while_the_database_is_down(monkeypatch):
    """AV-1: during a database failover the loop waits instead of receiving (each receive counts towards the DLQ)."""
    from django.db import OperationalError, connection
    from media.management.commands import consume_scan_results

    assert consume_scan_results.database_ready() is True

    def down() -> None:
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr(connection, "ensure_connection", down)
    assert consume_scan_results.database_ready() is False
