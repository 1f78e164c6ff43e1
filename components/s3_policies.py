"""Bucket-policy statements every kakoi bucket shares (ENC-1, LOG-1).

Plain functions returning IAM policy JSON; components call them inside
`Output.apply` to fill in ARNs. No resources are created here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.iam_policies import Statement, document

__all__ = [
    "Statement",
    "allow_server_access_log_delivery",
    "deny_insecure_transport",
    "deny_tls_below",
    "deny_version_deletion",
    "document",
]


def deny_insecure_transport(bucket_arn: str) -> Statement:
    """Refuse every request not made over TLS (Security Hub S3.5)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def deny_tls_below(bucket_arn: str, version: str = "1.3", *, except_principal_arns: Sequence[str] = ()) -> Statement:
    """Refuse requests negotiated with a TLS version below `version` (ENC-1).

    `except_principal_arns`: IAM roles AWS services act as (S3 replication, GuardDuty Malware
    Protection) whose TLS version AWS does not document; they are exempt by ``aws:PrincipalArn``
    and nobody else is (docs/controls.md, ENC-1). The plain-HTTP deny still covers them.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html (s3:TlsVersion)
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    """
    condition: dict[str, Any] = {"NumericLessThan": {"s3:TlsVersion": version}}
    if except_principal_arns:
        condition["ArnNotEquals"] = {"aws:PrincipalArn": sorted(except_principal_arns)}
    return {
        "Sid": "DenyTlsBelow" + version.replace(".", ""),
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": condition,
    }


def deny_version_deletion(bucket_arn: str) -> Statement:
    """Nobody deletes object versions: a deletion only adds a delete marker (LOG-1)."""
    return {
        "Sid": "DenyLogDeletion",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObjectVersion",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
    }


def allow_server_access_log_delivery(bucket_arn: str, account: str) -> Statement:
    """S3 server access logs of this account's buckets may be written here (LOG-1)."""
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    }
