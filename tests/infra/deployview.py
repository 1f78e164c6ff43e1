"""Helpers for the app deployment tests: task definitions, containers, role policies."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from tools.render import render
from tools.stackfiles import ROOT
from tools.stackview import Res, StackView

TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SERVICE = "aws:ecs/service:Service"


@functools.cache
def rendered(stack: str, overrides: tuple[tuple[str, Any], ...] = ()) -> StackView:
    """A render with config overrides, cached per test session (each one costs a few seconds)."""
    return StackView(render(stack, overrides=dict(overrides)))


def task_def(view: StackView, family_suffix: str) -> Res:
    [td] = [r for r in view.of_type(TASK_DEF) if r.inputs["family"].endswith(f"-{family_suffix}")]
    return td


def containers(view: StackView, family_suffix: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in task_def(view, family_suffix).json_input("containerDefinitions")}


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("environment", [])}


def secrets(container: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}


def secret_arn(value_from: str) -> str:
    """`<secret arn>:<json key>:<stage>:<version>` -> the secret ARN (the ARN itself has 7 fields)."""
    return ":".join(value_from.split(":")[:7])


def role(view: StackView, suffix: str) -> Res:
    return view.one(ROLE, f"app-iam-{suffix}")


def role_statements(view: StackView, suffix: str) -> list[dict[str, Any]]:
    policy = view.one(ROLE_POLICY, f"app-iam-{suffix}")
    return list(policy.json_input("policy")["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement(statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    [found] = [s for s in statements if s.get("Sid") == sid]
    return found


def dockerfile_user() -> str:
    """The `USER` of the final stage of app/Dockerfile."""
    text = (Path(ROOT) / "app" / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^\s*USER\s+(\S+)\s*$", text, flags=re.MULTILINE | re.IGNORECASE)
    assert users, "app/Dockerfile declares no USER"
    return users[-1]
