"""The offline checker behaves like the engine (AUDIT-1) and reports clearly.

Unknown values (preview) and encrypted secrets make a policy say "cannot decide" at
advisory level instead of passing; resource policies see inputs, stack policies see
outputs; providers, the Stack and components are presented; config works like
`--policy-pack-config`; bad files exit 2 with a message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.kakoi_policy import all_policies
from policies.kakoi_policy.base import ADVISORY, LOW, KakoiResourcePolicy, KakoiStackPolicy
from tests.policies.support import add, augmented, del_prop, one, run, set_prop, stack_config
from tools.check import CheckError, evaluate, main, parse_config, parse_export

LISTENER = "aws:lb/listener:Listener"
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}


def _write(tmp_path: Path, doc: Any, name: str = "prod.stack.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_enc1_unknown_ssl_policy_is_undecided_not_passed() -> None:
    """ENC-1: an sslPolicy unknown during preview gives an advisory 'cannot decide', not a silent pass."""
    doc = augmented("prod")
    set_prop(one(doc, LISTENER, "edge-https"), "sslPolicy", UNKNOWN_STRING_VALUE)
    report = run(doc, "kakoi-enc-alb-tls13-only")
    [finding] = report.for_policy("kakoi-enc-alb-tls13-only")
    assert finding.kind == "undecided" and finding.level == "advisory"
    assert "cannot decide" in finding.message and "sslPolicy" in finding.message
    assert report.exit_code == 0 and report.status(report.policies[0]) == "undecided"


def test_net1_stack_policy_decides_what_it_can_and_defers_the_rest() -> None:
    """NET-1: a stack policy reports decidable violations (mandatory) and defers unknown resources (advisory)."""
    doc = augmented("prod")
    set_prop(one(doc, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "media"), "blockPublicPolicy", UNKNOWN_STRING_VALUE)
    doc["deployment"]["resources"] = [
        r
        for r in doc["deployment"]["resources"]
        if not (r["type"] == "aws:s3/bucketPolicy:BucketPolicy" and r["urn"].endswith("::availability-artifacts"))
    ]
    report = run(doc, "kakoi-s3-bucket-baseline")
    kinds = {(f.kind, f.level) for f in report.for_policy("kakoi-s3-bucket-baseline")}
    assert kinds == {("violation", "mandatory"), ("undecided", "advisory")}
    undecided = next(f for f in report.findings if f.kind == "undecided")
    assert "media" in undecided.message and "blockPublicPolicy" in undecided.message


def test_enc1_encrypted_secret_in_a_real_export_is_undecided_and_plaintext_is_read() -> None:
    """ENC-1: `pulumi stack export` ciphertext cannot be read offline (undecided); --show-secrets plaintext is judged."""
    doc = augmented("prod")
    https = one(doc, LISTENER, "edge-https")
    https["inputs"]["sslPolicy"] = SECRET
    report = run(doc, "kakoi-enc-alb-tls13-only")
    assert [f.kind for f in report.findings] == ["undecided"] and report.encrypted_secrets >= 1
    https["inputs"]["sslPolicy"] = {
        **{k: v for k, v in SECRET.items() if k != "ciphertext"},
        "plaintext": json.dumps("ELBSecurityPolicy-TLS13-1-2-2021-06"),
    }
    report = run(doc, "kakoi-enc-alb-tls13-only")
    assert [f.kind for f in report.findings] == ["violation"] and report.exit_code == 1


def test_net1_external_resources_are_not_analyzed_but_are_in_the_stack() -> None:
    """NET-1: read-only (external) resources skip resource policies, as reads do in the engine, but stack policies see them."""
    doc = augmented("prod")
    db = add(
        doc,
        "aws:rds/instance:Instance",
        "legacy-db",
        {},
        {"publiclyAccessible": True, "arn": "arn:aws:rds:ap-northeast-1:123456789012:db:legacy"},
        external=True,
    )
    assert db["external"]
    assert not run(doc, "kakoi-net-rds-not-public").findings
    cross = run(doc, "kakoi-bcp-rds-cross-region-backups")
    assert any("legacy-db" in f.urn for f in cross.findings)


def test_audit1_engine_presentation_of_providers_stack_and_components() -> None:
    """AUDIT-1: resource policies see inputs of every registered resource (Stack, components, providers), with the
    provider's inputs; stack policies see outputs with parents resolved."""
    seen: dict[str, Any] = {"types": set()}

    def check_resource(props: Any, cfg: Any, args: Any) -> list[str]:
        seen["types"].add(args.resource_type)
        if args.resource_type == LISTENER and args.name == "edge-https":
            seen["input_arn"] = props.get("arn")
            seen["provider_region"] = args.provider.props["region"]
        return []

    def check_stack(stack: Any, cfg: Any) -> list[Any]:
        listener = next(r for r in stack.of(LISTENER) if r.name == "edge-https")
        seen["output_arn"] = listener.get("arn")
        seen["parent"] = listener.res.parent.resource_type
        return []

    types = ("pulumi:pulumi:Stack", "pulumi:providers:aws", "kakoi:edge:Edge", LISTENER)
    common: dict[str, Any] = {"description": "probe", "level": ADVISORY, "severity": LOW, "remediation": "-", "securityhub": ("S3.1",)}
    probes = [
        KakoiResourcePolicy(name="kakoi-test-inputs", types=types, check=check_resource, **common),
        KakoiStackPolicy(name="kakoi-test-outputs", types=(LISTENER,), check=check_stack, **common),
    ]
    evaluate(augmented("prod"), policies=probes)
    assert set(types) <= seen["types"]
    assert seen["input_arn"] is None  # inputs: the ARN is computed by the provider
    assert seen["output_arn"].startswith("arn:aws:elasticloadbalancing:")  # outputs
    assert seen["provider_region"] == "ap-northeast-1"
    assert seen["parent"] == "kakoi:edge:Edge"


