"""Reading Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI would.

The CLI applies the project-level defaults from Pulumi.yaml, overlays the stack
file's values and hands the program strings (arrays and objects as JSON). The
offline render does the same here. Secure values (`secure: v1:...`) cannot be
decrypted offline: they become the placeholder `[secret:<key>]` and are marked
secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


class StackFileError(Exception):
    """A project or stack file is missing or malformed."""


@dataclass(frozen=True)
class StackValues:
    project: str
    stack: str
    #: `namespace:key` -> the string the program sees
    values: dict[str, str]
    #: keys whose values are secure (placeholders offline)
    secret_keys: tuple[str, ...]


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise StackFileError(f"{path.name}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise StackFileError(f"{path.name}: expected a mapping at the top level")
    return data


def project_file(root: Path = ROOT) -> dict[str, Any]:
    return _load_yaml(root / "Pulumi.yaml")


def project_schema(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """The `config:` block of Pulumi.yaml, keys qualified with the project namespace."""
    project = project_file(root)
    name = str(project["name"])
    out: dict[str, dict[str, Any]] = {}
    for key, spec in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        out[full] = spec if isinstance(spec, dict) else {"value": spec}
    return out


def available_stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _to_raw(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def stack_values(stack: str, root: Path = ROOT, overrides: dict[str, Any] | None = None) -> StackValues:
    """The config a program run for `stack` would see; `overrides` replace stack values (tests)."""
    project = project_file(root)
    name = str(project.get("name") or "")
    if not name:
        raise StackFileError("Pulumi.yaml: 'name' is missing")
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackFileError(f"unknown stack {stack!r}: {path.name} not found (stacks: {', '.join(available_stacks(root))})")
    stack_cfg = _load_yaml(path).get("config") or {}
    if not isinstance(stack_cfg, dict):
        raise StackFileError(f"{path.name}: 'config' must be a mapping")
    values: dict[str, str] = {}
    secrets: list[str] = []
    for full, spec in project_schema(root).items():
        if "default" in spec:
            values[full] = _to_raw(spec["default"])
        elif "value" in spec:
            values[full] = _to_raw(spec["value"])
    merged = dict(stack_cfg)
    merged.update(overrides or {})
    for key, value in merged.items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[full] = f"[secret:{full}]"
            secrets.append(full)
        elif value is None:
            values.pop(full, None)
        else:
            values[full] = _to_raw(value)
    return StackValues(project=name, stack=stack, values=values, secret_keys=tuple(sorted(secrets)))
