"""Helpers for the policy tests: rendered stacks, the container fixture, mutations, evaluation."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from policies.kakoi_policy import KakoiPolicy, all_policies
from tests.conftest import rendered_doc
from tools.check import PolicyConfig, Report, evaluate, load_config
from tools.render import render

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURE_PROGRAM = HERE / "fixtures" / "containers_program.py"
POLICIES = {p.name: p for p in all_policies()}

Doc = dict[str, Any]
Mutation = Callable[[Doc], None]


def policy(name: str) -> KakoiPolicy:
    return POLICIES[name]


def resources(doc: Doc) -> list[dict[str, Any]]:
    return doc["deployment"]["resources"]


def find(doc: Doc, typ: str, name: str | None = None) -> list[dict[str, Any]]:
    return [r for r in resources(doc) if r["type"] == typ and (name is None or r["urn"].split("::")[-1] == name)]


def one(doc: Doc, typ: str, name: str | None = None) -> dict[str, Any]:
    found = find(doc, typ, name)
    assert found, f"no {typ} {name or ''} in the document"
    return found[0]


def by_id(doc: Doc, typ: str) -> dict[str, str]:
    return {r["urn"].split("::")[-1]: r["outputs"].get("id") for r in find(doc, typ)}


@functools.cache
def _fixture_resources(stack: str) -> tuple[str, ...]:
    """The container fixture rendered for `stack`, as JSON strings (immutable, cached)."""
    base = rendered_doc(stack)
    ids = by_id(base, "aws:ec2/subnet:Subnet")
    subnets = [v for k, v in sorted(ids.items()) if "-private-" in k]
    overrides = {
        "fixture:alertTopicArn": one(base, "aws:sns/topic:Topic")["outputs"]["arn"],
        "fixture:appSecurityGroup": by_id(base, "aws:ec2/securityGroup:SecurityGroup")["sg-app"],
        "fixture:subnets": json.dumps(subnets),
        "fixture:logsKeyArn": one(base, "aws:kms/key:Key", "keys-logs")["outputs"]["arn"],
        "fixture:targetGroupArn": one(base, "aws:lb/targetGroup:TargetGroup", "edge")["outputs"]["arn"],
    }
    doc = render(stack, overrides=overrides, program=FIXTURE_PROGRAM)
    keep = [r for r in resources(doc) if r["type"] != "pulumi:pulumi:Stack"]
    return tuple(json.dumps(r) for r in keep)


def augmented(stack: str) -> Doc:
    """A fresh copy of the rendered stack plus the container fixture (a reference ECS/ECR service)."""
    doc = copy.deepcopy(rendered_doc(stack))
    urns = {r["urn"] for r in resources(doc)}
    for text in _fixture_resources(stack):
        r = json.loads(text)
        if r["urn"] not in urns:
            resources(doc).append(r)
    return doc


def _walk(container: dict[str, Any], path: tuple[Any, ...], create: bool) -> tuple[Any, Any] | None:
    for key in path[:-1]:
        if isinstance(container, list):
            container = container[key]
            continue
        if key not in container:
            if not create:
                return None
            container[key] = {}
        container = container[key]
    return container, path[-1]


def set_prop(res: dict[str, Any], path: tuple[Any, ...] | str, value: Any) -> None:
    """Set a property in the resource's inputs and outputs (as an update would)."""
    path = (path,) if isinstance(path, str) else path
    for side in ("inputs", "outputs"):
        res.setdefault(side, {})
        found = _walk(res[side], path, create=True)
        assert found is not None
        container, key = found
        container[key] = copy.deepcopy(value)


def del_prop(res: dict[str, Any], path: tuple[Any, ...] | str) -> None:
    """Remove a property from inputs and outputs (the program stops setting it)."""
    path = (path,) if isinstance(path, str) else path
    for side in ("inputs", "outputs"):
        found = _walk(res.get(side) or {}, path, create=False)
        if found is not None:
            container, key = found
            if isinstance(container, dict):
                container.pop(key, None)


def edit_json(res: dict[str, Any], key: str, fn: Callable[[Any], Any]) -> None:
    """Edit a property holding a JSON document (bucket policies, container definitions)."""
    doc = json.loads(res["inputs"][key])
    new = fn(doc)
    set_prop(res, key, json.dumps(doc if new is None else new))


def remove(doc: Doc, typ: str, name: str | None = None) -> None:
    doomed = {r["urn"] for r in find(doc, typ, name)}
    assert doomed, f"nothing to remove: {typ} {name}"
    doc["deployment"]["resources"] = [r for r in resources(doc) if r["urn"] not in doomed]


def add(doc: Doc, typ: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Append a custom resource under the stack, with the default provider, as the engine records it."""
    stack = next(r for r in resources(doc) if r["type"] == "pulumi:pulumi:Stack")
    provider = one(doc, "pulumi:providers:aws")
    prefix = stack["urn"].split("::pulumi:pulumi:Stack::")[0]
    res = {
        "urn": f"{prefix}::{typ}::{name}",
        "custom": True,
        "id": f"{name}-id",
        "type": typ,
        "inputs": copy.deepcopy(inputs),
        "outputs": {"id": f"{name}-id", "region": "ap-northeast-1", **copy.deepcopy(inputs), **(outputs or {})},
        "parent": stack["urn"],
        "provider": f"{provider['urn']}::{provider['id']}",
        **extra,
    }
    resources(doc).append(res)
    return res


def run(doc: Doc, name: str | None = None, config: PolicyConfig | dict[str, Any] | None = None) -> Report:
    """Evaluate one policy (or the whole pack) on a document."""
    from tools.check import parse_config

    pack = [POLICIES[name]] if name else all_policies()
    if isinstance(config, dict):
        config = parse_config(config, all_policies(), "<test config>")
    return evaluate(doc, config, policies=pack)


def stack_config(stack: str) -> PolicyConfig:
    path = ROOT / "policies" / f"config.{stack}.json"
    return load_config(path, all_policies()) if path.is_file() else PolicyConfig()


def violations(report: Report, name: str) -> list[str]:
    return [f"{f.urn.split('::')[-1]}: {f.message}" for f in report.findings if f.policy == name and f.kind == "violation"]


def iter_cases(cases: dict[str, list[tuple[str, Mutation]]]) -> Iterator[tuple[str, str, Mutation]]:
    for name, items in cases.items():
        for label, fn in items:
            yield name, label, fn
