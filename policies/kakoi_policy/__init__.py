"""The kakoi CrossGuard policies, importable without starting the pack's server.

`policies/__main__.py` builds the `PolicyPack` from `all_policies()`; the offline
checker (tools/check.py), the controls report (tools/controls.py) and the tests
import the same list. Every policy is a `KakoiResourcePolicy` or `KakoiStackPolicy`
whose `info` holds the sheet IDs, the Security Hub control IDs and the resource
types it judges.
"""

from __future__ import annotations

from . import containers, database, detection, edge, governance, monitoring, network, storage
from .base import CannotDecide, Info, KakoiPolicy, KakoiResourcePolicy, KakoiStackPolicy
from .constants import TLS13_ONLY_POLICIES

PACK_NAME = "kakoi"
PACK_DESCRIPTION = "kakoi security sheet and AWS Foundational Security Best Practices for the kakoi platform"

_MODULES = (network, edge, storage, database, detection, monitoring, containers, governance)

__all__ = [
    "PACK_DESCRIPTION",
    "PACK_NAME",
    "TLS13_ONLY_POLICIES",
    "CannotDecide",
    "Info",
    "KakoiPolicy",
    "KakoiResourcePolicy",
    "KakoiStackPolicy",
    "all_policies",
    "pack_arguments",
]


def all_policies() -> list[KakoiPolicy]:
    """Every policy of the pack, in a stable order (area by area)."""
    out: list[KakoiPolicy] = []
    for module in _MODULES:
        out.extend(module.POLICIES)
    return out


def pack_arguments() -> dict[str, object]:
    """The keyword arguments of `pulumi_policy.PolicyPack` (policies/__main__.py passes them)."""
    return {
        "name": PACK_NAME,
        "policies": list(all_policies()),
        "description": PACK_DESCRIPTION,
        "display_name": "kakoi security sheet",
        "provider": "aws",
        "tags": ["kakoi", "aws", "security"],
    }
