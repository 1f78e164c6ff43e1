"""The media bucket (PATH-1, ENC-1, BCP-1, LOG-1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.stackview import Res, StackView

BUCKET = "aws:s3/bucket:Bucket"


def setting(view: StackView, typ: str, name: str) -> Res:
    return view.one(f"aws:s3/{typ[0].lower() + typ[1:]}:{typ}", name)


def key_arn(view: StackView, purpose: str) -> str:
    return view.one("aws:kms/key:Key", f"keys-{purpose}").outputs["arn"]


def policy_statements(view: StackView, name: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(setting(view, "BucketPolicy", name).inputs["policy"])["Statement"]}


def test_path1_media_bucket_exists_and_is_exported(each_stack: StackView) -> None:
    """PATH-1: media lives in a dedicated S3 bucket, protected from destroy, exported for the app."""
    bucket = each_stack.one(BUCKET, "media")
    assert bucket.outputs["bucket"] == each_stack.stack_outputs["mediaBucket"]
    assert bucket.inputs["bucket"].startswith("kakoi-") and bucket.inputs["bucket"].endswith("-media-123456789012")
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.protect and bucket.raw.get("retainOnDelete")


def test_enc1_sse_kms_with_media_key_and_bucket_key(each_stack: StackView) -> None:
    """ENC-1 (at rest): SSE-KMS with the media key and an S3 Bucket Key."""
    (rule,) = setting(each_stack, "BucketServerSideEncryptionConfiguration", "media").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"kmsMasterKeyId": key_arn(each_stack, "media"), "sseAlgorithm": "aws:kms"}
    assert rule["bucketKeyEnabled"] is True


def test_enc1_policy_denies_plain_http_and_tls_below_13(each_stack: StackView) -> None:
    """ENC-1: the bucket refuses non-TLS requests and TLS below 1.3, and uploads with another key."""
    arn = each_stack.one(BUCKET, "media").outputs["arn"]
    st = policy_statements(each_stack, "media")
    assert st["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert st["DenyTlsBelow13"]["Condition"]["NumericLessThan"] == {"s3:TlsVersion": "1.3"}
    for sid in ("DenyInsecureTransport", "DenyTlsBelow13"):
        assert st[sid]["Effect"] == "Deny" and st[sid]["Principal"] == "*"
        assert st[sid]["Resource"] == [arn, f"{arn}/*"]
    assert st["DenyOtherKmsKey"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn(each_stack, "media")}
    }
    assert all(s["Effect"] == "Deny" for s in st.values()), "the bucket policy grants nothing"


def test_public_access_blocked_no_acls_versioned(each_stack: StackView) -> None:
    """S3.1/S3.8/S3.12/S3.14: public access blocked, BucketOwnerEnforced, versioning on."""
    pab = setting(each_stack, "BucketPublicAccessBlock", "media").inputs
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert setting(each_stack, "BucketOwnershipControls", "media").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert setting(each_stack, "BucketVersioning", "media").inputs["versioningConfiguration"]["status"] == "Enabled"


def test_log1_server_access_logs_to_the_log_archive(each_stack: StackView) -> None:
    """LOG-1 / S3.9: server access logs go to the log archive's access-logs bucket."""
    logging = setting(each_stack, "BucketLogging", "media")
    assert logging.inputs["targetBucket"] == each_stack.one(BUCKET, "logs-access-logs").outputs["bucket"]
    assert logging.inputs["targetPrefix"] == "media/"


def test_lifecycle_aborts_uploads_and_expires_noncurrent_versions(prod: StackView, staging: StackView) -> None:
    """Incomplete multipart uploads are aborted; noncurrent versions expire after the configured days."""
    for view, days in ((prod, 30), (staging, 7)):
        rules = {r["id"]: r for r in setting(view, "BucketLifecycleConfiguration", "media").inputs["rules"]}
        assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
        noncurrent = rules["expire-noncurrent-versions"]
        assert noncurrent["noncurrentVersionExpiration"] == {"noncurrentDays": days}
        assert noncurrent["expiration"] == {"expiredObjectDeleteMarker": True}
        assert all(r["status"] == "Enabled" for r in rules.values())
        # current objects never expire by lifecycle: the app deletes them
        assert "days" not in noncurrent["expiration"]


def test_cors_only_the_app_origin_post_and_get(each_stack: StackView) -> None:
    """CORS: only https://<domainName>, only POST (presigned POST upload) and GET (download)."""
    (rule,) = setting(each_stack, "BucketCorsConfiguration", "media").inputs["corsRules"]
    stack = each_stack.resources[0].urn.split("::")[0].split(":")[-1]
    domain = {"prod": "app.kakoi.example.com", "staging": "staging.kakoi.example.com"}[stack]
    assert rule["allowedOrigins"] == [f"https://{domain}"]
    assert sorted(rule["allowedMethods"]) == ["GET", "POST"]
    assert "*" not in rule["allowedHeaders"]
    assert "*" not in rule["allowedOrigins"]


