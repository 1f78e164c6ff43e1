"""AUDIT-1: tools/analyzer.py calls policies the way the SDK's analyzer does, on small hand-made exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from policies.kakoi_policy.base import ADVISORY, LOW, MANDATORY, Cfg, KakoiResourcePolicy, KakoiStackPolicy, Node, Stack, Violation
from tests.policies.minidoc import BUCKET, doc, resource
from tools.analyzer import ValueDecoder, evaluate
from tools.check_config import PolicyConfig
from tools.check_errors import CheckError
from tools.exports import SECRET_SIG, SIG

COMMON: dict[str, Any] = {"description": "probe", "severity": LOW, "remediation": "-", "securityhub": ("S3.1",)}


def _resource_policy(check: Any, level: Any = MANDATORY) -> KakoiResourcePolicy:
    return KakoiResourcePolicy(name="kakoi-test-probe", types=(BUCKET,), check=check, level=level, **COMMON)


def _stack_policy(check: Any) -> KakoiStackPolicy:
    return KakoiStackPolicy(name="kakoi-test-stack-probe", types=(BUCKET,), check=check, level=ADVISORY, **COMMON)


def test_audit1_decoder_reads_plaintext_secrets_and_counts_encrypted_ones() -> None:
    """AUDIT-1: `--show-secrets` plaintext is read; ciphertext becomes an unknown and is counted."""
    decoder = ValueDecoder()
    plain = {SIG: SECRET_SIG, "plaintext": '"hunter2"'}
    sealed = {SIG: SECRET_SIG, "ciphertext": "v1:abc"}
    assert decoder.value({"a": plain, "b": [sealed]})["a"] == "hunter2"
    assert decoder.encrypted_secrets == 1


def test_audit1_resource_policies_see_inputs_and_only_their_types() -> None:
    """AUDIT-1: a resource policy is called per resource of its types with the inputs, and its violations are mandatory."""
    seen: list[Any] = []

    def check(props: Node, cfg: Cfg, args: Any) -> Iterator[str]:
        seen.append(props.get("bucket"))
        yield "bad bucket"

    d = doc(resource(BUCKET, "a", {"bucket": "in-a"}, {"bucket": "out-a"}), resource("aws:sns/topic:Topic", "t"))
    report = evaluate(d, policies=[_resource_policy(check)])
    assert seen == ["in-a"] and report.subjects["kakoi-test-probe"] == 1
    [finding] = report.findings
    assert (finding.kind, finding.level, finding.urn.endswith("::a")) == ("violation", "mandatory", True)
    assert report.exit_code == 1


def test_audit1_unknown_value_is_an_advisory_undecided_finding() -> None:
    """AUDIT-1: an unknown (secret) value makes the policy say "cannot decide" at advisory level, never pass."""

    def check(props: Node, cfg: Cfg, args: Any) -> Iterator[str]:
        if props.get("bucket") != "ok":
            yield "bad"

    d = doc(resource(BUCKET, "a", {"bucket": {SIG: SECRET_SIG, "ciphertext": "v1:x"}}))
    report = evaluate(d, policies=[_resource_policy(check)])
    [finding] = report.findings
    assert finding.kind == "undecided" and finding.level == "advisory" and "bucket" in finding.message
    assert report.exit_code == 0 and report.encrypted_secrets >= 1  # counted in the inputs and in the outputs


def test_audit1_not_applicable_is_recorded_with_its_reason() -> None:
    """AUDIT-1: a policy calling the public `args.not_applicable(reason)` is recorded, not an error (stack and resource)."""

    def resource_check(props: Node, cfg: Cfg, args: Any) -> Iterator[str]:
        args.not_applicable("no buckets of that kind")
        yield from ()

    def stack_check(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
        raise_not_applicable()
        yield from ()

    def raise_not_applicable() -> None:
        from pulumi_policy import StackValidationArgs

        StackValidationArgs([], None, {}).not_applicable("nothing to judge")

    d = doc(resource(BUCKET, "a"))
    report = evaluate(d, policies=[_resource_policy(resource_check), _stack_policy(stack_check)])
    assert report.findings == []
    assert report.not_applicable == {"kakoi-test-probe": "no buckets of that kind", "kakoi-test-stack-probe": "nothing to judge"}


def test_audit1_stack_policies_see_outputs_parents_and_options() -> None:
    """AUDIT-1: stack policies get outputs, protect and the parent chain; external reads are in the stack."""
    got: dict[str, Any] = {}

    def check(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
        for b in stack.of(BUCKET):
            got[b.name] = (b.get("bucket"), b.protect, [p.resource_type for p in b.ancestors()])
        yield from ()

    d = doc(resource(BUCKET, "a", {"bucket": "in"}, {"bucket": "out"}, protect=True), resource(BUCKET, "ext", external=True))
    evaluate(d, policies=[_stack_policy(check)])
    assert got["a"] == ("out", True, ["pulumi:pulumi:Stack"]) and "ext" in got


def test_audit1_a_policy_that_crashes_is_a_check_error_naming_it() -> None:
    """AUDIT-1: a bug in a policy is exit 2 with the policy and the URN, not a traceback or a pass."""

    def check(props: Node, cfg: Cfg, args: Any) -> Iterator[str]:
        raise ZeroDivisionError("boom")
        yield ""

    with pytest.raises(CheckError, match=r"policy kakoi-test-probe failed on urn:.*::a: ZeroDivisionError: boom"):
        evaluate(doc(resource(BUCKET, "a")), policies=[_resource_policy(check)])


def test_audit1_config_levels_disable_and_downgrade() -> None:
    """AUDIT-1: a disabled policy is not called; an advisory one does not fail the check."""

    def check(props: Node, cfg: Cfg, args: Any) -> Iterator[str]:
        yield "bad"

    from pulumi_policy import EnforcementLevel

    d = doc(resource(BUCKET, "a"))
    off = evaluate(d, PolicyConfig(levels={"kakoi-test-probe": EnforcementLevel.DISABLED}), policies=[_resource_policy(check)])
    assert off.findings == [] and off.status(off.policies[0]) == "disabled"
    soft = evaluate(d, PolicyConfig(levels={"kakoi-test-probe": EnforcementLevel.ADVISORY}), policies=[_resource_policy(check)])
    assert soft.exit_code == 0 and soft.status(soft.policies[0]) == "warn"
