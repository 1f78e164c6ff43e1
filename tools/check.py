"""Offline policy check: run the kakoi CrossGuard pack on a `pulumi stack export` file.

    python -m tools.check build/prod.stack.json [--config policies/config.prod.json] [--format text|json|markdown]

The file may be the offline render (`python -m tools.render --stack prod`) or
the export of a live stack. The policies are called the way the policy SDK's
analyzer calls them during `pulumi preview`: resource policies once per
registered resource with its *inputs* (the Stack, components and providers
included; read-only `external` resources are not analyzed), stack policies once
with every resource's *outputs*, its options, provider, parent and
dependencies. Values are wrapped in `pulumi_policy`'s unknown-checking proxy, so
an unknown (or, offline, an encrypted secret) makes a policy report "cannot
decide" at advisory level, as the engine does.

Policy config is the JSON file `pulumi preview --policy-pack-config` takes
(`{"all": "mandatory", "<policy>": {"enforcementLevel": ..., "<key>": ...}}`).
Without --config, policies/config.<stack>.json is used when it exists (the
stack name is read from the export).

Exit codes: 0 no mandatory violation, 1 at least one mandatory violation,
2 the file or the config cannot be read (a clear message, never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # the command line: skip the SDK parts only the analyzer server needs (tools/lazy_imports.py)
    from tools.lazy_imports import defer

    defer()

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.kakoi_policy import PACK_NAME, KakoiPolicy, KakoiResourcePolicy, KakoiStackPolicy, all_policies  # noqa: E402

POLICY_DIR = ROOT / "policies"
PACK_VERSION = "0.1.0"

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - the export's secret signature, not a password
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"

LEVELS = {lvl.value: lvl for lvl in EnforcementLevel}


class CheckError(Exception):
    """The export or the config cannot be used (exit code 2)."""


# --- reading the export -------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportResource:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None
    provider_urn: str | None
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, list[str]]
    protect: bool
    external: bool
    additional_secret_outputs: tuple[str, ...]
    secrets: bool


def read_export(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CheckError(f"{p}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckError(f"{p}: cannot read ({exc})") from exc
    if not text.strip():
        raise CheckError(f"{p}: the file is empty (expected the output of `pulumi stack export`)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        stripped = text.rstrip()
        truncated = exc.pos >= len(stripped) - 1 or not stripped.endswith(("}", "]"))
        hint = " - the file looks truncated" if truncated else ""
        raise CheckError(f"{p}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from exc
    return doc


def _urn_name(urn: str) -> str:
    return urn.split("::")[-1]


def parse_export(doc: Any, source: str = "<export>") -> list[ExportResource]:
    """The resources of a version-3 deployment, validated enough to evaluate safely."""
    if not isinstance(doc, dict):
        raise CheckError(f"{source}: expected a JSON object with 'version' and 'deployment' (a `pulumi stack export`)")
    version = doc.get("version")
    if version != 3:
        raise CheckError(f"{source}: unsupported deployment version {version!r} (expected 3, from `pulumi stack export`)")
    deployment = doc.get("deployment")
    if not isinstance(deployment, dict):
        raise CheckError(f"{source}: 'deployment' is missing or not an object")
    raw = deployment.get("resources", [])
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise CheckError(f"{source}: 'deployment.resources' is not a list")
    out: list[ExportResource] = []
    seen: set[str] = set()
    for i, r in enumerate(raw):
        where = f"{source}: deployment.resources[{i}]"
        if not isinstance(r, dict):
            raise CheckError(f"{where} is not an object")
        urn, typ = r.get("urn"), r.get("type")
        if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
            raise CheckError(f"{where} has no valid 'urn'")
        if not isinstance(typ, str) or not typ:
            raise CheckError(f"{where} ({urn}) has no 'type'")
        for key in ("inputs", "outputs"):
            if r.get(key) is not None and not isinstance(r.get(key), dict):
                raise CheckError(f"{where} ({urn}): '{key}' is not an object")
        if r.get("delete"):
            continue  # pending deletion: not part of the new state
        if urn in seen:
            raise CheckError(f"{where}: duplicate urn {urn}")
        seen.add(urn)
        provider = r.get("provider")
        deps = r.get("dependencies") or []
        pdeps = r.get("propertyDependencies") or {}
        if not isinstance(deps, list) or not isinstance(pdeps, dict):
            raise CheckError(f"{where} ({urn}): malformed dependencies")
        out.append(
            ExportResource(
                urn=urn,
                type=typ,
                name=_urn_name(urn),
                custom=bool(r.get("custom")),
                inputs=r.get("inputs") or {},
                outputs=r.get("outputs") or {},
                parent=r.get("parent") or None,
                provider_urn=provider.rsplit("::", 1)[0] if isinstance(provider, str) and provider else None,
                dependencies=tuple(str(d) for d in deps),
                property_dependencies={str(k): [str(u) for u in (v or [])] for k, v in pdeps.items()},
                protect=bool(r.get("protect")),
                external=bool(r.get("external")),
                additional_secret_outputs=tuple(r.get("additionalSecretOutputs") or ()),
                secrets=False,
            )
        )
    return out


class _Engine:
    """Turns export values into what the analyzer hands policies (secrets, assets, references)."""

    def __init__(self) -> None:
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


# --- config ---------------------------------------------------------------------------------------
@dataclass
class PolicyConfig:
    levels: dict[str, EnforcementLevel] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "(policy defaults)"


def _level(value: Any, where: str) -> EnforcementLevel:
    if not isinstance(value, str) or value not in LEVELS:
        raise CheckError(f"{where}: enforcement level {value!r} is not one of {sorted(LEVELS)}")
    return LEVELS[value]


def _type_ok(value: Any, spec: dict[str, Any]) -> bool:
    t = spec.get("type")
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "array":
        return isinstance(value, list) and all(_type_ok(v, spec.get("items") or {}) for v in value)
    if t == "object":
        return isinstance(value, dict)
    return True


def _check_value(value: Any, spec: dict[str, Any], where: str) -> None:
    if not _type_ok(value, spec):
        raise CheckError(f"{where}: {value!r} is not of type {spec.get('type')}")
    items = value if isinstance(value, list) else [value]
    inner = spec.get("items", spec) if isinstance(value, list) else spec
    for v in items:
        if "enum" in inner and v not in inner["enum"]:
            raise CheckError(f"{where}: {v!r} is not one of {inner['enum']}")
        if "minimum" in inner and isinstance(v, (int, float)) and v < inner["minimum"]:
            raise CheckError(f"{where}: {v!r} is below the minimum {inner['minimum']}")
        if "maximum" in inner and isinstance(v, (int, float)) and v > inner["maximum"]:
            raise CheckError(f"{where}: {v!r} is above the maximum {inner['maximum']}")
    if isinstance(value, list) and len(value) < spec.get("minItems", 0):
        raise CheckError(f"{where}: needs at least {spec['minItems']} item(s)")


def parse_config(data: Any, policies: Sequence[KakoiPolicy], source: str) -> PolicyConfig:
    """Validate a --policy-pack-config document against the policies' config schemas."""
    if not isinstance(data, dict):
        raise CheckError(f"{source}: expected a JSON object keyed by policy name")
    by_name = {p.name: p for p in policies}
    cfg = PolicyConfig(source=source)
    all_level: EnforcementLevel | None = None
    if "all" in data:
        value = data["all"]
        all_level = _level(value.get("enforcementLevel") if isinstance(value, dict) else value, f"{source}: all")
    for name, value in data.items():
        if name == "all":
            continue
        if name not in by_name:
            raise CheckError(f"{source}: unknown policy {name!r} (the pack has {len(by_name)} policies named kakoi-*)")
        if isinstance(value, str):
            cfg.levels[name] = _level(value, f"{source}: {name}")
            continue
        if not isinstance(value, dict):
            raise CheckError(f"{source}: {name}: expected an enforcement level or an object")
        schema = by_name[name].config_schema
        props = dict(schema.properties) if schema else {}
        for key, v in value.items():
            if key == "enforcementLevel":
                cfg.levels[name] = _level(v, f"{source}: {name}.enforcementLevel")
                continue
            if key not in props:
                raise CheckError(f"{source}: {name}: unknown setting {key!r} (settings: {sorted(props) or 'none'})")
            _check_value(v, props[key], f"{source}: {name}.{key}")
            # the engine hands config over as a protobuf Struct: every number is a float
            cfg.properties.setdefault(name, {})[key] = json.loads(json.dumps(v), parse_int=float)
    if all_level is not None:
        for name in by_name:
            cfg.levels.setdefault(name, all_level)
    return cfg


