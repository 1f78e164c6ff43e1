"""Recordings over HTTP, with moto standing in for S3: upload form, confirmation, malware gate, download,
rename, delete (PATH-1, PATH-3, AV-1, ENC-1, XSS-1, CSRF-1, CJ-3, USR-2).

The browser's POST to S3 is played here by put_object with the same key, type and bytes (the real
presigned POST from a browser is exercised in browser/test_media_browser.py against a moto server).
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import scanevents
from conftest import Tenant
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from media import objects
from media.models import Recording, Status
from storage import s3 as storage_s3
from storage.models import PurgeRequest
from tenancy.db import tenant_context
from test_media_formats import wav_bytes

pytestmark = pytest.mark.django_db

WAV = wav_bytes()


def request_form(client: Client, name: str = "meeting.wav", content_type: str = "audio/wav", size: int | None = None) -> Any:
    body = {"name": name, "type": content_type, "size": len(WAV) if size is None else size}
    return client.post(reverse("media:upload-form"), json.dumps(body), content_type="application/json")


def find(pk: Any, company_id: Any) -> Recording | None:
    """The recording as the database has it now (read inside its tenant, as RLS requires)."""
    with tenant_context(company_id):
        return Recording.objects.filter(pk=pk).first()


def reload(recording: Recording) -> Recording | None:
    return find(recording.pk, recording.company_id)


def recordings_of(tenant: Tenant) -> list[Recording]:
    with tenant_context(tenant.company.pk):
        return list(Recording.objects.all())


def versions(aws: Any, key: str) -> list[dict[str, Any]]:
    listing = aws.list_object_versions(Bucket=settings.KAKOI_MEDIA_BUCKET, Prefix=key)
    return [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]


def tag(aws: Any, key: str, value: str, version_id: str | None = None) -> None:
    """What GuardDuty Malware Protection for S3 does after a scan: tag the version and publish the event (tests/scanevents.py)."""
    scanevents.scanned(aws, key, value, version_id)


def upload(
    client: Client, aws: Any, body: bytes = WAV, content_type: str = "audio/wav", stored_type: str | None = None, **form: Any
) -> dict:
    """Ask for a form, then store the object as the browser's POST would (same key)."""
    response = request_form(client, content_type=content_type, size=len(body), **form)
    assert response.status_code == 201, response.content
    issued = response.json()
    key = issued["upload"]["fields"]["key"]
    aws.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, Body=body, ContentType=stored_type or content_type)
    return issued


def confirm(client: Client, issued: dict) -> Any:
    return client.post(issued["confirm_url"], "{}", content_type="application/json")


def uploaded(client: Client, aws: Any, **kwargs: Any) -> Recording:
    issued = upload(client, aws, **kwargs)
    response = confirm(client, issued)
    assert response.status_code == 200, response.content
    company_id = issued["upload"]["fields"]["key"].split("/")[1]
    recording = find(issued["id"], company_id)
    assert recording is not None
    return recording


@pytest.fixture
def member(client: Client, signed_in, tenant_a: Tenant) -> Tenant:
    signed_in(client, tenant_a.member)
    return tenant_a


# --- the upload form ---------------------------------------------------------------------------


