"""Read-only views of a `pulumi stack export` document (the offline render or a real export)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Res:
    raw: dict[str, Any]

    @property
    def urn(self) -> str:
        return self.raw["urn"]

    @property
    def type(self) -> str:
        return self.raw["type"]

    @property
    def name(self) -> str:
        return self.urn.split("::")[-1]

    @property
    def custom(self) -> bool:
        return bool(self.raw.get("custom"))

    @property
    def inputs(self) -> dict[str, Any]:
        return self.raw.get("inputs") or {}

    @property
    def outputs(self) -> dict[str, Any]:
        return self.raw.get("outputs") or {}

    @property
    def parent(self) -> str:
        return self.raw.get("parent", "")

    @property
    def provider_urn(self) -> str:
        return self.raw.get("provider", "").rsplit("::", 1)[0]

    @property
    def dependencies(self) -> list[str]:
        return list(self.raw.get("dependencies") or [])

    @property
    def protect(self) -> bool:
        return bool(self.raw.get("protect"))

    @property
    def region(self) -> str:
        return str(self.inputs.get("region") or self.outputs.get("region") or "")

    def json_input(self, key: str) -> Any:
        """An input that holds a JSON document (IAM policies, container definitions)."""
        value = self.inputs.get(key)
        return json.loads(value) if isinstance(value, str) else value


class StackView:
    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.resources = [Res(r) for r in doc["deployment"]["resources"]]
        self.by_urn = {r.urn: r for r in self.resources}

    @classmethod
    def load(cls, path: str | Path) -> StackView:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def __iter__(self) -> Iterator[Res]:
        return iter(self.resources)

    def of_type(self, typ: str) -> list[Res]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Res:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(typ)]
            raise LookupError(f"expected one {typ} named {name!r}, found {len(found)} (have: {names})")
        return found[0]

    def children(self, parent: Res | str) -> list[Res]:
        urn = parent if isinstance(parent, str) else parent.urn
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, parent: Res | str) -> list[Res]:
        out: list[Res] = []
        stack = [parent if isinstance(parent, str) else parent.urn]
        while stack:
            urn = stack.pop()
            for child in self.children(urn):
                out.append(child)
                stack.append(child.urn)
        return out

    def referencing(self, target: Res, key: str | None = None) -> list[Res]:
        """Resources that depend on `target` (through `key` when given)."""
        out = []
        for r in self.resources:
            deps = (r.raw.get("propertyDependencies") or {}).get(key, []) if key else r.dependencies
            if target.urn in deps:
                out.append(r)
        return out

    @property
    def stack_outputs(self) -> dict[str, Any]:
        return next((r.outputs for r in self.resources if r.type == "pulumi:pulumi:Stack"), {})
