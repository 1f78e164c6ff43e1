"""KMS key-policy statements the kakoi keys share (ENC-1, BAK-1); why each exists: components.kms.

Plain functions returning statements; components call them inside `Output.apply`.
No resources are created here.
"""

from __future__ import annotations

from typing import Any

from components.iam_policies import Statement, document

__all__ = [
    "GRANT_ACTIONS",
    "USE_ACTIONS",
    "Statement",
    "document",
    "logs_service",
    "root_admin",
    "service_endpoint",
    "sns_publishers",
    "via_services",
]

#: what a service needs to encrypt and decrypt with a key on a caller's behalf
USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


def root_admin(partition: str, account: str) -> Statement:
    """Hands the decision to IAM; without it the key could become unmanageable
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)."""
    return {
        "Sid": "AccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def service_endpoint(service: str, region: str) -> str:
    return f"{service}.{region}.amazonaws.com"


def via_services(account: str, label: str, services: list[str], *, grants: bool) -> list[Statement]:
    """Use by principals of `account` only through `services` (e.g. ``rds.ap-northeast-1.amazonaws.com``)."""
    cond: dict[str, Any] = {"kms:CallerAccount": account, "kms:ViaService": services if len(services) > 1 else services[0]}
    out: list[Statement] = [
        {
            "Sid": f"UseThrough{label}",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": USE_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": cond},
        }
    ]
    if grants:
        out.append(
            {
                "Sid": f"GrantsFor{label}",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": GRANT_ACTIONS,
                "Resource": "*",
                "Condition": {"StringEquals": cond, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            }
        )
    return out


def logs_service(partition: str, region: str, account: str) -> Statement:
    """The regional CloudWatch Logs service, for log groups of this account and region only
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
    return {
        "Sid": "CloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:*"}},
    }


def sns_publishers(partition: str, region: str, account: str) -> list[Statement]:
    """CloudWatch alarms (of this account and region) and EventBridge may encrypt messages for an SNS topic.

    EventBridge gets no source conditions: its KMS requests for SNS delivery do not carry them, and
    a condition would drop every notification silently
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, "Enable compatibility between
    event sources from AWS services and encrypted topics"); the topic policy is what limits
    EventBridge to the stack's rules.
    """
    return [
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"},
            },
        },
        {
            "Sid": "EventBridgePublish",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ]