def test_path3_upload_form_key_is_server_generated_and_pinned(client, member: Tenant, aws):
    """PATH-3: the key is <tenant>/<user>/<128 random bits>, never the file name, and the signed policy pins it,
    the exact Content-Type, the exact size and a 5-minute expiry (ENC-1: the URL is the https regional endpoint)."""
    before = time.time()
    response = request_form(client, name="../../etc/passwd.wav")
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    issued = response.json()
    fields = issued["upload"]["fields"]
    key = fields["key"]
    assert storage_s3.OBJECT_KEY.fullmatch(key)
    assert key.startswith(storage_s3.user_prefix(member.company.pk, member.member.pk))
    assert "passwd" not in key and ".." not in key
    assert issued["upload"]["url"].rstrip("/") == "https://kakoi-test-media.s3.ap-northeast-1.amazonaws.com"
    assert fields["Content-Type"] == "audio/wav"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["eq", "$Content-Type", "audio/wav"] in conditions
    assert ["content-length-range", len(WAV), len(WAV)] in conditions
    assert {"key": key} in conditions and {"bucket": settings.KAKOI_MEDIA_BUCKET} in conditions
    assert not any("starts-with" in str(c) or "${filename}" in str(c) for c in conditions)
    expires = time.mktime(time.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 290 <= expires <= time.time() + 301
    (recording,) = recordings_of(member)
    assert (recording.status, recording.object_key, recording.size_bytes, recording.display_name) == (
        Status.PENDING,
        key,
        len(WAV),
        "passwd.wav",
    )
    # a pending recording is not listed and has no page
    assert "passwd.wav" not in client.get(reverse("media:list")).content.decode()
    assert client.get(reverse("media:detail", args=[recording.pk])).status_code == 404


@pytest.mark.parametrize(
    ("content_type", "size", "status"),
    [
        ("text/html", 100, 400),
        ("audio/wav; codecs=1", 100, 400),
        ("AUDIO/WAV", 100, 400),
        (" audio/wav", 100, 400),
        ("audio/wav\n", 100, 400),
        ("application/octet-stream", 100, 400),
        ("audio/wav", 0, 400),
        ("audio/wav", -1, 400),
        ("audio/wav", 1024**3 + 1, 413),
    ],
)
def test_path1_upload_form_refuses_other_types_and_sizes(client, member: Tenant, aws, content_type: str, size: int, status: int):
    """PATH-1: only allow-listed types and 1..MEDIA_MAX_UPLOAD_BYTES bytes get a form; nothing is written otherwise."""
    response = request_form(client, content_type=content_type, size=size)
    assert response.status_code == status
    assert response.json()["error"]
    assert recordings_of(member) == []


def test_path1_upload_form_limits_unfinished_uploads(client, member: Tenant, aws, settings):
    """PATH-1: at most MEDIA_MAX_PENDING_UPLOADS unconfirmed forms per user; abandoned ones expire and are purged."""
    settings.MEDIA_MAX_PENDING_UPLOADS = 2
    first = request_form(client).json()
    request_form(client)
    assert request_form(client).status_code == 429
    aws.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=first["upload"]["fields"]["key"], Body=WAV, ContentType="audio/wav")
    with tenant_context(member.company.pk):
        Recording.objects.filter(pk=first["id"]).update(created_at=Recording.objects.get(pk=first["id"]).created_at - timedelta_hours(2))
    assert request_form(client).status_code == 201
    assert find(first["id"], member.company.pk) is None
    assert versions(aws, first["upload"]["fields"]["key"]) == []


def timedelta_hours(hours: int) -> Any:
    from datetime import timedelta

    return timedelta(hours=hours)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'"x"',
        b"{",
        b'{"type": "audio/wav", "size": "12"}',
        b'{"type": 1, "size": 12}',
        b'{"type": "audio/wav", "size": true}',
        b"\xff\xfe",
    ],
)
def test_path1_upload_form_refuses_malformed_json(client, member: Tenant, aws, body: bytes):
    """PATH-1: malformed requests get a 4xx JSON error, never a form or a row."""
    response = client.post(reverse("media:upload-form"), body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    assert recordings_of(member) == []


def test_csrf1_upload_api_needs_post_and_the_csrf_token(csrf_client, signed_in, tenant_a: Tenant, aws):
    """CSRF-1: the upload form and confirmation are POST-only and refuse requests without the CSRF token."""
    signed_in(csrf_client, tenant_a.member)
    assert csrf_client.get(reverse("media:upload-form")).status_code == 405
    body = json.dumps({"name": "a.wav", "type": "audio/wav", "size": 10})
    assert csrf_client.post(reverse("media:upload-form"), body, content_type="application/json").status_code == 403
    assert recordings_of(tenant_a) == []


def test_ses4_recordings_need_a_session(client, tenant_a: Tenant):
    """SES-4 / CJ-2: without a session every recordings URL redirects to the login page."""
    for url in (reverse("media:list"), reverse("media:upload-form")):
        response = client.get(url) if url.endswith("media/") else client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# --- confirmation --------------------------------------------------------------------------------


def test_av1_confirmed_upload_is_listed_as_scanning_and_not_downloadable(client, member: Tenant, aws):
    """AV-1: a good upload appears at once, as being scanned; its download answers 409 until the scan is clean."""
    issued = upload(client, aws, name="Board meeting.wav")
    response = confirm(client, issued)
    assert response.status_code == 200
    assert response.json()["status"] == "scanning" and response.json()["downloadable"] is False
    recording = find(issued["id"], member.company.pk)
    assert recording is not None and recording.version_id  # the bucket is versioned: the confirmed version is pinned
    page = client.get(reverse("media:list")).content.decode()
    assert "Board meeting.wav" in page and "Being scanned for malware" in page
    assert reverse("media:download", args=[recording.pk]) not in page
    assert client.get(reverse("media:download", args=[recording.pk])).status_code == 409
    assert confirm(client, issued).json()["status"] == "scanning"  # confirming twice changes nothing


def test_av1_clean_scan_makes_it_downloadable_with_a_short_presigned_get(client, member: Tenant, aws):
    """AV-1 / ENC-1 / PATH-1: NO_THREATS_FOUND makes it downloadable: a 302 to a 60-second presigned GET of the
    confirmed version on the https S3 endpoint, saved as an attachment under the display name."""
    recording = uploaded(client, aws, name="会議 1.wav")
    tag(aws, recording.object_key, objects.NO_THREATS_FOUND)
    status = client.get(reverse("media:status", args=[recording.pk])).json()
    assert status == {**status, "status": "ready", "downloadable": True}
    response = client.get(reverse("media:download", args=[recording.pk]))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == "https://kakoi-test-media.s3.ap-northeast-1.amazonaws.com"
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["60"]
    assert query["versionId"] == [recording.version_id]
    assert query["response-content-disposition"] == ["attachment; filename*=UTF-8''%E4%BC%9A%E8%AD%B0%201.wav"]
    assert unquote(location.path).lstrip("/") == recording.object_key
    assert "Download" in client.get(reverse("media:list")).content.decode()


def test_av1_the_download_is_always_the_confirmed_version(client, member: Tenant, aws):
    """AV-1 / PATH-1: re-using the (5-minute) form after confirmation writes a new version, which is never served:
    the scan result and the download both refer to the version the app checked."""
    recording = uploaded(client, aws)
    original = recording.version_id
    replaced = aws.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=recording.object_key, Body=b"MZ evil", ContentType="audio/wav")
    tag(aws, recording.object_key, objects.NO_THREATS_FOUND, version_id=replaced["VersionId"])
    assert client.get(reverse("media:status", args=[recording.pk])).json()["status"] == "scanning"
    tag(aws, recording.object_key, objects.NO_THREATS_FOUND, version_id=original)
    assert client.get(reverse("media:status", args=[recording.pk])).json()["status"] == "ready"
    location = client.get(reverse("media:download", args=[recording.pk]))["Location"]
    assert parse_qs(urlsplit(location).query)["versionId"] == [original]


