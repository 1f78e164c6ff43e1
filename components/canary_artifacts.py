"""The availability canary's artifacts bucket (AVL-1): where its script package and run artifacts live.

KMS-encrypted with a dedicated key (rotation on; administration through IAM only, the canary role's
IAM policy is what lets it use the key), no public access, no ACLs, TLS only, versioned, server
access logs to the log archive. Run artifacts (screenshots, logs, HAR files) expire after
``kakoi:canaryArtifactRetentionDays``; the current script package stays, replaced ones go after 30 days.

Declared by `components.availability.Availability` as its own children (the resources keep the
names and the parent they always had, so no URN moves).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import bucket_baseline, kms, kms_policies, s3_policies
from components.context import StackContext
from components.data_class import ARTIFACTS, data_class_tags

#: run artifacts, written by the canary (its role may write only here)
ARTIFACTS_PREFIX = "artifacts/"
#: the script packages, written by this program
CODE_PREFIX = "code/"


def key_policy(partition: str, account: str) -> str:
    """Administration through IAM only: the canary role's IAM policy is what lets it use the key."""
    return kms_policies.document(kms_policies.root_admin(partition, account))


@dataclass(frozen=True)
class Artifacts:
    """The declared artifacts bucket and its key."""

    key: aws.kms.Key
    bucket: aws.s3.Bucket
    #: the TLS-only bucket policy: objects are written after it
    policy: aws.s3.BucketPolicy


def declare(
    name: str,
    *,
    parent: pulumi.Resource,
    context: StackContext,
    retention_days: int,
    access_logs_bucket: pulumi.Input[str],
) -> Artifacts:
    """The key and the hardened bucket (`<name>-artifacts`), children of `parent`."""
    child = pulumi.ResourceOptions(parent=parent)
    acct = pulumi.Output.from_input(context.account_id)
    part = pulumi.Output.from_input(context.partition)
    prefix = context.name_prefix
    key, _ = kms.customer_key(
        f"{name}-artifacts",
        parent=parent,
        description=f"{prefix}: canary artifacts",
        alias=f"alias/{prefix}/canary-artifacts",
        policy=pulumi.Output.all(part, acct).apply(lambda v: key_policy(v[0], v[1])),
    )
    bucket = aws.s3.Bucket(
        f"{name}-artifacts",
        bucket=acct.apply(lambda a: f"{prefix}-canary-artifacts-{a}"),
        force_destroy=False,
        tags=data_class_tags(ARTIFACTS),
        opts=pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True),
    )
    bucket_baseline.harden_bucket(
        f"{name}-artifacts",
        bucket,
        parent=parent,
        kms_key_arn=key.arn,
        lifecycle_rules=[
            {
                # run artifacts (screenshots, logs, HAR files) are kept for the retention period, then deleted
                "id": "expire-run-artifacts",
                "status": "Enabled",
                "filter": {"prefix": ARTIFACTS_PREFIX},
                "expiration": {"days": retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": 1},
            },
            {
                # the current script package stays (the canary is updated from it); replaced ones go
                "id": "expire-replaced-code",
                "status": "Enabled",
                "filter": {"prefix": CODE_PREFIX},
                "noncurrent_version_expiration": {"noncurrent_days": 30},
            },
            bucket_baseline.abort_incomplete_uploads_rule(),
        ],
    )
    aws.s3.BucketLogging(
        f"{name}-artifacts",
        bucket=bucket.id,
        target_bucket=access_logs_bucket,
        target_prefix="canary-artifacts/",
        opts=child,
    )
    policy = aws.s3.BucketPolicy(
        f"{name}-artifacts",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: s3_policies.document(s3_policies.deny_insecure_transport(arn))),
        opts=child,
    )
    return Artifacts(key=key, bucket=bucket, policy=policy)
