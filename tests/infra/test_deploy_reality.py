"""A second `pulumi up` is a no-op (REC-1): the render avoids the known perpetual-diff traps of the resource types
it declares (docs/deploy-reality.md lists each with its source). Each test names the trap it guards against."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

from tools.stackview import Res, StackView

CIDR_KEYS = ("cidrIpv4", "cidrIpv6", "cidrBlock", "ipv6CidrBlock", "destinationCidrBlock", "destinationIpv6CidrBlock")
POLICY_KEYS = ("policy", "assumeRolePolicy")


def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)
    else:
        yield key, value


def test_rec1_every_cidr_is_canonical(each_stack: StackView) -> None:
    """AWS stores a CIDR as its network address (10.0.0.1/16 becomes 10.0.0.0/16): a non-canonical one would show a
    change on every run."""
    for r in each_stack:
        for key, value in walk(r.inputs):
            if key in CIDR_KEYS and isinstance(value, str):
                assert str(ipaddress.ip_network(value, strict=False)) == value, f"{r.name}.{key}: {value}"
        for value in r.inputs.get("ingressCidrs", []) if isinstance(r.inputs.get("ingressCidrs"), list) else []:
            assert str(ipaddress.ip_network(value, strict=False)) == value


def test_rec1_no_resource_repeats_a_default_tag(each_stack: StackView) -> None:
    """A key set both in the provider's default tags and on a resource makes tags/tagsAll differ on every plan
    (terraform-provider-aws#18311): resources add only their own keys."""
    (provider,) = each_stack.of_type("pulumi:providers:aws")
    raw = provider.inputs.get("defaultTags")
    default = json.loads(raw) if isinstance(raw, str) else (raw or {})
    keys = set((default.get("tags") or {}).keys())
    assert keys, "the stack tags every resource through the provider's default tags"
    for r in each_stack:
        if r.custom and isinstance(r.inputs.get("tags"), dict):
            assert not keys & set(r.inputs["tags"]), f"{r.name}: repeats default tag(s) {sorted(keys & set(r.inputs['tags']))}"


def containers(view: StackView) -> Iterator[tuple[Res, dict[str, Any]]]:
    # the app image's task definitions (components/app_service.hardened_container); the relay's are not covered yet
    for td in view.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        if str(td.inputs.get("family", "")).endswith("-relay"):
            continue
        for c in td.json_input("containerDefinitions"):
            yield td, c


def test_rec1_container_definitions_are_written_as_ecs_returns_them(each_stack: StackView) -> None:
    """ECS fills in cpu 0, empty portMappings/volumesFrom/systemControls and, in awsvpc mode, hostPort =
    containerPort; a definition that omits them differs from what AWS returns and is replaced on every run
    (terraform-provider-aws#3401, terraform-aws-consul-ecs#318). Environment and secrets are name-ordered."""
    seen = 0
    for td, c in containers(each_stack):
        seen += 1
        where = f"{td.name}/{c['name']}"
        assert c["cpu"] == 0 and c["volumesFrom"] == [] and c["systemControls"] == [], where
        assert isinstance(c["portMappings"], list), where
        for pm in c["portMappings"]:
            assert pm["hostPort"] == pm["containerPort"] and pm["protocol"] == "tcp", where
        for key in ("environment", "secrets"):
            names = [e["name"] for e in c.get(key, [])]
            assert names == sorted(names), f"{where}.{key} not name-ordered"
        assert isinstance(c["essential"], bool), where
    assert seen >= 3


def test_rec1_policy_documents_are_versioned_json(each_stack: StackView) -> None:
    """Every inline policy document is JSON with Version 2012-10-17 (an unversioned one is rewritten by AWS)."""
    for r in each_stack:
        for key in POLICY_KEYS:
            value = r.inputs.get(key)
            if isinstance(value, str) and value.startswith("{") and r.type != "aws:ecr/lifecyclePolicy:LifecyclePolicy":
                doc = json.loads(value)
                assert doc.get("Version") == "2012-10-17", f"{r.name}.{key}"
                sids = [s.get("Sid") for s in doc.get("Statement", []) if s.get("Sid")]
                assert len(sids) == len(set(sids)), f"{r.name}.{key}: duplicate Sid"


def test_rec1_autoscaling_owns_the_desired_count(each_stack: StackView) -> None:
    """An autoscaled service's desiredCount is set at creation only (ignoreChanges): autoscaling changes it
    afterwards; a service without a scaling target keeps its declared count (no ignoreChanges needed)."""
    scaled = {
        str(t.inputs.get("resourceId", "")).rsplit("/", 1)[-1]
        for t in each_stack.of_type("aws:appautoscaling/target:Target")
        if t.inputs.get("serviceNamespace") == "ecs"
    }
    assert scaled
    for svc in each_stack.of_type("aws:ecs/service:Service"):
        if svc.inputs["name"] in scaled:
            assert svc.raw.get("ignoreChanges") == ["desiredCount"], svc.name
        else:
            assert not svc.raw.get("ignoreChanges"), svc.name