def test_av1_threat_found_deletes_object_and_row_and_tells_the_uploader(client, member: Tenant, aws):
    """AV-1: THREATS_FOUND removes every version of the object and the row, and emails the uploader."""
    recording = uploaded(client, aws, name="infected.wav")
    mail.outbox.clear()
    tag(aws, recording.object_key, objects.THREATS_FOUND)
    page = client.get(reverse("media:list")).content.decode()
    assert "infected.wav" not in page
    assert reload(recording) is None
    assert versions(aws, recording.object_key) == []
    assert not PurgeRequest.objects.exists()
    (notice,) = mail.outbox
    assert notice.to == [member.member.email] and "removed" in notice.subject and "infected.wav" in notice.body
    assert client.get(reverse("media:download", args=[recording.pk])).status_code == 404


@pytest.mark.parametrize("result", [objects.UNSUPPORTED, objects.ACCESS_DENIED, objects.FAILED, "SOMETHING_NEW"])
def test_av1_unscanned_results_never_unlock_the_download(client, member: Tenant, aws, result: str):
    """AV-1: UNSUPPORTED, ACCESS_DENIED, FAILED (and unknown values) keep it undownloadable; a later clean rescan unlocks it."""
    recording = uploaded(client, aws)
    tag(aws, recording.object_key, result)
    status = client.get(reverse("media:status", args=[recording.pk])).json()
    assert status["downloadable"] is False
    assert status["status"] == ("scanning" if result == "SOMETHING_NEW" else "not_scanned")
    assert client.get(reverse("media:download", args=[recording.pk])).status_code == 409
    tag(aws, recording.object_key, objects.NO_THREATS_FOUND)  # e.g. after an on-demand rescan
    assert client.get(reverse("media:download", args=[recording.pk])).status_code == 302


def test_av1_the_gate_can_be_off_for_local_runs(client, member: Tenant, aws, settings):
    """AV-1: with MEDIA_REQUIRE_MALWARE_SCAN off (local runs; production refuses it) a confirmed upload is ready at once."""
    settings.MEDIA_REQUIRE_MALWARE_SCAN = False
    recording = uploaded(client, aws)
    assert recording.status == Status.READY
    assert client.get(reverse("media:download", args=[recording.pk])).status_code == 302


