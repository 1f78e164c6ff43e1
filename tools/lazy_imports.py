"""Deferred imports for the offline checker's cold start (`python -m tools.check`).

The policy SDK imports the whole Pulumi SDK at import time, for the gRPC analyzer server
the offline checker never starts: pulumi's Automation API, dynamic providers, its own
policy module and its OpenTelemetry set-up among them. `defer` makes the named modules
lazy (importlib.util.LazyLoader): their code runs on first attribute access instead of at
import, so nothing changes for code that uses them, and a check that never touches them
does not pay for them. Only the command-line entry point calls it; importing tools.check
as a library (tests, the controls report) leaves the import system alone.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable, Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

#: imported by `pulumi/__init__.py` (and pulumi.runtime) but not used to judge an export
OFFLINE_UNUSED = (
    "pulumi.automation",
    "pulumi.dynamic",
    "pulumi.policy",
    "pulumi.runtime._instrumentation",
)


class _LazyFinder(MetaPathFinder):
    def __init__(self, names: Iterable[str]):
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname not in self.names:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def defer(names: Iterable[str] = OFFLINE_UNUSED) -> bool:
    """Make `names` lazy for this process, unless pulumi is already imported (then it is too late to matter)."""
    if "pulumi" in sys.modules or any(isinstance(f, _LazyFinder) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, _LazyFinder(names))
    return True
