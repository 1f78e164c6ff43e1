"""The media bucket: uploaded voice/video files live in S3, never on a server (PATH-1, ENC-1, BCP-1).

* SSE-KMS with the media key and an S3 Bucket Key (fewer KMS calls), versioning,
  public access blocked, BucketOwnerEnforced (no ACLs).
* A bucket policy that refuses non-TLS requests and TLS below 1.3 (ENC-1), and
  uploads that ask for another encryption than the media key. Two service roles are
  exempt from the TLS 1.3 deny (never from the plain-HTTP deny), by ``aws:PrincipalArn``:
  the role S3 replication acts as and the role GuardDuty Malware Protection scans and
  tags objects as. AWS documents that S3 serves TLS 1.3 on every endpoint except
  PrivateLink for S3 and Multi-Region Access Points
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingEncryptionInTransit.html), but
  not which endpoint or TLS version these services' own requests use; a deny they hit
  would fail every replication or end every scan ``ACCESS_DENIED`` silently (no upload
  would ever become downloadable). The reasoned exception is in docs/controls.md, ENC-1.
* Server access logs to the log archive's access-logs bucket (LOG-1, S3.9).
* A lifecycle that aborts incomplete multipart uploads and expires noncurrent
  versions after a configured number of days (a user's deletion becomes physical
  after that, USR-2), and removes expired delete markers.
* CORS for the app's origin only, with only what a presigned POST upload (POST)
  and a presigned GET download need.
* Optional replication (BCP-1) to a bucket in the DR region with the same
  hardening and the DR media key, through a least-privilege replication role.
  S3 delivers server access logs only to a bucket in the same region, so the DR
  bucket logs to its own DR access-logs bucket (SSE-S3, which is all server
  access logging supports on the target).

Every bucket is protected from `pulumi destroy` and replacement (protect + retain_on_delete).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components import bucket_baseline, iam_policies, s3_policies
from components.data_class import CUSTOMER_MEDIA, LOGS, data_class_tags

if TYPE_CHECKING:
    from components.context import StackContext
    from components.kms import Keys
    from components.log_archive import LogArchive
    from stackconfig.data import DataConfig

CONTROLS: dict[str, str] = {
    "PATH-1": "media objects live in a dedicated S3 bucket (metadata in PostgreSQL), never on a server's disk",
    "ENC-1": "the media bucket policy denies non-TLS requests and TLS below 1.3; objects are SSE-KMS with the media key",
    "BCP-1": "media can be replicated (prod: on) to a hardened bucket in the DR region encrypted with the DR media key",
    "LOG-1": "server access logs of the media bucket go to the log archive's access-logs bucket",
}
EXCEPTIONS: dict[str, str] = {
    "ENC-1": "two AWS service roles are exempt from the TLS 1.3 deny of the media buckets, by aws:PrincipalArn and "
    "nobody else: <prefix>-media-replication (S3 replication reads the source and writes the DR replica as this role) "
    "and <prefix>-guardduty-malware-scan (GuardDuty Malware Protection for S3 reads and tags each upload as this role). "
    "Why: S3 serves TLS 1.3 on every endpoint except PrivateLink for S3 and Multi-Region Access Points "
    "(AmazonS3/latest/userguide/UsingEncryptionInTransit.html), but AWS documents neither the endpoint nor the TLS "
    "version these services' own requests use, and a deny they hit fails silently (replication stops; every scan ends "
    "ACCESS_DENIED, so no upload ever becomes downloadable). Limits: both roles can only be assumed by their service "
    "(s3.amazonaws.com / malware-protection-plan.guardduty.amazonaws.com, source account pinned), hold only the "
    "documented permissions, stay under the plain-HTTP deny, and carry data AWS-internally; no user, app or operator "
    "request is exempt. Media on the user's path (presigned POST and GET) is TLS 1.3 only.",
}

#: response headers the browser may read: ETag of an upload, ranges of a media download
CORS_EXPOSE_HEADERS = ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"]
#: request headers a presigned POST (multipart form) and a ranged GET (media seeking) send
CORS_ALLOWED_HEADERS = ["Content-Type", "Range"]


@dataclass(frozen=True)
class MediaBucketArgs:
    """The media bucket: its config section, its keys and where its access logs go."""

    #: prefix, account (bucket names `<prefix>-media-<account>`), partition (the TLS exemption's role
    #: ARNs), region and DR region (the replica bucket, BCP-1); required
    context: StackContext
    #: the data section: days a noncurrent version is kept (kakoi:mediaNoncurrentVersionDays, USR-2) and
    #: replication to the DR region (kakoi:mediaReplication, BCP-1); required
    config: DataConfig
    #: the media key (SSE-KMS of the bucket, ENC-1) and the DR media key (the replica; None when
    #: kakoi:drCopies is off, then replication must be off too: stackconfig.data checks it); required
    keys: Keys
    #: the log archive, whose access-logs bucket (same region) gets the server access logs (LOG-1); required
    logs: LogArchive
    #: the app's origin, e.g. https://app.kakoi.example.com: the only CORS origin of the presigned uploads and
    #: downloads (PATH-1, ENC-1: an https origin only); required
    app_origin: str
    #: names of service roles (besides the replication role) exempt from the TLS 1.3 deny of the primary
    #: bucket, never from the plain-HTTP deny (ENC-1 exception): the GuardDuty Malware Protection plan's role
    #: (components.guardduty.scan_role_name, AV-1); @default none
    tls_exempt_role_names: Sequence[str] = ()


def replication_role_name(name_prefix: str) -> str:
    return f"{name_prefix}-media-replication"


def role_arn(partition: str, account: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def media_policy(bucket_arn: str, key_arn: str, tls_exempt_role_arns: Sequence[str] = ()) -> str:
    """TLS 1.3 only (except the service roles named); uploads may not pick another encryption or key."""
    return s3_policies.document(
        s3_policies.deny_insecure_transport(bucket_arn),
        s3_policies.deny_tls_below(bucket_arn, "1.3", except_principal_arns=tls_exempt_role_arns),
        {
            "Sid": "DenyOtherEncryption",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        },
        {
            "Sid": "DenyOtherKmsKey",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}},
        },
    )


def replication_role_policy(src: str, dst: str, src_key: str, dst_key: str, region: str, dr_region: str) -> str:
    """What S3 replication needs, and nothing else.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
    """
    return iam_policies.document(
        {
            "Sid": "ReadSourceConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": src,
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": f"{src}/*",
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": f"{dst}/*",
        },
        {
            "Sid": "DecryptSource",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": src_key,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [src, f"{src}/*"]},
            },
        },
        {
            "Sid": "EncryptReplicas",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": dst_key,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{dr_region}.amazonaws.com"},
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [dst, f"{dst}/*"]},
            },
        },
    )


class MediaBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    dr_bucket: aws.s3.Bucket | None
    dr_access_logs_bucket: aws.s3.Bucket | None
    replication_role: aws.iam.Role | None

    def __init__(self, name: str, args: MediaBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:media_bucket:MediaBucket", name, None, opts)
        self.args = args
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        prefix, replication = args.context.name_prefix, args.config.media_replication
        acct = pulumi.Output.from_input(args.context.account_id)

        self.bucket = aws.s3.Bucket(
            name,
            bucket=acct.apply(lambda a: f"{prefix}-media-{a}"),
            force_destroy=False,
            tags=data_class_tags(CUSTOMER_MEDIA),
            opts=keep,
        )
        replication_roles = [replication_role_name(prefix)] if replication else []
        self.versioning = self._harden(name, self.bucket, args.keys.media_key_arn, None, [*args.tls_exempt_role_names, *replication_roles])
        self.logging = aws.s3.BucketLogging(
            name,
            bucket=self.bucket.id,
            target_bucket=args.logs.access_logs_bucket.id,
            target_prefix="media/",
            opts=child,
        )

        self.dr_bucket = None
        self.dr_access_logs_bucket = None
        self.replication_role = None
        self.replication = None
        if replication:
            dr_key_arn = args.keys.dr_media_key_arn
            if dr_key_arn is None:
                raise ValueError("media replication needs the DR media key (drCopies)")
            self._replicate(name, args, dr_key_arn, acct, keep, child)

        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.register_outputs(
            {
                "bucket": self.bucket.bucket,
                "bucketArn": self.bucket.arn,
                "drBucket": self.dr_bucket.bucket if self.dr_bucket is not None else None,
            }
        )

    # -- the hardening every media bucket gets (primary and DR) --------------------------
    def _harden(
        self, name: str, bucket: aws.s3.Bucket, key_arn: pulumi.Input[str], region: str | None, tls_exempt_roles: Sequence[str]
    ) -> aws.s3.BucketVersioning:
        versioning = bucket_baseline.harden_bucket(
            name,
            bucket,
            parent=self,
            kms_key_arn=key_arn,
            region=region,
            lifecycle_after_versioning=True,
            lifecycle_rules=[
                bucket_baseline.abort_incomplete_uploads_rule(),
                {
                    # a replaced or deleted object is gone for good after N days (USR-2 physical deletion)
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": self.args.config.media_noncurrent_days},
                    "expiration": {"expired_object_delete_marker": True},
                },
            ],
        )
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketCorsConfiguration(
            name,
            bucket=bucket.id,
            cors_rules=[
                {
                    "id": "presigned-post-upload-and-get-download",
                    "allowed_origins": [self.args.app_origin],
                    "allowed_methods": ["GET", "POST"],
                    "allowed_headers": CORS_ALLOWED_HEADERS,
                    "expose_headers": CORS_EXPOSE_HEADERS,
                    "max_age_seconds": 3000,
                }
            ],
            region=region,
            opts=child,
        )
        exempt = sorted(tls_exempt_roles)
        ctx = self.args.context
        policy = pulumi.Output.all(bucket.arn, key_arn, ctx.partition, ctx.account_id).apply(
            lambda v: media_policy(v[0], v[1], [role_arn(v[2], v[3], r) for r in exempt])
        )
        aws.s3.BucketPolicy(name, bucket=bucket.id, policy=policy, region=region, opts=child)
        return versioning

    # -- BCP-1: replication to the DR region ---------------------------------------------
    def _replicate(
        self,
        name: str,
        args: MediaBucketArgs,
        dr_key_arn: pulumi.Input[str],
        acct: pulumi.Output[str],
        keep: pulumi.ResourceOptions,
        child: pulumi.ResourceOptions,
    ) -> None:
        dr, prefix = args.context.dr_region, args.context.name_prefix
        self.dr_access_logs_bucket = aws.s3.Bucket(
            f"{name}-dr-access-logs",
            bucket=acct.apply(lambda a: f"{prefix}-s3-access-logs-{dr}-{a}"),
            force_destroy=False,
            tags=data_class_tags(LOGS),
            region=dr,
            opts=keep,
        )
        self._harden_access_logs(f"{name}-dr-access-logs", self.dr_access_logs_bucket, acct, dr)

        self.dr_bucket = aws.s3.Bucket(
            f"{name}-dr",
            bucket=acct.apply(lambda a: f"{prefix}-media-{dr}-{a}"),
            force_destroy=False,
            tags=data_class_tags(CUSTOMER_MEDIA),
            region=dr,
            opts=keep,
        )
        dr_versioning = self._harden(f"{name}-dr", self.dr_bucket, dr_key_arn, dr, [replication_role_name(prefix)])
        aws.s3.BucketLogging(
            f"{name}-dr",
            bucket=self.dr_bucket.id,
            target_bucket=self.dr_access_logs_bucket.id,
            target_prefix="media-dr/",
            region=dr,
            opts=child,
        )

        trust = acct.apply(lambda a: iam_policies.service_trust_policy("s3.amazonaws.com", source_account=a))
        self.replication_role = aws.iam.Role(
            f"{name}-replication",
            name=replication_role_name(prefix),
            description="S3 replication of the media bucket to the DR region (BCP-1)",
            assume_role_policy=trust,
            opts=child,
        )
        region = args.context.region
        role_policy = pulumi.Output.all(self.bucket.arn, self.dr_bucket.arn, args.keys.media_key_arn, dr_key_arn).apply(
            lambda v: replication_role_policy(v[0], v[1], v[2], v[3], region, dr)
        )
        aws.iam.RolePolicy(f"{name}-replication", role=self.replication_role.id, name="media-replication", policy=role_policy, opts=child)
        rule: aws.s3.BucketReplicationConfigRuleArgsDict = {
            "id": "to-dr-region",
            "status": "Enabled",
            "priority": 1,
            "filter": {},
            "delete_marker_replication": {"status": "Enabled"},
            "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
            "destination": {
                "bucket": self.dr_bucket.arn,
                "storage_class": "STANDARD",
                "encryption_configuration": {"replica_kms_key_id": dr_key_arn},
            },
        }
        self.replication = aws.s3.BucketReplicationConfig(
            name,
            bucket=self.bucket.id,
            role=self.replication_role.arn,
            rules=[rule],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning, dr_versioning]),
        )

    def _harden_access_logs(self, name: str, bucket: aws.s3.Bucket, acct: pulumi.Output[str], region: str) -> None:
        """The DR region's S3 server access log bucket: the log archive's rules, in the DR region (LOG-1)."""
        # S3 server access logging delivers only to targets with SSE-S3 default encryption
        bucket_baseline.harden_bucket(
            name,
            bucket,
            parent=self,
            region=region,
            lifecycle_rules=[bucket_baseline.keep_forever_rule([(90, "GLACIER_IR")])],
        )
        policy = pulumi.Output.all(bucket.arn, acct).apply(
            lambda v: s3_policies.document(
                s3_policies.deny_insecure_transport(v[0]),
                s3_policies.deny_version_deletion(v[0]),
                s3_policies.allow_server_access_log_delivery(v[0], v[1]),
            )
        )
        aws.s3.BucketPolicy(name, bucket=bucket.id, policy=policy, region=region, opts=pulumi.ResourceOptions(parent=self))