@pytest.mark.parametrize(
    ("body", "stored_type", "announced_size", "message"),
    [
        (b"<!doctype html><script>alert(1)</script>" + b" " * 100, None, None, "not WAV audio"),
        (b"MZ\x90\x00" + b"\x00" * 200, None, None, "not WAV audio"),
        (WAV, "text/html", None, "type does not match"),
        (WAV, None, len(WAV) + 1, "bytes, not the"),
    ],
    ids=["html-as-wav", "exe-as-wav", "other-stored-type", "other-size"],
)
def test_path1_mismatching_upload_is_deleted_and_reported(client, member: Tenant, aws, body, stored_type, announced_size, message):
    """PATH-1 / AV-1: an object whose size, type or first bytes do not match is deleted from S3, its row removed,
    and the browser gets a 422 with a clear message."""
    response = request_form(client, size=announced_size or len(body))
    issued = response.json()
    key = issued["upload"]["fields"]["key"]
    aws.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, Body=body, ContentType=stored_type or "audio/wav")
    answer = confirm(client, issued)
    assert answer.status_code == 422
    assert message in answer.json()["error"] and "deleted" in answer.json()["error"]
    assert recordings_of(member) == []
    assert versions(aws, key) == []


def test_path1_confirming_before_the_upload_arrived_keeps_the_form_usable(client, member: Tenant, aws):
    """PATH-1: a confirmation with no object yet answers 409 and keeps the pending row (the upload may still arrive)."""
    issued = request_form(client).json()
    assert confirm(client, issued).status_code == 409
    assert [r.status for r in recordings_of(member)] == [Status.PENDING]
    aws.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=issued["upload"]["fields"]["key"], Body=WAV, ContentType="audio/wav")
    assert confirm(client, issued).status_code == 200


# --- rename, delete, pages -----------------------------------------------------------------------


def test_xss1_rename_changes_only_the_display_name_and_is_escaped(client, member: Tenant, aws):
    """XSS-1 / PATH-3: a rename changes the label only (not the key); markup in it is shown escaped."""
    recording = uploaded(client, aws)
    key = recording.object_key
    name = '<script>alert("x")</script> & co'
    response = client.post(reverse("media:rename", args=[recording.pk]), {"display_name": name})
    assert response.status_code == 302
    recording = reload(recording)
    assert recording is not None and recording.display_name == name and recording.object_key == key
    for url in (reverse("media:list"), reverse("media:detail", args=[recording.pk])):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page


@pytest.mark.parametrize("typed", ["", "   ", "a\x00b", "x" * 201, "line\nbreak"])
def test_xss1_bad_renames_are_refused_without_a_write(client, member: Tenant, aws, typed: str):
    """XSS-1: an invalid name is refused with 400 and the recording keeps its name."""
    recording = uploaded(client, aws, name="keep.wav")
    response = client.post(reverse("media:rename", args=[recording.pk]), {"display_name": typed})
    assert response.status_code == 400
    assert getattr(reload(recording), "display_name", None) == "keep.wav"


def test_cj3_delete_needs_the_typed_word_then_removes_row_and_every_version(client, member: Tenant, aws):
    """CJ-3 / USR-2: deleting needs "delete" typed; then the row and every version of the object are gone."""
    recording = uploaded(client, aws)
    aws.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=recording.object_key, Body=WAV, ContentType="audio/wav")
    assert len(versions(aws, recording.object_key)) == 2
    url = reverse("media:delete", args=[recording.pk])
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"confirm": "yes"}).status_code == 400
    assert reload(recording) is not None
    assert client.get(url).status_code == 405
    response = client.post(url, {"confirm": " Delete "})
    assert response.status_code == 302 and response["Location"] == reverse("media:list")
    assert reload(recording) is None
    assert versions(aws, recording.object_key) == []
    assert not PurgeRequest.objects.exists()


def test_usr2_account_deletion_takes_the_recordings_along(client, member: Tenant, aws):
    """USR-2: deleting the uploader's account removes their recording rows and purges their objects."""
    from conftest import PASSWORD

    recording = uploaded(client, aws)
    response = client.post(reverse("accounts:delete-account"), {"password": PASSWORD})
    assert response.status_code in (200, 302)
    assert reload(recording) is None
    assert versions(aws, recording.object_key) == []


