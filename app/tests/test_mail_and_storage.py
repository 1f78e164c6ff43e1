"""CSRF-3: notices go through Django's email API; in production the SES v2 backend (tested against moto).
PATH-3 / USR-2: the S3 key layout and the purge of every object version."""

from __future__ import annotations

import re
import uuid
from email import message_from_bytes
from typing import Any

import boto3
import pytest
from accounts import notices
from accounts.preferences import Recipient
from core.mail import SesV2EmailBackend
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from storage import s3


@pytest.fixture
def ses(aws, settings) -> Any:
    client = boto3.client("sesv2", region_name=settings.AWS_REGION)
    client.create_email_identity(EmailIdentity="kakoi@kakoi.example")
    settings.MAILERS = {"default": {"BACKEND": "core.mail.SesV2EmailBackend", "OPTIONS": {"configuration_set": ""}}}
    return ses_backends[DEFAULT_ACCOUNT_ID][settings.AWS_REGION]


def test_csrf3_ses_backend_sends_djangos_raw_message_to_every_recipient(ses):
    """CSRF-3: the SES v2 backend sends Django's MIME message as Raw content, To, Cc and Bcc included."""
    message = EmailMessage(
        "Your kakoi password was changed",
        "Body with non-ASCII: パスワード",
        "kakoi@kakoi.example",
        ["to@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
    )
    assert mailers.default.send_messages([message]) == 1
    (sent,) = ses.sent_messages
    assert set(sent.destinations) == {"to@example.com", "cc@example.com", "bcc@example.com"}
    parsed = message_from_bytes(sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data)
    assert parsed["Subject"] == "Your kakoi password was changed"
    assert parsed["From"] == "kakoi@kakoi.example" and parsed["To"] == "to@example.com"
    assert parsed["Bcc"] is None  # Bcc travels in Destination only, never in the headers
    payload = parsed.get_payload(decode=True)
    assert isinstance(payload, bytes) and "パスワード" in payload.decode()


def test_csrf3_ses_backend_passes_the_configuration_set(aws, settings, monkeypatch):
    """CSRF-3: the configured SES configuration set (bounce/complaint events) is named on every send."""
    captured: list[dict[str, Any]] = []

    class FakeSes:
        def send_email(self, **kwargs: Any) -> dict[str, str]:
            captured.append(kwargs)
            return {"MessageId": "1"}

    backend = SesV2EmailBackend(configuration_set="kakoi-prod")
    monkeypatch.setattr(backend, "_ses", lambda: FakeSes())
    backend.send_messages([EmailMessage("s", "b", "kakoi@kakoi.example", ["x@example.com"])])
    assert captured[0]["ConfigurationSetName"] == "kakoi-prod"
    assert b"Subject: s" in captured[0]["Content"]["Raw"]["Data"]


def test_csrf3_ses_errors_are_raised_not_swallowed(ses):
    """CSRF-3: an unverified sender is an error (the notice is not silently lost)."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        mailers.default.send_messages([EmailMessage("s", "b", "unverified@elsewhere.example", ["x@example.com"])])


@pytest.mark.django_db
def test_csrf3_notices_are_sent_only_after_commit(django_capture_on_commit_callbacks):
    """CSRF-3: a notice is queued for COMMIT: nothing is mailed for a change that rolled back."""
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notices.password_changed(Recipient("someone@example.com", "en", "Asia/Tokyo"), "203.0.113.1")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notices.password_changed(Recipient("someone@example.com", "en", "Asia/Tokyo"), "203.0.113.1")
    assert [m.to for m in mail.outbox] == [["someone@example.com"]]


# --- S3 -------------------------------------------------------------------------------------


def test_path3_object_keys_are_server_generated_and_unpredictable():
    """PATH-3: keys are t/<company>/u/<user>/<128 random bits>; two keys never repeat."""
    company, user = uuid.uuid4(), uuid.uuid4()
    keys = {s3.new_object_key(company, user) for _ in range(1000)}
    assert len(keys) == 1000
    for key in keys:
        assert re.fullmatch(rf"t/{company}/u/{user}/[0-9a-f]{{32}}", key)
    with pytest.raises(ValueError):
        s3.user_prefix("../../etc", user)  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "t/", "t/not-a-uuid/", f"t/{uuid.uuid4()}", f"t/{uuid.uuid4()}/u/", "media/"])
def test_usr2_purge_refuses_anything_but_a_tenant_or_user_prefix(prefix: str):
    """USR-2: a bug cannot turn a purge into "delete the bucket": only whole tenant or user prefixes are accepted."""
    with pytest.raises(s3.UnsafePrefixError):
        s3.purge_prefix(prefix, s3=object())


def test_usr2_purge_deletes_every_version_and_marker_under_the_prefix_only(aws):
    """USR-2: in a versioned bucket, purging removes all versions and delete markers (physical deletion)."""
    bucket = settings.KAKOI_MEDIA_BUCKET
    company, user, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    mine = [s3.new_object_key(company, user) for _ in range(3)]
    theirs = s3.new_object_key(company, other)
    for key in [*mine, theirs]:
        aws.put_object(Bucket=bucket, Key=key, Body=b"1")
        aws.put_object(Bucket=bucket, Key=key, Body=b"2")
    aws.delete_object(Bucket=bucket, Key=mine[0])
    assert s3.purge_prefix(s3.user_prefix(company, user)) == 7
    listing = aws.list_object_versions(Bucket=bucket)
    remaining = {v["Key"] for v in listing.get("Versions", [])} | {m["Key"] for m in listing.get("DeleteMarkers", [])}
    assert remaining == {theirs}


def test_usr2_purge_deletes_in_batches_of_at_most_1000():
    """USR-2: DeleteObjects takes at most 1000 keys per call; larger prefixes are split."""
    prefix = f"t/{uuid.uuid4()}/"
    calls: list[int] = []

    class Paginator:
        def paginate(self, **_: Any):
            yield {
                "Versions": [{"Key": f"{prefix}{n}", "VersionId": "v"} for n in range(1500)],
                "DeleteMarkers": [{"Key": f"{prefix}x", "VersionId": "m"}],
            }

    class Client:
        def get_paginator(self, name: str) -> Paginator:
            assert name == "list_object_versions"
            return Paginator()

        def delete_objects(self, **request: Any) -> dict[str, Any]:
            calls.append(len(request["Delete"]["Objects"]))
            assert request["Delete"]["Quiet"] is True
            return {}

    assert s3.purge_prefix(prefix, bucket="b", s3=Client()) == 1501
    assert calls == [1000, 501]


def test_usr2_purge_reports_objects_s3_refused():
    """USR-2: per-object errors from DeleteObjects fail the purge (it stays queued)."""
    prefix = f"t/{uuid.uuid4()}/"

    class Client:
        def get_paginator(self, name: str) -> Any:
            return type("P", (), {"paginate": lambda self, **_: iter([{"Versions": [{"Key": prefix + "a", "VersionId": "1"}]}])})()

        def delete_objects(self, **_: Any) -> dict[str, Any]:
            return {"Errors": [{"Key": prefix + "a", "Code": "AccessDenied"}]}

    with pytest.raises(s3.PurgeError, match="AccessDenied"):
        s3.purge_prefix(prefix, bucket="b", s3=Client())
