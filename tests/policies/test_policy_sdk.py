"""AUDIT-1: the pulumi-policy surface the offline analyzer relies on is still there (tools/policy_sdk.py).

pulumi-policy keeps the exception behind `not_applicable()` private and the unknown-value
proxy outside its `__all__`. The checker uses no private name, and the version it was
verified against is pinned; when an upgrade changes any of it, these tests say what.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tools import policy_sdk

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"


def test_audit1_pulumi_policy_surface_is_what_the_checker_was_verified_against() -> None:
    """AUDIT-1: version, not_applicable() exception and reason, unknown proxy and deserializer behave as tools/policy_sdk.py assumes."""
    problems = policy_sdk.sdk_problems()
    assert not problems, "pulumi-policy changed under the offline checker (tools/policy_sdk.py):\n- " + "\n- ".join(problems)


def test_audit1_pulumi_policy_is_pinned_to_the_verified_version() -> None:
    """AUDIT-1: policies/requirements.in pins pulumi-policy exactly, and both lock files resolve that version."""
    pin = f"pulumi-policy=={policy_sdk.PINNED_VERSION}"
    spec = (ROOT / "policies" / "requirements.in").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(pin)}\s*$", spec, re.M), f"policies/requirements.in must pin {pin} (tools/policy_sdk.py PINNED_VERSION)"
    for lock in ("policies/requirements.txt", "requirements-dev.txt"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        assert re.search(rf"^{re.escape(pin)} \\", text, re.M), f"{lock} does not resolve {pin}: run `make lock`"


def test_audit1_tools_import_no_private_pulumi_policy_name() -> None:
    """AUDIT-1: no module under tools/ imports an underscored name from pulumi_policy (only tools/policy_sdk.py touches non-__all__ modules)."""
    offenders: list[str] = []
    for path in sorted(TOOLS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_policy"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private or "._" in (node.module or ""):
                    offenders.append(f"{path.name}: from {node.module} import {', '.join(a.name for a in node.names)}")
                if node.module != "pulumi_policy" and path.name != "policy_sdk.py":
                    offenders.append(
                        f"{path.name}: imports {node.module} (outside pulumi_policy's __all__; go through tools/policy_sdk.py)"
                    )
    assert not offenders, offenders


def test_audit1_not_applicable_class_is_found_through_the_public_method() -> None:
    """AUDIT-1: NOT_APPLICABLE is what the public `not_applicable()` raises, and it is not an unknown-value error."""
    from pulumi_policy import StackValidationArgs

    try:
        StackValidationArgs([], None, {}).not_applicable("why")
    except policy_sdk.NOT_APPLICABLE as exc:
        assert policy_sdk.not_applicable_reason(exc) == "why"
    else:  # pragma: no cover - the SDK stopped raising
        raise AssertionError("not_applicable() did not raise")
    assert not issubclass(policy_sdk.NOT_APPLICABLE, policy_sdk.UnknownValueError)
