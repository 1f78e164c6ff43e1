"""Reading a `pulumi stack export` file (deployment version 3) for the offline policy check.

`read_export` reads and parses the JSON with a clear message for a missing, empty,
unreadable or truncated file; `parse_export` validates the resources enough to evaluate
them safely and returns them as `ExportResource` values (pending deletions dropped).
The `*_SIG` constants are the engine's signatures for special property values (secrets,
assets, archives, resource references) as the export writes them; tools/diff.py and the
analyzer (tools/analyzer.py) read them from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.check_errors import CheckError

#: the key that marks a special value in a serialized property (`{"4dabf...": <kind>, ...}`)
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - the export's secret signature, not a password
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


@dataclass(frozen=True)
class ExportResource:
    """One resource of the export, as the analyzer needs it."""

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
    """The JSON document of an export file; CheckError names the file and what is wrong with it."""
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


def urn_name(urn: str) -> str:
    """The logical name at the end of a URN."""
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
                name=urn_name(urn),
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


def stack_name(doc: Any) -> str | None:
    """The stack name from the export's Stack resource URN (urn:pulumi:<stack>::<project>::...)."""
    try:
        for r in doc["deployment"]["resources"]:
            if r.get("type") == "pulumi:pulumi:Stack":
                return str(r["urn"]).split(":", 3)[2].split("::")[0]
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    return None


__all__ = [
    "ARCHIVE_SIG",
    "ASSET_SIG",
    "RESOURCE_SIG",
    "SECRET_SIG",
    "SIG",
    "ExportResource",
    "parse_export",
    "read_export",
    "stack_name",
    "urn_name",
]