def load_config(path: str | Path, policies: Sequence[KakoiPolicy]) -> PolicyConfig:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckError(f"{p}: policy config not found") from exc
    except (OSError, ValueError) as exc:
        raise CheckError(f"{p}: the policy config is not valid JSON ({exc})") from exc
    return parse_config(data, policies, _display(p))


def _display(path: Path) -> str:
    """A path relative to the repository when it is inside it (stable across checkouts)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def stack_name(doc: Any) -> str | None:
    """The stack name from the export's Stack resource URN (urn:pulumi:<stack>::<project>::...)."""
    try:
        for r in doc["deployment"]["resources"]:
            if r.get("type") == "pulumi:pulumi:Stack":
                return str(r["urn"]).split(":", 3)[2].split("::")[0]
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    return None


def default_config_path(doc: Any) -> Path | None:
    name = stack_name(doc)
    if name:
        candidate = POLICY_DIR / f"config.{name}.json"
        if candidate.is_file():
            return candidate
    return None


# --- evaluation ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    policy: str
    level: str  # mandatory | advisory
    severity: str
    urn: str
    message: str
    kind: str  # violation | undecided


@dataclass
class Report:
    source: str
    config_source: str
    resources: int
    policies: list[KakoiPolicy]
    levels: dict[str, EnforcementLevel]
    findings: list[Finding]
    not_applicable: dict[str, str]
    subjects: dict[str, int]
    encrypted_secrets: int
    seconds: float = 0.0

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory" and f.kind == "violation"]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0

    def for_policy(self, name: str) -> list[Finding]:
        return [f for f in self.findings if f.policy == name]

    def status(self, policy: KakoiPolicy) -> str:
        """pass | fail | warn | undecided | disabled for one policy."""
        if self.levels[policy.name] == EnforcementLevel.DISABLED:
            return "disabled"
        found = self.for_policy(policy.name)
        if any(f.kind == "violation" and f.level == "mandatory" for f in found):
            return "fail"
        if any(f.kind == "violation" for f in found):
            return "warn"
        if found:
            return "undecided"
        return "pass"

    def to_json(self) -> dict[str, Any]:
        policies = []
        for p in self.policies:
            policies.append(
                {
                    "name": p.name,
                    "kind": p.info.kind,
                    "enforcementLevel": self.levels[p.name].value,
                    "severity": p.severity.value if p.severity else None,
                    "sheetIds": list(p.info.sheet_ids),
                    "securityHub": list(p.info.securityhub),
                    "status": self.status(p),
                    "resourcesJudged": self.subjects.get(p.name, 0),
                    "description": p.description,
                    "remediation": p.remediation_steps,
                }
            )
        by_name = {p.name: p for p in self.policies}
        return {
            "file": self.source,
            "config": self.config_source,
            "resources": self.resources,
            "summary": summary_counts(self),
            "exitCode": self.exit_code,
            "findings": [
                {
                    "policy": f.policy,
                    "kind": f.kind,
                    "enforcementLevel": f.level,
                    "severity": f.severity,
                    "urn": f.urn,
                    "message": f.message,
                    "sheetIds": list(by_name[f.policy].info.sheet_ids),
                    "securityHub": list(by_name[f.policy].info.securityhub),
                    "remediation": by_name[f.policy].remediation_steps,
                }
                for f in self.findings
            ],
            "policies": policies,
        }