# ---- BCP-1: replication ----------------------------------------------------------------
def test_bcp1_prod_replicates_media_to_the_dr_region(prod: StackView) -> None:
    """BCP-1: prod replicates every object (and delete markers) to a DR bucket encrypted with the DR media key."""
    src = prod.one(BUCKET, "media")
    dr = prod.one(BUCKET, "media-dr")
    assert dr.region == "ap-northeast-3"
    assert dr.protect and dr.raw.get("retainOnDelete")
    cfg = prod.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "media")
    assert cfg.inputs["bucket"] == src.outputs["id"]
    (rule,) = cfg.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"] == dr.outputs["arn"]
    assert rule["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": key_arn(prod, "dr-media")}
    # replication needs versioning on both sides first
    versionings = {v.urn for v in prod.of_type("aws:s3/bucketVersioning:BucketVersioning") if v.name in ("media", "media-dr")}
    assert versionings <= set(cfg.dependencies)


def test_bcp1_dr_bucket_has_the_same_hardening(prod: StackView) -> None:
    """BCP-1 / ENC-1: the DR bucket gets the same TLS 1.3 policy, SSE-KMS (DR key), lifecycle, CORS and logging."""
    dr_arn = prod.one(BUCKET, "media-dr").outputs["arn"]
    st = policy_statements(prod, "media-dr")
    assert {"DenyInsecureTransport", "DenyTlsBelow13", "DenyOtherKmsKey"} <= set(st)
    assert st["DenyTlsBelow13"]["Resource"] == [dr_arn, f"{dr_arn}/*"]
    (rule,) = setting(prod, "BucketServerSideEncryptionConfiguration", "media-dr").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key_arn(prod, "dr-media")
    for typ in (
        "BucketPublicAccessBlock",
        "BucketOwnershipControls",
        "BucketVersioning",
        "BucketLifecycleConfiguration",
        "BucketCorsConfiguration",
        "BucketPolicy",
    ):
        assert setting(prod, typ, "media-dr").region == "ap-northeast-3", typ
    logging = setting(prod, "BucketLogging", "media-dr")
    assert logging.region == "ap-northeast-3"
    assert logging.inputs["targetBucket"] == prod.one(BUCKET, "media-dr-access-logs").outputs["bucket"]
    assert prod.one(BUCKET, "media-dr-access-logs").region == "ap-northeast-3"


def test_bcp1_replication_role_is_least_privilege(prod: StackView) -> None:
    """BCP-1: the replication role reads the source, writes replicas, and uses each key only through S3."""
    role = prod.one("aws:iam/role:Role", "media-replication")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    st = {s["Sid"]: s for s in prod.one("aws:iam/rolePolicy:RolePolicy", "media-replication").json_input("policy")["Statement"]}
    src = prod.one(BUCKET, "media").outputs["arn"]
    dst = prod.one(BUCKET, "media-dr").outputs["arn"]
    assert st["WriteReplicas"]["Resource"] == f"{dst}/*"
    assert st["ReadSourceVersions"]["Resource"] == f"{src}/*"
    assert st["DecryptSource"]["Resource"] == key_arn(prod, "media")
    assert st["DecryptSource"]["Condition"]["StringEquals"] == {"kms:ViaService": "s3.ap-northeast-1.amazonaws.com"}
    assert st["EncryptReplicas"]["Resource"] == key_arn(prod, "dr-media")
    assert st["EncryptReplicas"]["Condition"]["StringEquals"] == {"kms:ViaService": "s3.ap-northeast-3.amazonaws.com"}
    for s in st.values():
        assert "*" not in json.dumps(s["Action"]), s["Sid"]


def test_bcp1_staging_has_no_replication(staging: StackView) -> None:
    """BCP-1: replication is a config switch (mediaReplication), off in staging."""
    assert not staging.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert [b.name for b in staging.of_type(BUCKET) if b.name.startswith("media")] == ["media"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_dr_region_resources_are_in_osaka(stack: str, prod: StackView, staging: StackView) -> None:
    """BCP-1: everything the data tier puts in the DR region has region ap-northeast-3, nothing else does."""
    view = {"prod": prod, "staging": staging}[stack]
    dr = [r for r in view if r.custom and r.region == "ap-northeast-3"]
    names = {r.name for r in dr}
    assert {"keys-dr-database", "keys-dr-backup", "keys-dr-media", "backup-dr-vault", "db-dr-backups"} <= names
    assert {r.region for r in view if r.custom and r.type.startswith("aws:") and r.region} <= {"ap-northeast-1", "ap-northeast-3"}


def test_enc1_tls13_deny_exempts_exactly_the_scan_and_replication_roles(prod: StackView, staging: StackView) -> None:
    """ENC-1 (known exception, docs/controls.md): only the GuardDuty Malware Protection role and (with replication)
    the S3 replication role are exempt from the TLS 1.3 deny, by aws:PrincipalArn; both stay under the HTTP deny;
    and those ARNs are the roles the stack declares."""
    for view, replicated in ((prod, True), (staging, False)):
        roles = {r.name: r.outputs["arn"] for r in view.of_type("aws:iam/role:Role")}
        scan, repl = roles["guardduty-malware-scan"], roles.get("media-replication")
        assert (repl is not None) is replicated
        st = policy_statements(view, "media")
        expected = sorted([scan, *([repl] if repl else [])])
        assert st["DenyTlsBelow13"]["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": expected}
        assert "ArnNotEquals" not in st["DenyInsecureTransport"]["Condition"]
        plan = view.one("aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan")
        assert plan.inputs["role"] == scan
        if replicated:
            assert view.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "media").inputs["role"] == repl
            dr = policy_statements(view, "media-dr")
            assert dr["DenyTlsBelow13"]["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": [repl]}