def test_audit1_config_levels_and_properties_like_policy_pack_config() -> None:
    """AUDIT-1: 'all' and per-policy enforcement levels, typed settings (as floats, like the engine's Struct), unknown names refused."""
    doc = augmented("prod")
    set_prop(one(doc, "aws:rds/instance:Instance"), "backupRetentionPeriod", 10)
    assert run(doc, "kakoi-bak-rds-backup-retention").exit_code == 0
    strict = run(doc, "kakoi-bak-rds-backup-retention", {"kakoi-bak-rds-backup-retention": {"minimumRetentionDays": 14}})
    assert strict.exit_code == 1 and "at least 14" in strict.findings[0].message
    relaxed = run(
        doc, "kakoi-bak-rds-backup-retention", {"all": "advisory", "kakoi-bak-rds-backup-retention": {"minimumRetentionDays": 14}}
    )
    assert relaxed.exit_code == 0 and relaxed.findings[0].level == "advisory"
    off = run(
        doc,
        "kakoi-bak-rds-backup-retention",
        {"kakoi-bak-rds-backup-retention": {"enforcementLevel": "disabled", "minimumRetentionDays": 14}},
    )
    assert not off.findings
    raised = run(augmented("staging"), "kakoi-elb-deletion-protection", {"kakoi-elb-deletion-protection": "mandatory"})
    assert raised.exit_code == 1
    with pytest.raises(CheckError, match="unknown policy"):
        parse_config({"kakoi-no-such-policy": "advisory"}, all_policies(), "cfg")
    with pytest.raises(CheckError, match="not of type integer"):
        parse_config({"kakoi-bak-rds-backup-retention": {"minimumRetentionDays": "seven"}}, all_policies(), "cfg")
    with pytest.raises(CheckError, match="unknown setting"):
        parse_config({"kakoi-bak-rds-backup-retention": {"minimumDays": 7}}, all_policies(), "cfg")


