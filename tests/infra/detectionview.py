"""Helpers for the detection and alerting tests (AV-1, LOG-1, MON-1, MON-2, AVL-1)."""

from __future__ import annotations

import fnmatch
import json
import textwrap
from pathlib import Path
from typing import Any

from tools.render import render
from tools.stackview import Res, StackView

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def stack_name(view: StackView) -> str:
    """`urn:pulumi:<stack>::kakoi::...` -> <stack>."""
    return next(r for r in view if r.type == "pulumi:pulumi:Stack").urn.split("::")[0].split(":")[-1]


def prefix(view: StackView) -> str:
    return f"kakoi-{stack_name(view)}"


def statements(doc: str | dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An IAM/KMS/SNS policy document's statements by Sid."""
    policy = json.loads(doc) if isinstance(doc, str) else doc
    return {s["Sid"]: s for s in policy["Statement"]}


def alarms(view: StackView) -> dict[str, Res]:
    """Metric alarms by their AWS name."""
    return {r.inputs["name"]: r for r in view.of_type(ALARM)}


def topic_arn(view: StackView) -> str:
    return view.one("aws:sns/topic:Topic", "alerts").outputs["arn"]


def arn_like(pattern: str, value: str) -> bool:
    """IAM ArnLike/StringLike: * and ? are wildcards, nothing else is special."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge pattern matching for what kakoi's rules use: exact values and numeric ranges.

    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
    """
    for key, want in pattern.items():
        if key not in event:
            return False
        got = event[key]
        if isinstance(want, dict):
            if not isinstance(got, dict) or not matches(want, got):
                return False
            continue
        if not any(_match_value(w, got) for w in want):
            return False
    return True


def _match_value(want: Any, got: Any) -> bool:
    if isinstance(want, dict) and "numeric" in want:
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        ops = want["numeric"]
        checks = {">=": got.__ge__, ">": got.__gt__, "<=": got.__le__, "<": got.__lt__, "=": got.__eq__}
        return all(checks[ops[i]](ops[i + 1]) for i in range(0, len(ops), 2))
    return want == got


def render_program(tmp_path: Path, body: str, stack: str = "prod") -> StackView:
    """Render a small program (provider + config + `body`) to exercise a component on its own."""
    program = tmp_path / "program.py"
    program.write_text(
        textwrap.dedent(
            """
            import pulumi
            import pulumi_aws as aws
            import stackconfig
            from stackconfig.pulumi_source import PulumiConfigValues

            cfg = stackconfig.load(PulumiConfigValues(), project=pulumi.get_project(), stack=pulumi.get_stack())
            provider = aws.Provider("aws", region=cfg.core.region, default_tags={"tags": cfg.core.tags})
            opts = pulumi.ResourceOptions(provider=provider)
            """
        )
        + textwrap.dedent(body),
        encoding="utf-8",
    )
    return StackView(render(stack, program=program))
