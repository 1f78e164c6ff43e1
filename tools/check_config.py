"""Validating the policy config a check runs with (`pulumi preview --policy-pack-config` JSON).

`{"all": "mandatory", "<policy>": "advisory" | {"enforcementLevel": ..., "<key>": ...}}`:
every policy name must be one of the pack's, every setting one of the policy's
`config_schema` properties with a value of its type (enum, minimum, maximum, minItems
checked). The first problem is a CheckError naming the file, the policy and the setting.
Numbers are handed to policies as floats, as the engine's protobuf Struct does.

This module only validates and loads a config; it does not write one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel

from policies.kakoi_policy import KakoiPolicy
from tools.check_errors import CheckError
from tools.exports import stack_name

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "policies"
LEVELS = {lvl.value: lvl for lvl in EnforcementLevel}


@dataclass
class PolicyConfig:
    """Enforcement levels and settings per policy name, and where they came from."""

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


def check_value(value: Any, spec: dict[str, Any], where: str) -> None:
    """Raise CheckError unless `value` satisfies the JSON-schema subset policies use."""
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
            check_value(v, props[key], f"{source}: {name}.{key}")
            # the engine hands config over as a protobuf Struct: every number is a float
            cfg.properties.setdefault(name, {})[key] = json.loads(json.dumps(v), parse_int=float)
    if all_level is not None:
        for name in by_name:
            cfg.levels.setdefault(name, all_level)
    return cfg


def load_config(path: str | Path, policies: Sequence[KakoiPolicy]) -> PolicyConfig:
    """Read and validate a policy config file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckError(f"{p}: policy config not found") from exc
    except (OSError, ValueError) as exc:
        raise CheckError(f"{p}: the policy config is not valid JSON ({exc})") from exc
    return parse_config(data, policies, display_path(p))


def display_path(path: Path) -> str:
    """A path relative to the repository when it is inside it (stable across checkouts)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def default_config_path(doc: Any) -> Path | None:
    """policies/config.<stack>.json for the export's stack, when that file exists."""
    name = stack_name(doc)
    if name:
        candidate = POLICY_DIR / f"config.{name}.json"
        if candidate.is_file():
            return candidate
    return None


__all__ = ["LEVELS", "POLICY_DIR", "PolicyConfig", "check_value", "default_config_path", "display_path", "load_config", "parse_config"]
