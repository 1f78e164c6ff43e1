"""S3: the client factory, the object-key layout and prefix purging.

Part 2 (recordings) extends this module with presigned POST uploads; keep the
key layout here so deletion always covers what uploads create.

Key layout (PATH-3: every segment is a server-generated random ID; a client's
file name never becomes part of a key):

    t/<company uuid>/u/<user uuid>/<random hex>
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from boto3.session import Session
from botocore.config import Config
from django.conf import settings

CONTROLS: dict[str, str] = {
    "PATH-1": "media live in the S3 bucket KAKOI_MEDIA_BUCKET; the web server keeps no files",
    "PATH-3": "object keys are built only from server-side UUIDs and secrets.token_hex; no client-supplied name reaches a key",
    "USR-2": "purge_prefix deletes every version and delete marker under a user's or company's prefix (physical deletion in a versioned bucket)",
}

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Only whole-tenant or whole-user prefixes may be purged: a bug can never turn into "delete the bucket".
PURGEABLE_PREFIX = re.compile(rf"^t/{_UUID}/(u/{_UUID}/)?$")
# ... or one object (a recording, media/): exactly a key made by new_object_key, and only that key's versions.
OBJECT_KEY = re.compile(rf"^t/{_UUID}/u/{_UUID}/[0-9a-f]{{32}}$")


def company_of_key(key: str) -> uuid.UUID | None:
    """The company whose recording key this is (`t/<company>/u/<user>/<hex>`), or None for any other string."""
    if not isinstance(key, str) or not OBJECT_KEY.fullmatch(key):
        return None
    return uuid.UUID(key.split("/", 2)[1])


def is_purgeable(prefix: str) -> bool:
    """A whole tenant's or user's prefix, or one object key."""
    return bool(PURGEABLE_PREFIX.fullmatch(prefix) or OBJECT_KEY.fullmatch(prefix))


class UnsafePrefixError(ValueError):
    pass


class PurgeError(RuntimeError):
    pass


def client(service: str = "s3") -> Any:
    """A boto3 client for the app's region; KAKOI_S3_ENDPOINT_URL points S3 at a local moto server."""
    endpoint = settings.KAKOI_S3_ENDPOINT_URL if service == "s3" else None
    return Session().client(
        service,
        region_name=settings.AWS_REGION,
        endpoint_url=endpoint or None,
        config=Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 5}),
    )


def tenant_prefix(company_id: uuid.UUID) -> str:
    return f"t/{uuid.UUID(str(company_id))}/"


def user_prefix(company_id: uuid.UUID, user_id: uuid.UUID) -> str:
    return f"{tenant_prefix(company_id)}u/{uuid.UUID(str(user_id))}/"


def new_object_key(company_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """A fresh, unguessable key for a user's object (128 random bits)."""
    return user_prefix(company_id, user_id) + secrets.token_hex(16)


def purge_prefix(prefix: str, *, bucket: str | None = None, s3: Any = None) -> int:
    """Delete every object version and delete marker under `prefix`; returns how many were deleted."""
    if not is_purgeable(prefix):
        raise UnsafePrefixError(f"refusing to purge {prefix!r}: not a tenant or user prefix or an object key")
    single = bool(OBJECT_KEY.fullmatch(prefix))
    bucket = bucket or settings.KAKOI_MEDIA_BUCKET
    s3 = s3 or client()
    deleted = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        batch = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if not single or item["Key"] == prefix
        ]
        # DeleteObjects takes at most 1000 keys per call.
        for start in range(0, len(batch), 1000):
            chunk = batch[start : start + 1000]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            errors = response.get("Errors", [])
            if errors:
                raise PurgeError(f"S3 refused to delete {len(errors)} object version(s) under {prefix}: {errors[0].get('Code')}")
            deleted += len(chunk)
    return deleted
