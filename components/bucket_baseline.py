"""The hardening every kakoi S3 bucket gets (ENC-1, LOG-1), declared in one place.

`harden_bucket` declares, as children of the calling component and in this order:
public access block (all four switches), BucketOwnerEnforced (no ACLs), versioning,
default encryption (SSE-KMS with an S3 Bucket Key, or SSE-S3 where a log delivery
service accepts nothing else) and the caller's lifecycle rules. Bucket policies,
logging, CORS and Object Lock stay with the caller (they differ per bucket); the
statements they share live in `components.s3_policies`.

Not a component: the resources keep the URNs they had when each component declared
them itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

LifecycleRule = aws.s3.BucketLifecycleConfigurationRuleArgsDict


def keep_forever_rule(transitions: Sequence[tuple[int, str]]) -> LifecycleRule:
    """Log buckets: nothing expires; current objects move through `transitions` (days, storage class),
    noncurrent versions to DEEP_ARCHIVE after 30 days (LOG-1)."""
    return {
        "id": "keep-forever-in-cold-storage",
        "status": "Enabled",
        "filter": {},
        "transitions": [{"days": days, "storage_class": storage_class} for days, storage_class in transitions],
        "noncurrent_version_transitions": [{"noncurrent_days": 30, "storage_class": "DEEP_ARCHIVE"}],
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    }


def abort_incomplete_uploads_rule() -> LifecycleRule:
    return {
        "id": "abort-incomplete-uploads",
        "status": "Enabled",
        "filter": {},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
    }


def harden_bucket(
    name: str,
    bucket: aws.s3.Bucket,
    *,
    parent: pulumi.Resource,
    lifecycle_rules: Sequence[LifecycleRule],
    kms_key_arn: pulumi.Input[str] | None = None,
    region: str | None = None,
    lifecycle_after_versioning: bool = False,
) -> aws.s3.BucketVersioning:
    """Declare the baseline of `bucket`; returns its versioning resource (replication waits for it).

    `kms_key_arn` None means SSE-S3 (AES256): ALB access logs and S3 server access logs are
    delivered only to buckets with SSE-S3 default encryption. `region` is for DR-region buckets
    (pulumi-aws v7 `region=`). `lifecycle_after_versioning` makes the lifecycle configuration
    wait for versioning (needed where a rule acts on noncurrent versions being expired).
    """
    child = pulumi.ResourceOptions(parent=parent)
    aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        region=region,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, region=region, opts=child)
    versioning = aws.s3.BucketVersioning(name, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, region=region, opts=child)
    rule: aws.s3.BucketServerSideEncryptionConfigurationRuleArgsDict
    if kms_key_arn is None:
        rule = {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    else:
        rule = {
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn},
            "bucket_key_enabled": True,
        }
    aws.s3.BucketServerSideEncryptionConfiguration(name, bucket=bucket.id, rules=[rule], region=region, opts=child)
    aws.s3.BucketLifecycleConfiguration(
        name,
        bucket=bucket.id,
        rules=list(lifecycle_rules),
        region=region,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]) if lifecycle_after_versioning else child,
    )
    return versioning
