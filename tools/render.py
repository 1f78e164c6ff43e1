"""Offline render: run the real program under Pulumi's mock runtime and write what
it declares in the format of `pulumi stack export` (a version 3 deployment).

    python -m tools.render --stack prod --out build/prod.stack.json

The config is read as the CLI would (tools.stackfiles); secure values become
placeholders. Every resource registration is recorded with its parent,
provider, dependencies, property dependencies, protect and retainOnDelete flags;
the AWS provider is one of the resources, with its region. Output is
deterministic: the same program and config give a byte-identical file.

Exit codes: 0 rendered, 2 invalid stack configuration or stack file, 1 the
program failed in another way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import importlib.metadata
import json
import runpy
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func

from stackconfig import ConfigError
from tools.mocks import KakoiMocks
from tools.stackfiles import ROOT, StackFileError, stack_values

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
MANIFEST = {
    "time": "1970-01-01T00:00:00Z",
    "magic": "offline-render",
    "version": f"pulumi-python-sdk {importlib.metadata.version('pulumi')}",
}


class RenderError(Exception):
    """The program could not be rendered; `exit_code` says why (2: config, 1: other)."""

    def __init__(self, message: str, exit_code: int = 1, declared: int = 0):
        super().__init__(message)
        self.exit_code = exit_code
        #: resources (other than the stack itself) registered before the failure
        self.declared = declared


def _normalise(value: Any) -> Any:
    """JSON-shaped value with integral floats as ints and secrets in export form."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE:
            return {SECRET_SIG: SECRET_VALUE, "ciphertext": "offline-render:redacted"}
        return {k: _normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Python values from the mocks (which may hold Pulumi objects) to JSON-shaped ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class Registration:
    urn: str
    type: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    external: bool = False
    #: earlier URNs of this resource (`opts.aliases`, and those inherited from an aliased parent)
    aliases: list[str] = field(default_factory=list)
    #: resource options that shape the second `pulumi up` (docs/deploy-reality.md); the engine's
    #: state keeps ignoreChanges/replaceOnChanges too; exported only when set
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False


def make_urn(stack: str, project: str, parent: str, typ: str, name: str) -> str:
    """A URN the way the mock monitor builds the render's URNs (the parent's own type, then `$type`).

    The engine qualifies the type with the parent's whole type chain and leaves the Stack
    out; tools/diff.py compares URNs in a form both agree on (see `canonical_urn` there).
    """
    if parent:
        typ = parent.split("::")[2].split("$")[-1] + "$" + typ
    return f"urn:pulumi:{stack}::{project}::{typ}::{name}"


def _urn_parts(urn: str) -> tuple[str, str, str]:
    """(stack, project, name) of a URN."""
    head, project, _qualified, name = urn.split("::", 3)
    return head.split(":", 2)[2], project, name


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping every registration request as the engine would store it."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        urn = response.urn
        inputs = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        reg = Registration(
            urn=urn,
            type=request.type,
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            inputs=inputs,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            aliases=self._aliases(request, urn),
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
        )
        if request.type != "pulumi:pulumi:Stack":
            reg.id = response.id
            reg.outputs = json_format.MessageToDict(response.object, preserving_proto_field_name=True)
        self.registrations[urn] = reg
        return response

    def _aliases(self, request: Any, urn: str) -> list[str]:
        """Alias URNs as the engine computes them from the alias specs, plus the parent's (inherited).

        A child of an aliased parent also answers to its URN under each of the parent's
        earlier URNs; a child name that starts with the parent's name follows a renamed
        parent (the engine's inherited child alias).
        """
        stack, project, name = _urn_parts(urn)
        out: list[str] = list(request.aliasURNs)
        for alias in request.aliases:
            if alias.urn:
                out.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else spec.parentUrn or request.parent
            out.append(make_urn(spec.stack or stack, spec.project or project, parent, spec.type or request.type, spec.name or name))
        parent_reg = self.registrations.get(request.parent)
        if parent_reg is not None and parent_reg.aliases:
            parent_name = _urn_parts(parent_reg.urn)[2]
            for parent_alias in parent_reg.aliases:
                alias_name = name
                old_parent_name = _urn_parts(parent_alias)[2]
                if name.startswith(parent_name):
                    alias_name = old_parent_name + name[len(parent_name) :]
                out.append(make_urn(stack, project, parent_alias, request.type, alias_name))
        return sorted({a for a in out if a != urn})

    def ReadResource(self, request: Any) -> Any:  # noqa: N802
        response = super().ReadResource(request)
        self.registrations[response.urn] = Registration(
            urn=response.urn,
            type=request.type,
            custom=True,
            parent=request.parent,
            provider=request.provider,
            inputs={},
            dependencies=list(request.dependencies),
            property_dependencies={},
            protect=False,
            retain_on_delete=False,
            id=request.id,
            outputs=json_format.MessageToDict(response.properties, preserving_proto_field_name=True),
            external=True,
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        reg = self.registrations.get(request.urn)
        if reg is not None and not reg.custom:
            reg.outputs = json_format.MessageToDict(request.outputs, preserving_proto_field_name=True)
        return super().RegisterResourceOutputs(request)


def _ordered(regs: dict[str, Registration]) -> list[Registration]:
    """Dependency order (parents, providers and dependencies first), ties broken by URN."""

    def needs(r: Registration) -> set[str]:
        deps = set(r.dependencies) | {r.parent} | {r.provider.rsplit("::", 1)[0]}
        for urns in r.property_dependencies.values():
            deps.update(urns)
        return {d for d in deps if d in regs and d != r.urn}

    remaining = {u: needs(r) for u, r in regs.items()}
    out: list[Registration] = []
    done: set[str] = set()
    while remaining:
        ready = sorted(u for u, deps in remaining.items() if deps <= done)
        if not ready:  # a cycle cannot happen in a real program; keep going deterministically
            ready = [min(remaining)]
        # take the stack first, then providers, then the rest, each sorted
        ready.sort(key=lambda u: (regs[u].type != "pulumi:pulumi:Stack", not regs[u].type.startswith("pulumi:providers:"), u))
        u = ready[0]
        out.append(regs[u])
        done.add(u)
        del remaining[u]
    return out


def _to_export(regs: list[Registration]) -> dict[str, Any]:
    resources = []
    for r in regs:
        item: dict[str, Any] = {"urn": r.urn, "custom": r.custom}
        if r.custom:
            item["id"] = r.id
        item["type"] = r.type
        if r.external:
            item["external"] = True
        item["inputs"] = _normalise(r.inputs)
        item["outputs"] = _normalise(r.outputs)
        if r.parent:
            item["parent"] = r.parent
        if r.protect:
            item["protect"] = True
        if r.aliases:
            item["aliases"] = r.aliases
        if r.retain_on_delete:
            item["retainOnDelete"] = True
        if r.ignore_changes:
            item["ignoreChanges"] = list(r.ignore_changes)
        if r.replace_on_changes:
            item["replaceOnChanges"] = list(r.replace_on_changes)
        if r.delete_before_replace:
            item["deleteBeforeReplace"] = True
        if r.provider:
            item["provider"] = r.provider
        if r.dependencies:
            item["dependencies"] = sorted(set(r.dependencies))
        if r.property_dependencies:
            item["propertyDependencies"] = {k: sorted(set(v)) for k, v in sorted(r.property_dependencies.items()) if v}
        resources.append(item)
    return {
        "version": 3,
        "deployment": {
            "manifest": MANIFEST,
            "secrets_providers": {"type": "passphrase", "state": {"salt": "offline-render"}},
            "resources": resources,
        },
    }


def _run(stack: str, overrides: dict[str, Any] | None, program: Path, holder: list[RecordingMonitor]) -> RecordingMonitor:
    sv = stack_values(stack, overrides=overrides)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(sv.values, secret_keys=list(sv.secret_keys))
    mocks = KakoiMocks(default_region=sv.values.get("aws:region", ""))
    monitor = RecordingMonitor(mocks)
    holder.append(monitor)
    pulumi.runtime.set_mocks(mocks, project=sv.project, stack=sv.stack, preview=False, monitor=monitor)
    root = pulumi_settings.get_root_resource()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    def run_program() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        loop.run_until_complete(run_pulumi_func(run_program))
        # the stack's outputs (pulumi.export) are registered when the stack finishes
        if isinstance(root, pulumi.runtime.stack.Stack):
            outputs: dict[str, Any] = {}
            for key, value in root.outputs.items():
                fut = pulumi.Output.from_input(value).future()
                outputs[key] = _plain(loop.run_until_complete(fut))
            stack_reg = next((r for r in monitor.registrations.values() if r.type == "pulumi:pulumi:Stack"), None)
            if stack_reg is not None:
                stack_reg.outputs = outputs
    finally:
        loop.close()
    return monitor


def _unwrap(exc: BaseException) -> BaseException:
    """The first ConfigError / StackFileError in an exception chain, else the exception."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (ConfigError, StackFileError)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def render(stack: str, *, overrides: dict[str, Any] | None = None, program: Path = ROOT / "__main__.py") -> dict[str, Any]:
    """Render `stack` and return the export document. Raises RenderError."""
    ctx = contextvars.copy_context()
    holder: list[RecordingMonitor] = []
    try:
        monitor = ctx.run(_run, stack, overrides, program, holder)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        declared = sum(1 for r in holder[0].registrations.values() if r.type != "pulumi:pulumi:Stack") if holder else 0
        cause = _unwrap(exc)
        if isinstance(cause, (ConfigError, StackFileError)):
            raise RenderError(str(cause), exit_code=2, declared=declared) from exc
        if isinstance(exc, pulumi.RunError) and "invalid stack configuration" in str(exc):
            raise RenderError(str(exc), exit_code=2, declared=declared) from exc
        raise RenderError(f"{type(exc).__name__}: {exc}", declared=declared) from exc
    return _to_export(_ordered(monitor.registrations))


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.render", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--out", help="file to write (default: build/<stack>.stack.json); '-' for stdout")
    args = parser.parse_args(argv)
    out = args.out or f"build/{args.stack}.stack.json"
    started = time.perf_counter()
    try:
        doc = render(args.stack)
    except RenderError as exc:
        print(f"render {args.stack}: {exc}", file=sys.stderr)
        return exc.exit_code
    text = dumps(doc)
    if out == "-":
        sys.stdout.write(text)
    else:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        count = sum(1 for r in doc["deployment"]["resources"] if r["custom"])
        print(f"rendered {args.stack}: {count} resources -> {path} ({time.perf_counter() - started:.2f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
