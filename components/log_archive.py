"""The log archive (LOG-1): S3 buckets that keep access and audit logs forever.

Two buckets, because "S3 buckets with Object Lock can't be used as destination
buckets for server access logs"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html):

* ``archive`` receives load balancer access logs (the ALB's and the TURN relay's NLB's),
  VPC flow logs, WAF logs and CloudTrail. Object Lock with a default retention (governance by default,
  compliance by config), versioning, SSE-S3 (ALB log delivery supports only
  SSE-S3). Its name starts with ``aws-waf-logs-`` because WAF delivers logs only
  to buckets named so
  (https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html).
* ``access_logs`` receives S3 server access logs of every other bucket:
  versioning, SSE-S3, and a policy that denies deleting object versions.

Both: public access blocked, BucketOwnerEnforced (no ACLs), a policy that denies
non-TLS requests and lets in only the log-delivery principals, a lifecycle that
moves objects to cold storage and never expires anything, and protection from
`pulumi destroy` (protect + retain_on_delete).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import bucket_baseline, s3_policies
from components.context import StackContext
from stackconfig.log_archive import LogArchiveConfig

CONTROLS: dict[str, str] = {
    "LOG-1": "log archive buckets: versioned, Object Lock, lifecycle to cold storage that never expires, "
    "version deletion denied, protected from pulumi destroy",
    "ENC-1": "archive bucket policies deny requests not made over TLS",
}


@dataclass(frozen=True)
class LogArchiveArgs:
    """Inputs of `LogArchive`."""

    #: who and where the stack is: the name prefix and the account in the bucket names, the region
    #: and account the log-delivery conditions of the archive policy name. Required. (LOG-1)
    context: StackContext
    #: the archive's own settings (stackconfig/log_archive.py): the Object Lock mode and default
    #: retention of the archive bucket, and the days after which both buckets move objects to cold
    #: storage (nothing ever expires). Required. (LOG-1)
    config: LogArchiveConfig
    #: the regional Elastic Load Balancing account the archive policy lets write the load balancer's
    #: access and connection logs. @default looked up with `aws.elb.get_service_account` for
    #: `context.region` (a test or another program may pass one). (LOG-1)
    elb_account_arn: pulumi.Input[str] | None = None


#: key prefixes inside the archive, one per log source
PREFIX_ALB = "alb"
#: load balancer connection logs: the same ELB log delivery writes them, under their own prefix
PREFIX_ALB_CONNECTIONS = "alb-connections"
PREFIX_FLOW_LOGS = "vpc-flow-logs"
#: the TURN relay's network load balancer (access logs of its TLS listener)
PREFIX_NLB_RELAY = "nlb-relay"
PREFIX_CLOUDTRAIL = "cloudtrail"


class LogArchive(pulumi.ComponentResource):
    """The two log buckets. What the other tiers use:

    * `archive_bucket` (`archive_bucket_name`): where load balancers, flow logs, WAF and CloudTrail write;
    * `archive_policy`: the archive's bucket policy; every log source waits for it (`depends_on`), because
      a log delivery set up before it writes its own policy onto the bucket;
    * `access_logs_bucket` (`access_logs_bucket_name`): the target of every other bucket's server access logs.
    """

    archive_bucket: aws.s3.Bucket
    access_logs_bucket: aws.s3.Bucket
    archive_policy: aws.s3.BucketPolicy

    def __init__(self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:log_archive:LogArchive", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.context
        prefix, region = ctx.name_prefix, ctx.region
        acct = pulumi.Output.from_input(ctx.account_id)
        elb_account_arn = (
            args.elb_account_arn if args.elb_account_arn is not None else aws.elb.get_service_account_output(opts=ctx.invoke_opts()).arn
        )

        # ---- S3 server access logs (no Object Lock: S3 refuses such a destination)
        self.access_logs_bucket = aws.s3.Bucket(
            f"{name}-access-logs",
            bucket=acct.apply(lambda a: f"{prefix}-s3-access-logs-{a}"),
            force_destroy=False,
            opts=keep,
        )
        self._harden(f"{name}-access-logs", self.access_logs_bucket, args, object_lock=False)
        access_policy = pulumi.Output.all(self.access_logs_bucket.arn, acct).apply(
            lambda v: s3_policies.document(
                s3_policies.deny_insecure_transport(v[0]),
                s3_policies.deny_version_deletion(v[0]),
                s3_policies.allow_server_access_log_delivery(v[0], v[1]),
            )
        )
        self.access_logs_policy = aws.s3.BucketPolicy(
            f"{name}-access-logs", bucket=self.access_logs_bucket.id, policy=access_policy, opts=child
        )

        # ---- the archive for ALB, flow logs, WAF and CloudTrail (Object Lock)
        self.archive_bucket = aws.s3.Bucket(
            f"{name}-archive",
            bucket=acct.apply(lambda a: f"aws-waf-logs-{prefix}-archive-{a}"),
            object_lock_enabled=True,
            force_destroy=False,
            opts=keep,
        )
        self._harden(f"{name}-archive", self.archive_bucket, args, object_lock=True)
        self.archive_logging = aws.s3.BucketLogging(
            f"{name}-archive",
            bucket=self.archive_bucket.id,
            target_bucket=self.access_logs_bucket.id,
            target_prefix="archive/",
            opts=child,
        )
        archive_policy = pulumi.Output.all(self.archive_bucket.arn, acct, elb_account_arn, ctx.partition).apply(
            lambda v: self._archive_policy(v[0], v[1], v[2], region, v[3])
        )
        self.archive_policy = aws.s3.BucketPolicy(f"{name}-archive", bucket=self.archive_bucket.id, policy=archive_policy, opts=child)

        self.archive_bucket_name = self.archive_bucket.bucket
        self.access_logs_bucket_name = self.access_logs_bucket.bucket
        self.register_outputs(
            {
                "archiveBucket": self.archive_bucket.bucket,
                "archiveBucketArn": self.archive_bucket.arn,
                "accessLogsBucket": self.access_logs_bucket.bucket,
            }
        )

    def _harden(self, name: str, bucket: aws.s3.Bucket, args: LogArchiveArgs, *, object_lock: bool) -> None:
        # SSE-S3: ALB access log delivery supports only SSE-S3 (AES256) on the target bucket.
        # Never expires anything: current and noncurrent versions move to cold storage.
        cold = args.config.cold_storage_after_days
        bucket_baseline.harden_bucket(
            name,
            bucket,
            parent=self,
            lifecycle_rules=[bucket_baseline.keep_forever_rule([(cold, "GLACIER_IR"), (cold + 180, "DEEP_ARCHIVE")])],
        )
        if object_lock:
            aws.s3.BucketObjectLockConfiguration(
                name,
                bucket=bucket.id,
                object_lock_enabled="Enabled",
                rule={"default_retention": {"mode": args.config.object_lock_mode, "days": args.config.object_lock_days}},
                opts=pulumi.ResourceOptions(parent=self),
            )

    @staticmethod
    def _archive_policy(arn: str, account: str, elb_account_arn: str, region: str, partition: str) -> str:
        delivery_conditions: dict[str, Any] = {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:{account}:*"},
        }
        return s3_policies.document(
            s3_policies.deny_insecure_transport(arn),
            {
                # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
                # Connection logs need the same grant for their own prefix: ELB checks it when they are
                # turned on and refuses the load balancer ("Access Denied for bucket") without it.
                # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-connection-logging.html
                "Sid": "AlbAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": [f"{arn}/{prefix}/AWSLogs/{account}/*" for prefix in (PREFIX_ALB, PREFIX_ALB_CONNECTIONS)],
            },
            {
                # VPC flow logs, WAF logs and Network Load Balancer access logs use the log-delivery
                # service (unlike ALB logs, which the regional ELB account writes)
                # https://docs.aws.amazon.com/elasticloadbalancing/latest/network/enable-access-logs.html
                "Sid": "LogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": [
                    f"{arn}/{PREFIX_FLOW_LOGS}/AWSLogs/{account}/*",
                    f"{arn}/AWSLogs/{account}/*",
                    f"{arn}/{PREFIX_NLB_RELAY}/AWSLogs/{account}/*",
                ],
                "Condition": {
                    **delivery_conditions,
                    "StringEquals": {"aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"},
                },
            },
            {
                "Sid": "LogDeliveryAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": delivery_conditions,
            },
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{arn}/{PREFIX_CLOUDTRAIL}/AWSLogs/{account}/*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"}},
            },
        )
