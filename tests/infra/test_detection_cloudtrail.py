"""CloudTrail (LOG-1, AUDIT-1): every API call, every region, tamper-evident, encrypted, archived and searchable."""

from __future__ import annotations

import json

import pytest

from components import log_archive
from tests.infra.detectionview import ACCOUNT, KEY, LOG_GROUP, REGION, ROLE, ROLE_POLICY, arn_like, prefix, stack_name, statements
from tools.render import RenderError, render
from tools.stackview import StackView

TRAIL = "aws:cloudtrail/trail:Trail"
AUDIT_RETENTION = {"prod": 3653, "staging": 731}


def trail_arn(view: StackView) -> str:
    return f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{prefix(view)}-trail"


def test_log1_multi_region_trail_with_log_file_validation(each_stack: StackView) -> None:
    """LOG-1, AUDIT-1: all regions, global services, digest files, logging on, all management events."""
    trail = each_stack.one(TRAIL)
    assert trail.inputs["name"] == f"{prefix(each_stack)}-trail"
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["includeGlobalServiceEvents"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["enableLogging"] is True
    assert trail.inputs["eventSelectors"] == [{"includeManagementEvents": True, "readWriteType": "All"}]
    assert trail.outputs["arn"] == trail_arn(each_stack) == each_stack.stack_outputs["cloudTrailArn"]


def test_log1_trail_delivers_into_the_log_archive_under_its_prefix(each_stack: StackView) -> None:
    """LOG-1: the never-expiring Object Lock archive, prefix PREFIX_CLOUDTRAIL, which the bucket policy admits."""
    trail = each_stack.one(TRAIL)
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive")
    assert trail.inputs["s3BucketName"] == archive.outputs["bucket"]
    assert trail.inputs["s3KeyPrefix"] == log_archive.PREFIX_CLOUDTRAIL
    policy = each_stack.one("aws:s3/bucketPolicy:BucketPolicy", "logs-archive")
    st = statements(policy.inputs["policy"])
    # CloudTrail writes <bucket>/<prefix>/AWSLogs/<account>/CloudTrail/<region>/...
    sample = f"{archive.outputs['arn']}/{log_archive.PREFIX_CLOUDTRAIL}/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/01/01/x.json.gz"
    assert arn_like(st["CloudTrailWrite"]["Resource"], sample)
    assert st["CloudTrailWrite"]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert st["CloudTrailAclCheck"]["Resource"] == archive.outputs["arn"]
    # CloudTrail checks the bucket policy when the trail is created: the trail waits for it
    assert policy.urn in trail.dependencies


def test_log1_trail_is_encrypted_with_its_own_rotating_key(each_stack: StackView) -> None:
    """LOG-1: log files SSE-KMS with a dedicated customer-managed key, rotation on, protected from destroy."""
    trail = each_stack.one(TRAIL)
    key = each_stack.one(KEY, "trail-key")
    assert trail.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.protect and key.raw.get("retainOnDelete")


def test_log1_trail_key_policy_lets_cloudtrail_encrypt_for_this_trail_only(each_stack: StackView) -> None:
    """LOG-1: GenerateDataKey* for cloudtrail.amazonaws.com with aws:SourceArn = this trail and the trail encryption context."""
    st = statements(each_stack.one(KEY, "trail-key").inputs["policy"])
    assert set(st) == {"AccountAdministration", "CloudTrailEncryptLogs", "CloudTrailDescribeKey"}
    assert st["AccountAdministration"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    enc = st["CloudTrailEncryptLogs"]
    assert enc["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert enc["Action"] == "kms:GenerateDataKey*"
    assert enc["Condition"]["StringEquals"] == {"aws:SourceArn": trail_arn(each_stack)}
    context = enc["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]
    assert arn_like(context, trail_arn(each_stack))
    assert not arn_like(context, "arn:aws:cloudtrail:ap-northeast-1:999999999999:trail/other"), "other accounts' trails"
    describe = st["CloudTrailDescribeKey"]
    assert describe["Action"] == "kms:DescribeKey"
    assert describe["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn(each_stack)}}
    # no statement lets CloudTrail (or anyone but the account's IAM) decrypt
    for sid, s in st.items():
        if sid != "AccountAdministration":
            assert "kms:Decrypt" not in json.dumps(s["Action"]), sid


def test_log1_trail_also_goes_to_an_encrypted_log_group_with_audit_retention(each_stack: StackView) -> None:
    """LOG-1: CloudWatch Logs copy, KMS (the logs key), kakoi:auditLogRetentionDays, protected."""
    trail = each_stack.one(TRAIL)
    group = each_stack.one(LOG_GROUP, "trail")
    assert trail.inputs["cloudWatchLogsGroupArn"] == f"{group.outputs['arn']}:*"
    assert group.inputs["kmsKeyId"] == each_stack.one(KEY, "keys-logs").outputs["arn"]
    assert group.inputs["retentionInDays"] == AUDIT_RETENTION[stack_name(each_stack)]
    assert group.protect and group.raw.get("retainOnDelete")


def test_log1_logs_role_is_for_this_trail_and_this_log_group_only(each_stack: StackView) -> None:
    """LOG-1: CloudTrail assumes the role only for this trail; the role writes streams of that one group."""
    trail = each_stack.one(TRAIL)
    role = each_stack.one(ROLE, "trail-logs")
    assert trail.inputs["cloudWatchLogsRoleArn"] == role.outputs["arn"]
    (trust,) = role.json_input("assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": trail_arn(each_stack)}}
    group_arn = each_stack.one(LOG_GROUP, "trail").outputs["arn"]
    policy = each_stack.one(ROLE_POLICY, "trail-logs")
    st = statements(policy.inputs["policy"])
    assert {s["Action"] for s in st.values()} == {"logs:CreateLogStream", "logs:PutLogEvents"}
    for s in st.values():
        assert arn_like(s["Resource"], f"{group_arn}:log-stream:{ACCOUNT}_CloudTrail_{REGION}")
        assert arn_like(s["Resource"], f"{group_arn}:log-stream:{ACCOUNT}_CloudTrail_us-east-1")
        assert not arn_like(s["Resource"], f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:other:log-stream:x")
    # CloudTrail validates the role on creation: the trail waits for its policy
    assert policy.urn in trail.dependencies


@pytest.mark.parametrize("days", [2, 400000])
def test_log1_retention_outside_what_cloudwatch_accepts_is_refused(days: int) -> None:
    """LOG-1: log retention must be a value CloudWatch Logs accepts."""
    with pytest.raises(RenderError) as info:
        render("prod", overrides={"kakoi:auditLogRetentionDays": days})
    assert info.value.exit_code == 2
    assert "kakoi:auditLogRetentionDays" in str(info.value)
