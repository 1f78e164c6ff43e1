"""LOG-1: access and audit logs kept forever in an S3 archive that cannot be silently deleted."""

from __future__ import annotations

import json

from tools.stackview import StackView


def _bucket_settings(view: StackView, bucket_name: str, typ: str):
    return [r for r in view.of_type(typ) if r.inputs.get("bucket") == bucket_name]


def _archive_buckets(view: StackView):
    return [r for r in view.of_type("aws:s3/bucket:Bucket") if r.parent.endswith("LogArchive::logs")]


def test_log1_archive_buckets_are_protected_from_destroy(each_stack: StackView) -> None:
    buckets = _archive_buckets(each_stack)
    assert len(buckets) == 2
    for b in buckets:
        assert b.protect and b.raw.get("retainOnDelete"), b.urn
        assert b.inputs.get("forceDestroy") is False


def test_log1_versioning_and_no_expiry(each_stack: StackView) -> None:
    for b in _archive_buckets(each_stack):
        name = b.outputs["bucket"]
        [ver] = _bucket_settings(each_stack, name, "aws:s3/bucketVersioning:BucketVersioning")
        assert ver.inputs["versioningConfiguration"]["status"] == "Enabled"
        [life] = _bucket_settings(each_stack, name, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        for rule in life.inputs["rules"]:
            assert "expiration" not in rule, "current versions must never expire"
            assert "noncurrentVersionExpiration" not in rule, "old versions must never expire"
            assert rule["transitions"], "objects move to cold storage"


def test_log1_archive_has_object_lock_from_config(prod: StackView, staging: StackView) -> None:
    for view, mode, days in ((prod, "COMPLIANCE", 2557), (staging, "GOVERNANCE", 90)):
        archive = view.one("aws:s3/bucket:Bucket", "logs-archive")
        assert archive.inputs["objectLockEnabled"] is True
        [lock] = _bucket_settings(view, archive.outputs["bucket"], "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
        assert lock.inputs["rule"]["defaultRetention"] == {"mode": mode, "days": days}


def test_log1_sse_s3_because_alb_log_delivery_needs_it(each_stack: StackView) -> None:
    for b in _archive_buckets(each_stack):
        [enc] = _bucket_settings(
            each_stack, b.outputs["bucket"], "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        assert enc.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_log1_public_access_blocked_and_acls_disabled(each_stack: StackView) -> None:
    for b in _archive_buckets(each_stack):
        name = b.outputs["bucket"]
        [pab] = _bucket_settings(each_stack, name, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert all(pab.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
        [own] = _bucket_settings(each_stack, name, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
        assert own.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_log1_policies_deny_insecure_transport_and_version_deletion(prod: StackView) -> None:
    policies = {r.inputs["bucket"]: json.loads(r.inputs["policy"]) for r in prod.of_type("aws:s3/bucketPolicy:BucketPolicy")}
    for b in _archive_buckets(prod):
        doc = policies[b.outputs["bucket"]]
        sids = {s["Sid"]: s for s in doc["Statement"]}
        tls = sids["DenyInsecureTransport"]
        assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        allows = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
        assert allows, "log delivery principals are let in"
        for s in allows:
            assert s["Principal"] != "*", "only named log-delivery principals may write"
            assert s["Action"] in ("s3:PutObject", "s3:GetBucketAcl")
    access = prod.one("aws:s3/bucket:Bucket", "logs-access-logs").outputs["bucket"]
    assert "DenyLogDeletion" in {s["Sid"] for s in policies[access]["Statement"]}


def test_log1_alb_log_delivery_uses_the_regional_elb_account(prod: StackView) -> None:
    archive = prod.one("aws:s3/bucket:Bucket", "logs-archive").outputs["bucket"]
    policy = json.loads(next(r for r in prod.of_type("aws:s3/bucketPolicy:BucketPolicy") if r.inputs["bucket"] == archive).inputs["policy"])
    alb = next(s for s in policy["Statement"] if s["Sid"] == "AlbAccessLogDelivery")
    # ap-northeast-1's ELB account, as aws.elb.get_service_account returns it
    assert alb["Principal"] == {"AWS": "arn:aws:iam::582318560864:root"}
    assert [r.rsplit(":::", 1)[1].split("/", 1)[1] for r in alb["Resource"]] == [
        "alb/AWSLogs/123456789012/*",
        "alb-connections/AWSLogs/123456789012/*",
    ]


def test_log1_archive_access_is_itself_logged(each_stack: StackView) -> None:
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive").outputs["bucket"]
    access = each_stack.one("aws:s3/bucket:Bucket", "logs-access-logs").outputs["bucket"]
    [log] = _bucket_settings(each_stack, archive, "aws:s3/bucketLogging:BucketLogging")
    assert log.inputs["targetBucket"] == access