def summary_counts(report: Report) -> dict[str, int]:
    statuses = [report.status(p) for p in report.policies]
    return {
        "policies": len(report.policies),
        "passed": statuses.count("pass"),
        "failed": statuses.count("fail"),
        "warned": statuses.count("warn"),
        "undecided": statuses.count("undecided"),
        "disabled": statuses.count("disabled"),
        "mandatoryViolations": len(report.mandatory),
        "advisoryViolations": sum(1 for f in report.findings if f.kind == "violation" and f.level == "advisory"),
        "undecidedFindings": sum(1 for f in report.findings if f.kind == "undecided"),
    }


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
    engine = _Engine()
    levels = {p.name: config.levels.get(p.name) or p.enforcement_level or EnforcementLevel.ADVISORY for p in pack}
    findings: list[Finding] = []
    not_applicable: dict[str, str] = {}
    subjects: dict[str, int] = {}
    by_urn = {r.urn: r for r in resources}

    try:
        input_props = {r.urn: engine.props(r.inputs) for r in resources if not r.external}
        output_props = {r.urn: engine.props(r.outputs) for r in resources}
        provider_inputs = {r.urn: engine.props(r.inputs) for r in resources if r.type.startswith("pulumi:providers:")}
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
            except _NotApplicableError as exc:
                not_applicable[policy.name] = exc.reason or ""
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
            except _NotApplicableError as exc:
                not_applicable[policy.name] = exc.reason or ""
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
        encrypted_secrets=engine.encrypted_secrets,
        seconds=time.perf_counter() - started,
    )


