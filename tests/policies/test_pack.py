"""AUDIT-1: the pack itself: it assembles and serves, its metadata is complete, it covers the sheet."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pulumi_policy.policy as policy_module
import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, PolicyPack
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components import data_class as program_data_class
from policies.kakoi_policy import TLS13_ONLY_POLICIES, all_policies, constants, pack_arguments
from stackconfig.edge import TLS13_ONLY_POLICIES as PROGRAM_TLS13_ONLY
from tools.controls import parse_sheet

ROOT = Path(__file__).resolve().parent.parent.parent
INFRA_ITEMS = ["NET-1", "ENC-1", "ENC-2", "AV-1", "BAK-1", "BAK-2", "BCP-1", "LOG-1", "MON-1", "MON-2", "MNT-1", "REC-1", "XSS-2", "CJ-1"]
NAME = re.compile(r"^kakoi-[a-z0-9]+-[a-z0-9-]+$")
SH_ID = re.compile(r"^(ACM|Backup|CloudTrail|CloudWatch|EC2|ECR|ECS|ELB|GuardDuty|KMS|RDS|S3|SNS|WAF)\.\d+$")


def test_enc1_pack_tls_allow_list_equals_the_programs() -> None:
    """ENC-1: the pack's TLS-1.3-only allow-list is the program's (stackconfig.edge), duplicated because the pack cannot import it."""
    assert TLS13_ONLY_POLICIES == PROGRAM_TLS13_ONLY
    assert all("TLS13-1-3" in p for p in TLS13_ONLY_POLICIES)


def test_enc1_av1_pack_data_class_vocabulary_equals_the_programs() -> None:
    """ENC-1, AV-1: the kakoi:data-class tag key and values the pack selects buckets by are the program's (components/data_class.py)."""
    assert constants.DATA_CLASS_TAG == program_data_class.DATA_CLASS_TAG
    assert constants.DATA_CLASSES == program_data_class.DATA_CLASSES
    for name in ("CUSTOMER_MEDIA", "LOGS", "ARTIFACTS"):
        assert getattr(constants, name) == getattr(program_data_class, name), name


def test_audit1_policy_names_are_unique_and_well_formed() -> None:
    """AUDIT-1: names are unique and read kakoi-<area>-<rule>."""
    names = [p.name for p in all_policies()]
    assert len(names) == len(set(names))
    assert all(NAME.match(n) for n in names), [n for n in names if not NAME.match(n)]


def test_audit1_every_policy_has_complete_metadata() -> None:
    """AUDIT-1: description, level, severity, remediation, sheet or Security Hub IDs, config defaults."""
    sheet_ids = {i.id for i in parse_sheet()}
    for p in all_policies():
        assert p.description and p.remediation_steps and p.severity is not None, p.name
        assert p.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY), p.name
        assert p.info.sheet_ids or p.info.securityhub, p.name
        assert set(p.info.sheet_ids) <= sheet_ids, (p.name, p.info.sheet_ids)
        assert all(SH_ID.match(c) for c in p.info.securityhub), (p.name, p.info.securityhub)
        assert p.info.types, p.name
        if p.enforcement_level == EnforcementLevel.MANDATORY:
            assert p.info.sheet_ids, f"{p.name}: mandatory policies enforce a sheet item"
        if p.config_schema is not None:
            for key, spec in p.config_schema.properties.items():
                assert "default" in spec and "type" in spec and spec.get("description"), (p.name, key)
        assert p.tags and all(t.startswith(("sheet:", "securityhub:")) for t in p.tags)


def test_audit1_every_infrastructure_sheet_item_is_enforced_by_a_mandatory_policy() -> None:
    """AUDIT-1: NET-1, ENC-1, ENC-2, AV-1, BAK-1, BAK-2, BCP-1, LOG-1, MON-1, MON-2, MNT-1, REC-1, XSS-2, CJ-1 each have one."""
    mandatory = [p for p in all_policies() if p.enforcement_level == EnforcementLevel.MANDATORY]
    missing = [i for i in INFRA_ITEMS if not any(i in p.info.sheet_ids for p in mandatory)]
    assert not missing