def test_xss1_recordings_page_csp_allows_only_the_s3_origin_and_no_inline_script(client, member: Tenant, aws):
    """XSS-1 / ENC-1: the recordings page's CSP adds exactly the S3 origin to connect-src; the upload script is a
    static file; other pages keep the site-wide policy."""
    response = client.get(reverse("media:list"))
    csp = response["Content-Security-Policy"]
    assert "connect-src 'self' https://kakoi-test-media.s3.ap-northeast-1.amazonaws.com" in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    page = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    # The one inline element is a JSON data block (json_script: the script's translated messages), which a
    # browser never executes, so script-src (default-src 'self') does not apply to it.
    data = [(attrs, body) for attrs, body in scripts if attrs.strip() == 'id="upload-messages" type="application/json"']
    code = [(attrs, body) for attrs, body in scripts if (attrs, body) not in data]
    assert len(data) == 1 and isinstance(json.loads(data[0][1]), dict) and "<" not in data[0][1]
    assert code and all('src="/static/media/upload.js"' in attrs and body.strip() == "" for attrs, body in code)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page, re.I)  # no event-handler attributes (onclick= ...)
    assert "connect-src" not in client.get(reverse("accounts:home"))["Content-Security-Policy"]


def test_enc1_presigned_urls_and_csp_use_the_same_origin(client, member: Tenant, aws, settings):
    """ENC-1: with a custom endpoint (a local S3), the form URL and the CSP origin follow it; they never drift apart."""
    settings.KAKOI_S3_ENDPOINT_URL = "http://127.0.0.1:4599"
    issued = request_form(client).json()
    csp = client.get(reverse("media:list"))["Content-Security-Policy"]
    assert issued["upload"]["url"].startswith("http://127.0.0.1:4599/")
    assert "connect-src 'self' http://127.0.0.1:4599;" in csp + ";"


# --- who sees what -------------------------------------------------------------------------------


def media_uuid_routes() -> list[str]:
    from test_isolation_http import uuid_routes

    routes = uuid_routes("media")
    assert {name: params for name, params in routes} == {
        "media:detail": ["recording_id"],
        "media:confirm": ["recording_id"],
        "media:status": ["recording_id"],
        "media:rename": ["recording_id"],
        "media:delete": ["recording_id"],
        "media:download": ["recording_id"],
    }
    return [name for name, _ in routes]


@pytest.mark.parametrize("method", ["get", "post"])
def test_authz2_other_tenants_recordings_answer_404_like_missing_ones(client, signed_in, tenant_a: Tenant, tenant_b: Tenant, aws, method):
    """AUTHZ-2 / ISO-1: a manager of A gets the same 404 for B's recording as for a random ID, on every media ID route,
    and B's recording is unchanged."""
    import uuid

    from test_isolation_http import without_csrf_token

    signed_in(client, tenant_b.member)
    theirs = uploaded(client, aws, name="b-secret.wav")
    tag(aws, theirs.object_key, objects.NO_THREATS_FOUND)
    client.logout()
    signed_in(client, tenant_a.manager)
    data = {"display_name": "pwned", "confirm": "delete"}
    for name in media_uuid_routes():
        foreign = getattr(client, method)(reverse(name, args=[theirs.pk]), data)
        missing = getattr(client, method)(reverse(name, args=[uuid.uuid4()]), data)
        if foreign.status_code == 405:
            assert missing.status_code == 405
            continue
        assert (foreign.status_code, missing.status_code) == (404, 404), (name, method)
        assert without_csrf_token(foreign.content) == without_csrf_token(missing.content), name
    assert "b-secret" not in client.get(reverse("media:list")).content.decode()
    theirs = reload(theirs)
    assert theirs is not None and theirs.display_name == "b-secret.wav" and theirs.status == Status.READY
    assert len(versions(aws, theirs.object_key)) == 1


def test_authz2_members_see_their_own_recordings_and_managers_see_the_companys(client, signed_in, tenant_a: Tenant, aws):
    """AUTHZ-2: a member cannot reach a colleague's recording (404); the company's manager can list and open it."""
    from accounts.models import Role, User
    from tenancy.db import tenant_context as ctx

    signed_in(client, tenant_a.member)
    mine = uploaded(client, aws, name="member-own.wav")
    with ctx(tenant_a.company.pk):
        colleague = User.objects.create_user("colleague-a@example.com", "x" * 20, company=tenant_a.company, role=Role.MEMBER)
    client.logout()
    signed_in(client, colleague)
    assert "member-own.wav" not in client.get(reverse("media:list")).content.decode()
    assert client.get(reverse("media:detail", args=[mine.pk])).status_code == 404
    assert client.post(reverse("media:delete", args=[mine.pk]), {"confirm": "delete"}).status_code == 404
    client.logout()
    signed_in(client, tenant_a.manager)
    assert "member-own.wav" in client.get(reverse("media:list")).content.decode()
    assert client.get(reverse("media:detail", args=[mine.pk])).status_code == 200
    # the manager can view it, but the upload confirmation belongs to the uploader only
    assert client.post(reverse("media:confirm", args=[mine.pk])).status_code == 404