def test_enc1_prod_config_file_is_valid_and_used_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ENC-1: policies/config.prod.json validates, carries the allow-list, and is picked up for a prod export."""
    config = stack_config("prod")
    assert config.properties["kakoi-enc-alb-tls13-only"]["allowedPolicies"]
    assert config.properties["kakoi-gov-allowed-regions"]["allowedRegions"] == ["ap-northeast-1", "ap-northeast-3"]
    assert main([str(_write(tmp_path, augmented("prod")))]) == 0
    assert "config policies/config.prod.json" in capsys.readouterr().out


def test_enc1_cli_exit_codes_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ENC-1: exit 1 on a mandatory violation, grouped by policy with URN and remediation; JSON for machines."""
    doc = augmented("prod")
    del_prop(one(doc, LISTENER, "edge-https"), "sslPolicy")
    path = _write(tmp_path, doc)
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL kakoi-enc-alb-tls13-only" in out and "edge-https" in out and "remediation:" in out and "ELBSecurityPolicy-2016-08" in out
    assert main([str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    [finding] = [f for f in data["findings"] if f["policy"] == "kakoi-enc-alb-tls13-only"]
    assert finding["enforcementLevel"] == "mandatory" and finding["urn"].endswith("::edge-https") and finding["remediation"]
    assert data["exitCode"] == 1 and data["summary"]["mandatoryViolations"] >= 1
    assert main([str(path), "--format", "markdown"]) == 1
    assert "| fail | `kakoi-enc-alb-tls13-only`" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ('{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:prod::kakoi::aws:s3/bucket:Bucket::b", "ty', "truncated"),
        ('{"version": 2, "deployment": {}}', "unsupported deployment version"),
        ('{"version": 3, "deployment": {"resources": [{"type": "x"}]}}', "no valid 'urn'"),
        ('{"version": 3, "deployment": {"resources": "nope"}}', "not a list"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_audit1_malformed_files_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    """AUDIT-1: a malformed or truncated export gives a clear error and exit code 2, not a traceback."""
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_audit1_missing_file_and_bad_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """AUDIT-1: a missing export or an invalid config is a usage error (2)."""
    assert main([str(tmp_path / "none.json")]) == 2
    bad = tmp_path / "cfg.json"
    bad.write_text('{"kakoi-enc-alb-tls13-only": {"allowedPolicies": ["ELBSecurityPolicy-2016-08"]}}', encoding="utf-8")
    assert main([str(_write(tmp_path, augmented("prod"))), "--config", str(bad)]) == 2
    assert "not one of" in capsys.readouterr().err


def test_audit1_parse_export_skips_pending_deletes() -> None:
    """AUDIT-1: resources pending deletion are not part of the new state the policies judge."""
    doc = {
        "version": 3,
        "deployment": {
            "resources": [{"urn": "urn:pulumi:p::k::aws:s3/bucket:Bucket::old", "type": "aws:s3/bucket:Bucket", "delete": True}]
        },
    }
    assert parse_export(doc) == []


def test_audit1_prod_and_staging_have_no_mandatory_violation() -> None:
    """AUDIT-1: the whole pack on the rendered prod and staging stacks (with their configs): no mandatory violation."""
    for stack in ("prod", "staging"):
        report = run(augmented(stack), None, stack_config(stack))
        assert report.mandatory == [], [(f.policy, f.urn, f.message) for f in report.mandatory]
        assert not [f for f in report.findings if f.kind == "undecided"]


def test_audit1_tools_check_keeps_the_names_its_importers_use() -> None:
    """AUDIT-1: tools.check re-exports what tools/diff.py, verdict.py, controls*.py, preview.py, bench and the tests import."""
    import tools.check as check
    from tools import analyzer, check_config, exports, report

    assert check.SIG is exports.SIG and check.SECRET_SIG is exports.SECRET_SIG
    assert check.parse_export is exports.parse_export and check.read_export is exports.read_export
    assert check.evaluate is analyzer.evaluate and check.Report is report.Report and check.Finding is report.Finding
    assert check.PolicyConfig is check_config.PolicyConfig and check.load_config is check_config.load_config
    assert check.parse_config is check_config.parse_config and check.CheckError is exports.CheckError
    for name in ("check_file", "main", "format_text", "format_json", "format_markdown", "PACK_NAME", "PACK_VERSION"):
        assert hasattr(check, name), name
