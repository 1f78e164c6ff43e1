"""S3 operations on recordings: presigned POST and GET, HEAD, the first bytes, the scan tag.

No media bytes pass through the app: the browser POSTs the file straight to S3
with a presigned form, and downloads it straight from S3 with a presigned GET.
The app itself reads at most formats.SNIFF_BYTES of an object (the magic number).

Where the browser talks to: with no KAKOI_S3_ENDPOINT_URL, the regional
virtual-hosted endpoint https://<bucket>.s3.<region>.amazonaws.com (the global
s3.amazonaws.com name would answer a new bucket outside us-east-1 with a
redirect, which a CORS upload cannot follow); with an endpoint (a local moto
server), that endpoint in path style. upload_origin() derives the same origin
for the page's Content-Security-Policy connect-src, so the two cannot drift.

IAM (the task role): s3:PutObject (the presigned POST is signed with it), s3:GetObject (HEAD),
s3:GetObjectVersion (ranged GET and presigned GET of the pinned version), s3:GetObjectVersionTagging
besides s3:GetObjectTagging (the scan tag of that version,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html), and for the purge of
every version s3:ListBucketVersions and s3:DeleteObjectVersion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from boto3.session import Session
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings

from media import formats

CONTROLS: dict[str, str] = {
    "PATH-1": "uploads go from the browser straight to S3 (presigned POST) and downloads straight from S3 (presigned GET); "
    "the app reads at most 64 bytes of an object",
    "PATH-3": "the presigned POST pins the server-generated key (a `key` field signed into the policy); ${filename} is never used",
    "ENC-1": "presigned URLs point at the https regional S3 endpoint (production refuses a non-https KAKOI_S3_ENDPOINT_URL); "
    "the bucket policy refuses TLS below 1.3",
    "AV-1": "the GuardDuty Malware Protection tag GuardDutyMalwareScanStatus is read from the confirmed object version",
}

#: https://docs.aws.amazon.com/guardduty/latest/ug/monitor-enable-s3-object-tagging-malware-protection.html
SCAN_TAG = "GuardDutyMalwareScanStatus"
#: the tag values (scan result statuses), from
#: https://docs.aws.amazon.com/guardduty/latest/ug/monitoring-malware-protection-s3-scans-gdu.html
NO_THREATS_FOUND = "NO_THREATS_FOUND"
THREATS_FOUND = "THREATS_FOUND"
UNSUPPORTED = "UNSUPPORTED"
ACCESS_DENIED = "ACCESS_DENIED"
FAILED = "FAILED"
SCAN_RESULTS = frozenset({NO_THREATS_FOUND, THREATS_FOUND, UNSUPPORTED, ACCESS_DENIED, FAILED})


def upload_origin(endpoint_url: str, bucket: str, region: str) -> str:
    """The origin (scheme://host[:port]) the browser uploads to and downloads from."""
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"https://{bucket}.s3.{region}.amazonaws.com"


def configured_origin() -> str:
    return upload_origin(settings.KAKOI_S3_ENDPOINT_URL, settings.KAKOI_MEDIA_BUCKET, settings.AWS_REGION)


def client() -> Any:
    """An S3 client whose presigned URLs use configured_origin()."""
    endpoint = settings.KAKOI_S3_ENDPOINT_URL or None
    return Session().client(
        "s3",
        region_name=settings.AWS_REGION,
        endpoint_url=endpoint,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "virtual"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=10,
        ),
    )


_client: Any = None
_client_key: tuple[str, str, str] | None = None


def shared_client() -> Any:
    """One client per process and configuration (boto3 clients are thread-safe; creating one costs milliseconds)."""
    global _client, _client_key
    key = (settings.KAKOI_S3_ENDPOINT_URL, settings.AWS_REGION, settings.KAKOI_MEDIA_BUCKET)
    if _client is None or _client_key != key:
        _client, _client_key = client(), key
    return _client


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]
    expires_at: float


