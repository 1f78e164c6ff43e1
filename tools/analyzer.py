"""Running the kakoi pack on parsed export resources the way the policy SDK's analyzer does.

During `pulumi preview` the engine calls resource policies once per registered resource
with its *inputs* (the Stack, components and providers included; read-only `external`
resources are not analyzed) and stack policies once with every resource's *outputs*, its
options, provider, parent and dependencies. `evaluate` does the same on an export:
values are decoded from the export's serialized form (`ValueDecoder`) and wrapped in the
SDK's unknown-checking proxy, so an unknown (or, offline, an encrypted secret) makes a
policy report "cannot decide" at advisory level, as the engine does. A policy that calls
`args.not_applicable(reason)` is recorded in `Report.not_applicable`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from inspect import isawaitable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policies.kakoi_policy import KakoiPolicy, KakoiResourcePolicy, KakoiStackPolicy, all_policies
from tools.check_config import PolicyConfig
from tools.check_errors import CheckError
from tools.exports import ARCHIVE_SIG, ASSET_SIG, RESOURCE_SIG, SECRET_SIG, SIG, ExportResource, parse_export
from tools.policy_sdk import (
    NOT_APPLICABLE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    deserialize_properties,
    not_applicable_reason,
    unknown_checking_proxy,
)
from tools.report import Finding, Report


class ValueDecoder:
    """Turns export values into what the analyzer hands policies (secrets, assets, references)."""

    def __init__(self) -> None:
        #: secrets that could not be decrypted offline (each one is an unknown to the policies)
        self.encrypted_secrets = 0

    def value(self, v: Any) -> Any:
        if isinstance(v, dict):
            sig = v.get(SIG)
            if sig == SECRET_SIG:
                if "value" in v:
                    return self.value(v["value"])
                if "plaintext" in v:
                    try:
                        return self.value(json.loads(v["plaintext"]))
                    except (TypeError, ValueError):
                        return v["plaintext"]
                self.encrypted_secrets += 1
                return UNKNOWN_STRING_VALUE  # cannot be decrypted offline: the policy cannot decide on it
            if sig in (ASSET_SIG, ARCHIVE_SIG):
                return v if any(k in v for k in ("path", "text", "uri", "assets")) else UNKNOWN_OBJECT_VALUE
            if sig == RESOURCE_SIG:
                return str(v.get("urn") or v.get("id") or "")
            if sig is not None:
                return str(sig)
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        return v

    def props(self, raw: dict[str, Any]) -> Any:
        try:
            return unknown_checking_proxy(deserialize_properties(self.value(raw)))
        except AssertionError as exc:
            raise CheckError(f"a property value cannot be decoded ({exc})") from exc


def _run(result: Any) -> None:
    if isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()


def _opts(r: ExportResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), list(r.additional_secret_outputs), r.parent)


def evaluate(
    doc: Any,
    config: PolicyConfig | None = None,
    *,
    policies: Sequence[KakoiPolicy] | None = None,
    source: str = "<export>",
) -> Report:
    """Run the pack on an export document the way the engine would."""
    started = time.perf_counter()
    pack = list(policies) if policies is not None else all_policies()
    config = config or PolicyConfig()
    resources = parse_export(doc, source)
    decoder = ValueDecoder()
    levels = {p.name: config.levels.get(p.name) or p.enforcement_level or EnforcementLevel.ADVISORY for p in pack}
    findings: list[Finding] = []
    not_applicable: dict[str, str] = {}
    subjects: dict[str, int] = {}
    by_urn = {r.urn: r for r in resources}

    try:
        input_props = {r.urn: decoder.props(r.inputs) for r in resources if not r.external}
        output_props = {r.urn: decoder.props(r.outputs) for r in resources}
        provider_inputs = {r.urn: decoder.props(r.inputs) for r in resources if r.type.startswith("pulumi:providers:")}
    except CheckError as exc:
        raise CheckError(f"{source}: {exc}") from exc

    def provider_of(r: ExportResource) -> PolicyProviderResource | None:
        p = by_urn.get(r.provider_urn or "")
        if p is None:
            return None
        return PolicyProviderResource(p.type, provider_inputs.get(p.urn, {}), p.urn, p.name)

    def reporter(policy: KakoiPolicy, default_urn: str) -> Callable[[str, str | None], None]:
        level = levels[policy.name]
        if level == EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY
        severity = policy.severity.value if policy.severity else ""

        def report(message: str, urn: str | None = None) -> None:
            findings.append(Finding(policy.name, level.value, severity, urn or default_urn, message, "violation"))

        return report

    stack_root = next((r.urn for r in resources if r.type == "pulumi:pulumi:Stack"), "")
    resource_policies = [p for p in pack if isinstance(p, KakoiResourcePolicy) and levels[p.name] != EnforcementLevel.DISABLED]
    for p in resource_policies:
        subjects[p.name] = 0
    for r in resources:
        if r.external:
            continue  # reads are not analyzed, only registrations
        props = input_props[r.urn]
        provider = provider_of(r)
        opts = _opts(r)
        for policy in resource_policies:
            if r.type not in policy.info.types:
                continue  # a kakoi resource policy judges only its types (KakoiResourcePolicy._validate returns at once)
            subjects[policy.name] += 1
            args = ResourceValidationArgs(r.type, props, r.urn, r.name, opts, provider, config.properties.get(policy.name), {})
            try:
                _run(policy.validate(args, reporter(policy, r.urn)))
            except UnknownValueError as exc:
                findings.append(Finding(policy.name, "advisory", "", r.urn, exc.message, "undecided"))
            except NOT_APPLICABLE as exc:
                not_applicable[policy.name] = not_applicable_reason(exc)
            except Exception as exc:
                raise CheckError(f"policy {policy.name} failed on {r.urn}: {type(exc).__name__}: {exc}") from exc

    stack_policies = [p for p in pack if isinstance(p, KakoiStackPolicy) and levels[p.name] != EnforcementLevel.DISABLED]
    if stack_policies:
        policy_resources: dict[str, PolicyResource] = {}
        for r in resources:
            policy_resources[r.urn] = PolicyResource(r.type, output_props[r.urn], r.urn, r.name, _opts(r), provider_of(r), None, [], {})
        for r in resources:
            pr = policy_resources[r.urn]
            pr.parent = policy_resources.get(r.parent or "")
            pr.dependencies = [policy_resources[d] for d in r.dependencies if d in policy_resources]
            pr.property_dependencies = {
                k: [policy_resources[u] for u in v if u in policy_resources] for k, v in r.property_dependencies.items()
            }
        listed = list(policy_resources.values())
        for policy in stack_policies:
            subjects[policy.name] = sum(1 for r in resources if r.type in policy.info.types)
            args = StackValidationArgs(listed, config.properties.get(policy.name), {})
            try:
                _run(policy.validate(args, reporter(policy, stack_root)))
            except UnknownValueError as exc:
                findings.append(Finding(policy.name, "advisory", "", stack_root, exc.message, "undecided"))
            except NOT_APPLICABLE as exc:
                not_applicable[policy.name] = not_applicable_reason(exc)
            except Exception as exc:
                raise CheckError(f"policy {policy.name} failed on the stack: {type(exc).__name__}: {exc}") from exc

    order = {p.name: i for i, p in enumerate(pack)}
    findings.sort(key=lambda f: (f.level != "mandatory", order[f.policy], f.urn, f.message))
    return Report(
        source=source,
        config_source=config.source,
        resources=sum(1 for r in resources if r.custom),
        policies=pack,
        levels=levels,
        findings=findings,
        not_applicable=not_applicable,
        subjects=subjects,
        encrypted_secrets=decoder.encrypted_secrets,
        seconds=time.perf_counter() - started,
    )


__all__ = ["ValueDecoder", "evaluate"]