def check_file(path: str | Path, config_path: str | Path | None = None) -> Report:
    """Read, configure and evaluate: what `make check` does. Raises CheckError."""
    doc = read_export(path)
    pack = all_policies()
    cfg_path = Path(config_path) if config_path else default_config_path(doc)
    config = load_config(cfg_path, pack) if cfg_path else PolicyConfig()
    return evaluate(doc, config, policies=pack, source=str(path))


# --- output -------------------------------------------------------------------------------------------
def _ids(policy: KakoiPolicy) -> str:
    parts = []
    if policy.info.sheet_ids:
        parts.append(", ".join(policy.info.sheet_ids))
    if policy.info.securityhub:
        parts.append("Security Hub " + ", ".join(policy.info.securityhub))
    return " | ".join(parts) or "-"


def _grouped(report: Report) -> list[tuple[KakoiPolicy, list[Finding]]]:
    by_name = {p.name: p for p in report.policies}
    groups: dict[str, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(f.policy, []).append(f)
    out = [(by_name[name], fs) for name, fs in groups.items()]
    out.sort(key=lambda item: (report.status(item[0]) != "fail", report.status(item[0]) != "warn", item[0].name))
    return out


def format_text(report: Report) -> str:
    s = summary_counts(report)
    lines = [
        f"kakoi policy check: {report.source} ({report.resources} resources, {s['policies']} policies, config {report.config_source})",
        "",
    ]
    for policy, found in _grouped(report):
        status = report.status(policy).upper()
        lines.append(
            f"{status} {policy.name} [{report.levels[policy.name].value}, {policy.severity.value if policy.severity else '-'}] ({_ids(policy)})"
        )
        lines.append(f"  {policy.description}")
        for f in found:
            mark = "?" if f.kind == "undecided" else "x"
            lines.append(f"  {mark} {f.urn}")
            lines.append(f"      {f.message}")
        lines.append(f"  remediation: {policy.remediation_steps}")
        lines.append("")
    if report.encrypted_secrets:
        lines.append(
            f"note: {report.encrypted_secrets} encrypted secret value(s) were treated as unknown; "
            "export with `pulumi stack export --show-secrets` to check them"
        )
    verdict = "FAIL" if report.exit_code else "PASS"
    lines.append(
        f"{verdict}: {s['mandatoryViolations']} mandatory violation(s) in {s['failed']} policy(ies), "
        f"{s['advisoryViolations']} advisory in {s['warned']}, {s['undecidedFindings']} undecided; "
        f"{s['passed']} of {s['policies']} policies passed ({report.seconds:.2f}s)"
    )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_markdown(report: Report) -> str:
    s = summary_counts(report)
    verdict = "❌ mandatory policy violations" if report.exit_code else "✅ no mandatory policy violation"
    lines = [
        f"### Policy check: {verdict}",
        "",
        f"`{report.source}`: {report.resources} resources, {s['policies']} policies "
        f"({s['passed']} passed, {s['failed']} failed, {s['warned']} advisory warnings, {s['undecided']} undecided).",
        "",
    ]
    grouped = _grouped(report)
    if grouped:
        lines += ["| status | policy | level | sheet / Security Hub | resource | message |", "|---|---|---|---|---|---|"]
        for policy, found in grouped:
            for f in found:
                lines.append(
                    f"| {report.status(policy)} | `{policy.name}` | {f.level} | {_md(_ids(policy))} | `{_md(f.urn.split('::')[-1])}` | {_md(f.message)} |"
                )
        lines.append("")
    return "\n".join(lines) + "\n"


def format_json(report: Report) -> str:
    data = report.to_json()
    data.pop("seconds", None)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {"text": format_text, "json": format_json, "markdown": format_markdown}


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.check", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("file", help="a `pulumi stack export` file (e.g. build/prod.stack.json)")
    parser.add_argument("--config", help="policy config JSON (default: policies/config.<stack>.json when present)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        report = check_file(args.file, args.config)
    except CheckError as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    text = FORMATS[args.format](report)
    sys.stdout.write(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    return report.exit_code


__all__ = [
    "PACK_NAME",
    "PACK_VERSION",
    "CheckError",
    "Finding",
    "PolicyConfig",
    "Report",
    "check_file",
    "evaluate",
    "format_json",
    "format_markdown",
    "format_text",
    "load_config",
    "parse_config",
    "parse_export",
    "read_export",
]

if __name__ == "__main__":
    sys.exit(main())
