"""The part of pulumi-policy the offline analyzer (tools/analyzer.py) relies on, in one place.

The analyzer calls the pack's policies the way the SDK's analyzer server does, so it needs
a little more than the SDK's public `__all__`:

* **Not applicable.** A policy says "this does not apply" by calling the public
  `ResourceValidationArgs.not_applicable(reason)` / `StackValidationArgs.not_applicable(reason)`,
  which raises an exception whose class the SDK keeps private (`_NotApplicableError` in
  pulumi-policy 1.21.0). We never import that private name: `NOT_APPLICABLE` is the class
  the public method raises, found once by calling it, and `not_applicable_reason` reads the
  reason the way the SDK's server does (its `reason` attribute).
* **Unknown values and deserialization.** `pulumi_policy.proxy` (the unknown-checking proxy
  and the `UNKNOWN_*` sentinels) and `pulumi_policy.deserialize` are importable modules, not
  underscored, but outside the package's `__all__`. The pack uses the proxy too
  (policies/kakoi_policy/base.py).

Because of these two, pulumi-policy is pinned to the exact version we verified
(`PINNED_VERSION`, policies/requirements.in); tests/policies/test_policy_sdk.py fails with a
message naming what changed when an upgrade breaks any of it. `sdk_problems()` is that check.
"""

from __future__ import annotations

from pulumi_policy import StackValidationArgs
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

#: the pulumi-policy release this module was verified against (policies/requirements.in pins it)
PINNED_VERSION = "1.21.0"

_PROBE_REASON = "kakoi probe"


def _not_applicable_class() -> type[Exception]:
    """The exception class the public `not_applicable()` raises (private in the SDK)."""
    try:
        StackValidationArgs([], None, {}).not_applicable(_PROBE_REASON)
    except Exception as exc:  # whatever the SDK raises is what we must catch
        return type(exc)
    raise RuntimeError("pulumi_policy: StackValidationArgs.not_applicable() returned instead of raising")


NOT_APPLICABLE: type[Exception] = _not_applicable_class()


def not_applicable_reason(exc: BaseException) -> str:
    """The reason a policy gave to `not_applicable(reason)` ("" when it gave none)."""
    reason = getattr(exc, "reason", None)
    return str(reason) if reason else ""


def installed_version() -> str | None:
    """The installed pulumi-policy distribution's version (None when it is not installed as one)."""
    from importlib.metadata import PackageNotFoundError, version  # only the self-check needs it: not at start

    try:
        return version("pulumi-policy")
    except PackageNotFoundError:
        return None


def sdk_problems() -> list[str]:
    """What no longer holds of the SDK surface above (empty when everything does)."""
    problems: list[str] = []
    installed = installed_version()
    if installed != PINNED_VERSION:
        problems.append(
            f"pulumi-policy {installed} is installed but tools/policy_sdk.py was verified against {PINNED_VERSION}: "
            "re-check the items below, then update PINNED_VERSION and policies/requirements.in together"
        )
    if NOT_APPLICABLE in (Exception, UnknownValueError) or issubclass(NOT_APPLICABLE, UnknownValueError):
        problems.append(
            f"not_applicable() now raises {NOT_APPLICABLE.__module__}.{NOT_APPLICABLE.__qualname__}, "
            "which cannot be told apart from other errors (or from unknown values)"
        )
    try:
        StackValidationArgs([], None, {}).not_applicable(_PROBE_REASON)
    except NOT_APPLICABLE as exc:
        if not_applicable_reason(exc) != _PROBE_REASON:
            problems.append(f"{type(exc).__qualname__} no longer carries the reason in `.reason` (got {getattr(exc, 'reason', None)!r})")
    proxied = unknown_checking_proxy({"a": UNKNOWN_STRING_VALUE})
    try:
        proxied["a"]
    except UnknownValueError:
        pass
    else:
        problems.append("pulumi_policy.proxy.unknown_checking_proxy no longer raises UnknownValueError on an unknown value")
    try:
        decoded = deserialize_properties({"k": [1, {"x": "y"}]})
    except Exception as exc:  # any break of the signature is a problem to report
        problems.append(f"pulumi_policy.deserialize.deserialize_properties(dict) failed: {type(exc).__name__}: {exc}")
    else:
        if decoded != {"k": [1, {"x": "y"}]}:
            problems.append(f"pulumi_policy.deserialize.deserialize_properties changed plain values: {decoded!r}")
    return problems


__all__ = [
    "NOT_APPLICABLE",
    "PINNED_VERSION",
    "UNKNOWN_OBJECT_VALUE",
    "UNKNOWN_STRING_VALUE",
    "UnknownValueError",
    "deserialize_properties",
    "installed_version",
    "not_applicable_reason",
    "sdk_problems",
    "unknown_checking_proxy",
]
