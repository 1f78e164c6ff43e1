"""GuardDuty Malware Protection for S3 scan-result events, in the documented shape, for the tests.

The shape (detail-type "GuardDuty Malware Protection Object Scan Result", source aws.guardduty,
detail.s3ObjectDetails / detail.scanResultDetails) is the one documented at
https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.test import TestCase
from media import objects, scans


def event(key: str, result: str, version_id: str = "", *, bucket: str | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": scans.DETAIL_TYPE,
        "source": "aws.guardduty",
        "account": "123456789012",
        "time": "2026-12-01T10:00:00Z",
        "region": settings.AWS_REGION,
        "resources": [f"arn:aws:guardduty:{settings.AWS_REGION}:123456789012:malware-protection-plan/0123456789abcdef"],
        "detail": {
            "schemaVersion": "1.0",
            "scanStatus": "COMPLETED" if result in (objects.NO_THREATS_FOUND, objects.THREATS_FOUND) else "SKIPPED",
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {
                "bucketName": bucket or settings.KAKOI_MEDIA_BUCKET,
                "objectKey": key,
                "eTag": "0123456789abcdef0123456789abcdef",
                "versionId": version_id,
                "s3Throttled": False,
            },
            "scanResultDetails": {
                "scanResultStatus": result,
                "threats": [{"name": "EICAR-Test-File (not a virus)"}] if result == objects.THREATS_FOUND else None,
            },
        },
    }


def body(key: str, result: str, version_id: str = "", **kwargs: Any) -> str:
    return json.dumps(event(key, result, version_id, **kwargs))


def current_version(aws: Any, key: str) -> str:
    version = aws.head_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key).get("VersionId") or ""
    return "" if version == "null" else str(version)


def scanned(aws: Any, key: str, result: str, version_id: str | None = None) -> str:
    """What GuardDuty does after a scan: tag that object version and publish the event (applied as the consumer would)."""
    version = version_id if version_id is not None else current_version(aws, key)
    extra = {"VersionId": version} if version else {}
    aws.put_object_tagging(
        Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, Tagging={"TagSet": [{"Key": objects.SCAN_TAG, "Value": result}]}, **extra
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        return scans.record_event(scans.parse_event(body(key, result, version)))
