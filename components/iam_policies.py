"""IAM policy JSON every component writes the same way (one compact document format, trust statements).

Plain functions returning policy JSON or statements; components call them inside
`Output.apply` to fill in ARNs and account IDs. No resources are created here.
"""

from __future__ import annotations

import json
from typing import Any

Statement = dict[str, Any]


def document(*statements: Statement) -> str:
    """A policy document: compact, keys in the order written (deterministic)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def service_trust(
    service: str,
    *,
    source_account: str | None = None,
    source_arn: str | None = None,
    source_arn_like: str | None = None,
) -> Statement:
    """Trust statement: the AWS service principal `service` (e.g. ``backup.amazonaws.com``) may assume the role.

    Confused-deputy protection where the service sets the keys: only on behalf of `source_account`
    (``aws:SourceAccount``), of the resource `source_arn` (exact) or of resources matching
    `source_arn_like` (``ArnLike``)
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
    """
    statement: Statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    equals: dict[str, str] = {}
    if source_account is not None:
        equals["aws:SourceAccount"] = source_account
    if source_arn is not None:
        equals["aws:SourceArn"] = source_arn
    condition: dict[str, Any] = {}
    if equals:
        condition["StringEquals"] = equals
    if source_arn_like is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn_like}
    if condition:
        statement["Condition"] = condition
    return statement


def service_trust_policy(service: str, **conditions: str) -> str:
    """A trust policy of the one `service_trust` statement (keywords as there)."""
    return document(service_trust(service, **conditions))
