"""No silent weakening: every policy is mandatory for prod, and a weakening of prod fails `make check`.

The registry tests/policies/mutations.py holds one weakening of the prod render per
policy; each must make the offline check (what `make check FILE=...` runs, with
policies/config.prod.json and the whole pack) exit 1 with that policy among the
mandatory failures. policies/kakoi_policy/levels.py lists the only policies a stack's
config keeps advisory, with the reason; the configs must agree with it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from policies.kakoi_policy import all_policies
from policies.kakoi_policy.levels import ADVISORY, advisory_for
from tests.conftest import rendered_doc
from tests.policies.mutations import MUTATIONS, mutated
from tests.policies.support import POLICIES, ROOT, stack_config
from tools import check
from tools.render import dumps
from tools.stackfiles import project_schema

#: the weakenings the issue found passing with only an advisory line (issue 16)
ISSUE_EXAMPLES = (
    "kakoi-elb-drop-invalid-headers",
    "kakoi-kms-key-rotation",
    "kakoi-elb-waf-associated",
    "kakoi-ecs-readonly-root-filesystem",
)


def test_audit1_every_policy_has_a_registered_weakening_of_prod() -> None:
    """AUDIT-1: the mutation registry covers every policy of the pack, and names no other."""
    missing = sorted(set(POLICIES) - set(MUTATIONS))
    unknown = sorted(set(MUTATIONS) - set(POLICIES))
    assert not missing and not unknown, {"policies without a mutation in tests/policies/mutations.py": missing, "unknown": unknown}
    assert all(label.strip() for label, _ in MUTATIONS.values())


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_audit1_each_weakening_of_prod_fails_the_check(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """AUDIT-1: the registered weakening of the prod render makes the offline check exit 1 on a mandatory violation of that policy."""
    path = tmp_path / "prod.stack.json"
    path.write_text(dumps(mutated(rendered_doc("prod"), name)), encoding="utf-8")
    code = check.main([str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert report["config"] == "policies/config.prod.json"
    failing = {f["policy"] for f in report["findings"] if f["kind"] == "violation" and f["enforcementLevel"] == "mandatory"}
    assert code == 1, f"{name}: {MUTATIONS[name][0]!r} passed the check"
    assert name in failing, f"{name}: {MUTATIONS[name][0]!r} failed only {sorted(failing)}"


def test_audit1_the_unmutated_prod_render_passes_every_policy() -> None:
    """AUDIT-1: the default program satisfies every policy, so every weakening above is a real change."""
    report = check.evaluate(rendered_doc("prod"), stack_config("prod"))
    assert not report.findings, [(f.policy, f.message) for f in report.findings]


def test_audit1_make_check_exits_1_on_the_weakenings_the_issue_found(tmp_path: Path) -> None:
    """AUDIT-1: through make itself, each weakening that used to pass with an advisory line now fails `make check` (the check exits 1)."""
    for name in ISSUE_EXAMPLES:
        path = tmp_path / f"{name}.json"
        path.write_text(dumps(mutated(rendered_doc("prod"), name)), encoding="utf-8")
        proc = subprocess.run(["make", "-s", "check", f"FILE={path}"], cwd=ROOT, capture_output=True, text=True, check=False)
        # GNU make exits 2 whenever a recipe fails and names the recipe's own exit code ("Error 1")
        assert proc.returncode == 2 and "Error 1" in proc.stderr, (name, proc.stdout[-2000:], proc.stderr[-2000:])
        assert re.search(rf"^FAIL {re.escape(name)} \[mandatory", proc.stdout, re.M), proc.stdout[-2000:]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_audit1_stack_configs_are_mandatory_except_the_listed_exceptions(stack: str) -> None:
    """AUDIT-1: config.<stack>.json makes every policy mandatory except those levels.py lists with a reason."""
    raw = json.loads((ROOT / "policies" / f"config.{stack}.json").read_text(encoding="utf-8"))
    assert raw.get("all") == "mandatory", "a new policy must be mandatory by default"
    levels = stack_config(stack).levels
    exceptions = advisory_for(stack)
    for policy in all_policies():
        wanted = "advisory" if policy.name in exceptions else "mandatory"
        assert levels[policy.name].value == wanted, (stack, policy.name)


def test_audit1_every_advisory_exception_names_its_config_switch_and_is_needed() -> None:
    """AUDIT-1: each exception's reason names a real kakoi: config key, and the stack's render really differs there."""
    keys = set(project_schema())
    for stack, exceptions in ADVISORY.items():
        doc = rendered_doc(stack)
        report = check.evaluate(doc, stack_config(stack))
        for name, reason in exceptions.items():
            assert name in POLICIES, name
            named = set(re.findall(r"kakoi:[A-Za-z0-9]+", reason))
            assert named and named <= keys, (stack, name, named - keys)
            assert report.status(POLICIES[name]) == "warn", f"{stack}: {name} passes there, so it needs no exception"


def test_audit1_prod_keeps_no_policy_advisory() -> None:
    """AUDIT-1: the default prod program satisfies every policy, and none stays advisory for prod."""
    assert advisory_for("prod") == {}