def presign_upload(key: str, content_type: str, size: int, *, s3: Any = None) -> PresignedPost:
    """A presigned POST for exactly one object: this key, this Content-Type, exactly `size` bytes, a short life."""
    if not formats.is_allowed(content_type):
        raise ValueError(f"content type {content_type!r} is not allowed")
    if not 1 <= size <= settings.MEDIA_MAX_UPLOAD_BYTES:
        raise ValueError(f"size {size} is outside 1..{settings.MEDIA_MAX_UPLOAD_BYTES}")
    ttl = int(settings.MEDIA_UPLOAD_FORM_SECONDS)
    s3 = s3 or shared_client()
    post = s3.generate_presigned_post(
        Bucket=settings.KAKOI_MEDIA_BUCKET,
        Key=key,  # boto3 adds {"key": key} to the conditions: the form cannot write anywhere else
        Fields={"Content-Type": content_type},
        Conditions=[
            ["eq", "$Content-Type", content_type],
            # exactly the announced size, itself at most MEDIA_MAX_UPLOAD_BYTES
            ["content-length-range", size, size],
        ],
        ExpiresIn=ttl,
    )
    return PresignedPost(url=post["url"], fields=dict(post["fields"]), expires_at=time.time() + ttl)


@dataclass(frozen=True)
class ObjectHead:
    size: int
    content_type: str
    version_id: str


def head(key: str, *, s3: Any = None) -> ObjectHead | None:
    """Size, type and version of the current object at `key`, or None when there is none."""
    s3 = s3 or shared_client()
    try:
        response = s3.head_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    version = response.get("VersionId") or ""
    return ObjectHead(
        size=int(response.get("ContentLength", -1)),
        content_type=str(response.get("ContentType", "")),
        version_id="" if version == "null" else str(version),
    )


def _version(version_id: str) -> dict[str, str]:
    return {"VersionId": version_id} if version_id else {}


def first_bytes(key: str, version_id: str, *, s3: Any = None) -> bytes:
    """The first formats.SNIFF_BYTES bytes of that object version (a ranged GET)."""
    s3 = s3 or shared_client()
    response = s3.get_object(
        Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, Range=f"bytes=0-{formats.SNIFF_BYTES - 1}", **_version(version_id)
    )
    body = response["Body"]
    try:
        return body.read(formats.SNIFF_BYTES)
    finally:
        body.close()


def scan_result(key: str, version_id: str, *, s3: Any = None) -> str:
    """The GuardDuty scan result tag of that object version; "" while there is none (not scanned yet)."""
    s3 = s3 or shared_client()
    response = s3.get_object_tagging(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, **_version(version_id))
    for tag in response.get("TagSet", []):
        if tag.get("Key") == SCAN_TAG:
            return str(tag.get("Value", ""))
    return ""


def content_disposition(display_name: str, extension: str) -> str:
    """`attachment; filename*=UTF-8''<percent-encoded name>` (RFC 6266 / RFC 5987): no quoting or header injection possible."""
    name = display_name
    if extension and not name.lower().endswith(f".{extension}"):
        name = f"{name}.{extension}"
    return "attachment; filename*=UTF-8''" + quote(name, safe="")


def presign_download(
    key: str,
    version_id: str,
    *,
    display_name: str,
    content_type: str,
    inline: bool = False,
    expires_in: int | None = None,
    s3: Any = None,
) -> str:
    """A short-lived GET of exactly the confirmed version, saved under the display name (or, inline, played in the page)."""
    s3 = s3 or shared_client()
    media_type = formats.ALLOWED.get(content_type)
    disposition = content_disposition(display_name, media_type.extension if media_type else "")
    if inline:
        disposition = "inline" + disposition[len("attachment") :]
    params: dict[str, Any] = {
        "Bucket": settings.KAKOI_MEDIA_BUCKET,
        "Key": key,
        "ResponseContentDisposition": disposition,
        "ResponseContentType": content_type,
        "ResponseCacheControl": "private, no-store",
        **_version(version_id),
    }
    ttl = int(settings.MEDIA_DOWNLOAD_URL_SECONDS) if expires_in is None else expires_in
    return str(s3.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl))
