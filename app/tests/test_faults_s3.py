"""Faults survived (AVL-1, REC-1): the S3 endpoint (a moto server of this test's own) stops while recordings
are confirmed, downloaded and deleted, then comes back on the same address.

Expected, asserted: confirming an upload answers 503 with Retry-After and leaves the recording pending (it
becomes visible only once S3 has confirmed the object); deleting a recording deletes the row and leaves a
durable purge request (no object without a row and without a queued purge); nothing answers 500; once S3 is
back, the same confirmation succeeds and `purge_objects` removes every version of the deleted object.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import Tenant
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from media.models import Recording, Status
from moto.server import ThreadedMotoServer
from storage.models import PurgeRequest
from tenancy.db import tenant_context
from test_media_upload import WAV, request_form

pytestmark = pytest.mark.django_db


class MotoEndpoint:
    """A moto S3 server on a fixed free port that can be stopped and started again (its state stays in this process)."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.server: ThreadedMotoServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MotoEndpoint, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": settings.AWS_REGION,
    }.items():
        monkeypatch.setenv(name, value)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    endpoint = MotoEndpoint()
    endpoint.start()
    s3 = boto3.client("s3", region_name=settings.AWS_REGION, endpoint_url=endpoint.url)
    s3.create_bucket(Bucket=settings.KAKOI_MEDIA_BUCKET, CreateBucketConfiguration={"LocationConstraint": settings.AWS_REGION})
    s3.put_bucket_versioning(Bucket=settings.KAKOI_MEDIA_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setattr(settings, "KAKOI_S3_ENDPOINT_URL", endpoint.url)
    try:
        yield endpoint, s3
    finally:
        endpoint.stop()


def _recording(pk: str, company_id: Any) -> Recording | None:
    with tenant_context(company_id):
        return Recording.objects.filter(pk=pk).first()


def test_avl1_s3_down_confirm_answers_503_and_delete_queues_the_purge(
    client: Client, signed_in: Any, tenant_a: Tenant, s3_endpoint: tuple[MotoEndpoint, Any]
) -> None:
    """AVL-1 / REC-1: S3 stopped: confirmation 503 + Retry-After, the recording stays pending; a deletion removes
    the row and queues the purge durably. S3 back: the confirmation succeeds, the queued purge empties the key."""
    endpoint, s3 = s3_endpoint
    signed_in(client, tenant_a.member)
    issued = request_form(client).json()
    key = issued["upload"]["fields"]["key"]
    s3.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, Body=WAV, ContentType="audio/wav")
    company_id = tenant_a.company.pk

    endpoint.stop()
    started = time.monotonic()
    response = client.post(issued["confirm_url"], "{}", content_type="application/json")
    assert response.status_code == 503, response.content
    assert response.headers["Retry-After"].isdigit()
    assert time.monotonic() - started < 15
    recording = _recording(issued["id"], company_id)
    assert recording is not None and recording.status == Status.PENDING and not recording.confirmed_at

    # A second upload, confirmed while S3 was up, is deleted while it is down.
    endpoint.start()
    back = time.monotonic()
    response = client.post(issued["confirm_url"], "{}", content_type="application/json")
    recovery = time.monotonic() - back
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["status"] in {"scanning", "ready"}
    endpoint.stop()
    response = client.post(f"/media/{issued['id']}/delete/", {"confirm": "delete"})
    assert response.status_code == 302, response.content
    assert _recording(issued["id"], company_id) is None
    queued = list(PurgeRequest.objects.filter(prefix=key))
    assert len(queued) == 1 and queued[0].attempts >= 1, queued  # tried after COMMIT, failed, kept

    endpoint.start()
    assert s3.list_object_versions(Bucket=settings.KAKOI_MEDIA_BUCKET, Prefix=key).get("Versions"), "the object is still there"
    call_command("purge_objects", verbosity=0)
    listing = s3.list_object_versions(Bucket=settings.KAKOI_MEDIA_BUCKET, Prefix=key)
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")
    assert not PurgeRequest.objects.filter(prefix=key).exists()
    print(f"\nAVL-1 S3 endpoint stopped: endpoint back -> first confirmation 200 in {recovery:.2f} s")


def test_avl1_an_unhandled_unavailable_dependency_is_503_with_retry_after_and_a_bug_stays_500(rf: Any) -> None:
    """AVL-1: core.views.server_error (handler500) answers 503 + Retry-After + the friendly page for an unreachable
    or throttling AWS endpoint and an unavailable database, wherever it was raised; any other exception stays 500."""
    from botocore.exceptions import ClientError, EndpointConnectionError
    from core.views import server_error
    from django.db import OperationalError

    request = rf.get("/")
    unavailable = [
        EndpointConnectionError(endpoint_url="https://s3.example"),
        ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "PutObject"),
        OperationalError("connection refused"),
    ]
    for error in unavailable:
        try:
            raise error
        except Exception:
            response = server_error(request)
        assert response.status_code == 503, error
        assert response.headers["Retry-After"].isdigit()
        assert "まもなく復旧します".encode() in response.content or b"Back in a moment" in response.content
    for error in (ValueError("bug"), ClientError({"Error": {"Code": "AccessDenied", "Message": "x"}}, "GetObject")):
        try:
            raise error
        except Exception:
            response = server_error(request)
        assert response.status_code == 500, error
