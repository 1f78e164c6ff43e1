"""CloudTrail (LOG-1, AUDIT-1): every API call in every region, kept forever and searchable.

* A **multi-region trail** with global service events (IAM, STS, ...) and log
  file integrity validation (signed digest files, so tampering is detectable).
* Delivered to the **log archive** (``components.log_archive``, prefix
  ``PREFIX_CLOUDTRAIL``), whose bucket policy already lets CloudTrail of this
  account write there and whose Object Lock and lifecycle keep the files forever.
* Log files are encrypted with a **dedicated customer-managed key** (rotation on)
  whose policy lets CloudTrail generate data keys only for this trail
  (``aws:SourceArn``) and only with CloudTrail's encryption context for trails
  of this account (``kms:EncryptionContext:aws:cloudtrail:arn``); readers need
  an IAM grant (the account root statement hands the decision to IAM)
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
* Also delivered to a **CloudWatch Logs group** (KMS-encrypted with the logs key,
  audit retention from config) through a role CloudTrail assumes for this trail
  only, allowed to create streams and put events in that one group
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html).

The trail ARN is known before the trail exists (``arn:...:trail/<name>``), so the
key and role policies name it without a dependency cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import iam_policies, kms, kms_policies, log_archive
from components.context import StackContext
from components.iam_policies import Statement
from stackconfig.detection import DetectionConfig

CONTROLS: dict[str, str] = {
    "LOG-1": "multi-region CloudTrail with log file validation, KMS-encrypted, into the never-expiring log archive "
    "and a KMS-encrypted CloudWatch Logs group with audit retention",
    "AUDIT-1": "every management API call in every region is recorded with tamper-evident digests",
}


@dataclass(frozen=True)
class TrailArchive:
    """Where the trail's log files go (LOG-1): typed handle of the log archive."""

    #: the log archive bucket (LogArchive.archive_bucket_name), whose policy lets this account's CloudTrail
    #: write and whose Object Lock and lifecycle keep the files forever; required. LOG-1
    bucket_name: pulumi.Input[str]
    #: key prefix inside the archive; @default log_archive.PREFIX_CLOUDTRAIL. LOG-1
    key_prefix: str = log_archive.PREFIX_CLOUDTRAIL
    #: what the trail waits for (the archive's bucket policy: CloudTrail checks it on creation);
    #: @default () (nothing). LOG-1
    ready: Sequence[pulumi.Resource] = field(default_factory=tuple)


@dataclass(frozen=True)
class CloudTrailArgs:
    """Inputs of `CloudTrail` (LOG-1, AUDIT-1)."""

    #: name prefix (trail, key alias, role), account, partition and region of the trail's ARN; required. LOG-1
    context: StackContext
    #: the detection section: `audit_log_retention_days` is the CloudWatch Logs copy's retention
    #: (kakoi:auditLogRetentionDays); required. LOG-1, AUDIT-1
    config: DetectionConfig
    #: the log archive the trail delivers to; required. LOG-1
    archive: TrailArchive
    #: key of the CloudWatch Logs copy (Keys.logs_key_arn); required. LOG-1, ENC-1
    log_group_kms_key_arn: pulumi.Input[str]


def trail_arn(partition: str, region: str, account: str, trail_name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"


def key_policy(partition: str, region: str, account: str, trail_name: str) -> str:
    arn = trail_arn(partition, region, account, trail_name)
    statements: list[Statement] = [
        kms_policies.root_admin(partition, account),
        {
            "Sid": "CloudTrailEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": arn},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{partition}:cloudtrail:*:{account}:trail/*"},
            },
        },
        {
            "Sid": "CloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": arn}},
        },
    ]
    return kms_policies.document(*statements)


def logs_role_trust(partition: str, region: str, account: str, trail_name: str) -> str:
    return iam_policies.service_trust_policy(
        "cloudtrail.amazonaws.com", source_account=account, source_arn=trail_arn(partition, region, account, trail_name)
    )


def logs_role_policy(log_group_arn: str, account: str) -> str:
    # a multi-region trail writes one stream per region, named <account>_CloudTrail_<region>
    streams = f"{log_group_arn}:log-stream:{account}_CloudTrail_*"
    return iam_policies.document(
        {"Sid": "CreateTrailStreams", "Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": streams},
        {"Sid": "PutTrailEvents", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": streams},
    )


class CloudTrail(pulumi.ComponentResource):
    trail: aws.cloudtrail.Trail
    key: aws.kms.Key
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: CloudTrailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:cloudtrail:CloudTrail", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.context
        acct = pulumi.Output.from_input(ctx.account_id)
        part = pulumi.Output.from_input(ctx.partition)
        trail_name = f"{ctx.name_prefix}-trail"

        self.key, _ = kms.customer_key(
            f"{name}-key",
            parent=self,
            description=f"{ctx.name_prefix}: CloudTrail log files",
            alias=f"alias/{ctx.name_prefix}/cloudtrail",
            policy=pulumi.Output.all(part, acct).apply(lambda v: key_policy(v[0], ctx.region, v[1], trail_name)),
        )

        # the CloudWatch Logs copy: audit logs, so protected like the archive
        self.log_group = aws.cloudwatch.LogGroup(
            name,
            name=f"/aws/cloudtrail/{trail_name}",
            retention_in_days=args.config.audit_log_retention_days,
            kms_key_id=args.log_group_kms_key_arn,
            opts=keep,
        )
        self.logs_role = aws.iam.Role(
            f"{name}-logs",
            name=f"{ctx.name_prefix}-cloudtrail-logs",
            description=f"CloudTrail delivers {trail_name} to its CloudWatch Logs group",
            assume_role_policy=pulumi.Output.all(part, acct).apply(lambda v: logs_role_trust(v[0], ctx.region, v[1], trail_name)),
            opts=child,
        )
        logs_policy = aws.iam.RolePolicy(
            f"{name}-logs",
            role=self.logs_role.id,
            policy=pulumi.Output.all(self.log_group.arn, acct).apply(lambda v: logs_role_policy(v[0], v[1])),
            opts=child,
        )

        self.trail = aws.cloudtrail.Trail(
            name,
            name=trail_name,
            s3_bucket_name=args.archive.bucket_name,
            s3_key_prefix=args.archive.key_prefix,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=self.key.arn,
            # CloudTrail wants the log group ARN with the stream wildcard
            cloud_watch_logs_group_arn=self.log_group.arn.apply(lambda a: f"{a}:*"),
            cloud_watch_logs_role_arn=self.logs_role.arn,
            # all management events, read and write
            event_selectors=[{"read_write_type": "All", "include_management_events": True}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs_policy, *args.archive.ready]),
        )

        self.trail_arn = self.trail.arn
        self.log_group_name = self.log_group.name
        self.register_outputs({"trailArn": self.trail.arn, "keyArn": self.key.arn, "logGroup": self.log_group.name})