def test_audit1_required_security_hub_controls_are_mapped() -> None:
    """AUDIT-1: the ECS/ECR controls named in the issue and the core ELB/S3/RDS ones are each matched by a policy."""
    mapped = {c for p in all_policies() for c in p.info.securityhub}
    wanted = {"ECS.2", "ECS.4", "ECS.5", "ECS.8", "ECS.9", "ECS.12", "ECR.1", "ECR.2", "ECR.3", "ELB.1", "ELB.4", "ELB.5", "ELB.6"}
    wanted |= {
        "ELB.12",
        "ELB.13",
        "ELB.16",
        "ELB.17",
        "S3.5",
        "S3.8",
        "RDS.2",
        "RDS.3",
        "RDS.11",
        "GuardDuty.1",
        "CloudTrail.1",
        "KMS.4",
        "WAF.11",
    }
    assert wanted <= mapped, sorted(wanted - mapped)


def test_audit1_pulumipolicy_yaml_and_requirements() -> None:
    """AUDIT-1: PulumiPolicy.yaml runs Python in policies/venv; requirements are hashed and hold pulumi-policy."""
    spec = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert spec["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    reqs = (ROOT / "policies" / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^pulumi-policy==", reqs, re.MULTILINE) and "--hash=sha256:" in reqs


def _serve(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run policies/__main__.py for real (gRPC server on 127.0.0.1:0) and stop it from its wait loop."""
    seen: dict[str, Any] = {}
    real_add = policy_module.analyzer_pb2_grpc.add_AnalyzerServicer_to_server

    def capture(servicer: Any, server: Any) -> None:
        seen["servicer"] = servicer
        real_add(servicer, server)

    def stop(_seconds: float) -> None:
        servicer = seen["servicer"]
        seen["info"] = servicer.GetAnalyzerInfo(None, None)
        props = struct_pb2.Struct()
        json_format.ParseDict({"protocol": "HTTPS", "port": 443, "sslPolicy": UNKNOWN_STRING_VALUE}, props)
        request = proto.AnalyzeRequest(
            type="aws:lb/listener:Listener", properties=props, urn="urn:pulumi:prod::kakoi::aws:lb/listener:Listener::https", name="https"
        )
        seen["unknown"] = servicer.Analyze(request, None)
        json_format.ParseDict({"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, props)
        request = proto.AnalyzeRequest(
            type="aws:lb/listener:Listener", properties=props, urn="urn:pulumi:prod::kakoi::aws:lb/listener:Listener::https", name="https"
        )
        seen["weak"] = servicer.Analyze(request, None)
        raise KeyboardInterrupt

    monkeypatch.setattr(policy_module.analyzer_pb2_grpc, "add_AnalyzerServicer_to_server", capture)
    monkeypatch.setattr(policy_module.time, "sleep", stop)
    runpy.run_path(str(ROOT / "policies"), run_name="__main__")
    return seen


def test_audit1_pack_assembles_and_serves_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUDIT-1: policies/__main__.py builds the real PolicyPack; the analyzer lists every policy and judges engine requests."""
    seen = _serve(monkeypatch)
    info = seen["info"]
    assert info.name == "kakoi"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in all_policies())
    tls = next(p for p in info.policies if p.name == "kakoi-enc-alb-tls13-only")
    assert tls.enforcementLevel == proto.MANDATORY and "allowedPolicies" in tls.configSchema.properties
    # an unknown sslPolicy during preview: an advisory "can't run policy" diagnostic naming the property
    unknown = [d for d in seen["unknown"].diagnostics if d.policyName == "kakoi-enc-alb-tls13-only"]
    assert len(unknown) == 1 and unknown[0].enforcementLevel == proto.ADVISORY
    assert "cannot decide" in unknown[0].message and "sslPolicy" in unknown[0].message
    # a TLS 1.2 policy with a TLS13 prefix: a mandatory violation
    weak = [d for d in seen["weak"].diagnostics if d.policyName == "kakoi-enc-alb-tls13-only"]
    assert len(weak) == 1 and weak[0].enforcementLevel == proto.MANDATORY


def test_audit1_pack_arguments_build_a_policy_pack_without_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUDIT-1: pack_arguments() passes PolicyPack's own validation (name, policy types) before the server starts."""
    monkeypatch.setattr(policy_module.grpc, "server", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("validated")))
    with pytest.raises(RuntimeError, match="validated"):
        PolicyPack(**pack_arguments())  # type: ignore[arg-type]


def test_audit1_pack_modules_import_only_the_policy_sdk() -> None:
    """AUDIT-1: the pack runs in its own virtualenv, so its modules import only the stdlib, pulumi and pulumi_policy."""
    import ast
    import sys

    allowed = {"pulumi", "pulumi_policy", "kakoi_policy", "__future__"} | set(sys.stdlib_module_names)
    for path in sorted((ROOT / "policies").rglob("*.py")):
        if "venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{path.relative_to(ROOT)} imports {roots}"
