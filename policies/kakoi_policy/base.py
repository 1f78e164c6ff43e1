"""The small framework every kakoi policy is built on.

Nothing here starts a server: `PolicyPack(...)` is only called by the pack's
`__main__.py`. Tests and the offline checker (tools/check.py) import the policies
from this package and call them with `pulumi_policy` argument objects, exactly as
the policy SDK's analyzer does.

How policies see resources (the engine's rules, which the offline checker copies):

* Resource policies get a resource's *inputs* (camelCase, as the program passed
  them after the provider's Check). An omitted property is absent: it means the
  provider's or the API's default, so every check says what that default is.
* Stack policies get every resource of the stack (providers, the Stack and the
  components included) with its *outputs*.
* During `pulumi preview` some values are unknown. `pulumi_policy` wraps the
  properties in a proxy that raises `UnknownValueError` when an unknown value is
  read; the SDK turns that into an advisory "can't run policy ... during
  preview: <message>" diagnostic. `Node` below turns the proxy's error into
  `CannotDecide` ("cannot decide: <what> is unknown during preview"). Stack
  policies decide every resource they can, report those violations, and then
  raise `CannotDecide` for the rest, so nothing passes silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

#: where the sheet and the policy list are documented
SHEET_URL = "docs/security-sheet.md"
FRAMEWORK = "kakoi security sheet"

UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class CannotDecide(UnknownValueError):  # noqa: N818 - reads as a verdict, like the SDK's UnknownValueError
    """A value the policy needs is unknown (preview) or unreadable: say so, never pass silently."""

    def __init__(self, *what: str):
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.what = tuple(what)
        verb = "is" if len(what) == 1 else "are"
        self.message = f"cannot decide: {', '.join(what)} {verb} unknown during preview"

    def __str__(self) -> str:
        return self.message


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _plain(value: Any, label: str, path: str) -> Any:
    """A proxy (or plain) value as plain dicts/lists; raises CannotDecide at the first unknown."""
    if is_unknown(value):
        raise CannotDecide(f"{label}{path}")
    if is_map(value):
        out: dict[str, Any] = {}
        for key in value:
            out[str(key)] = _plain(_item(value, key, label, f"{path}.{key}"), label, f"{path}.{key}")
        return out
    if is_list(value):
        return [_plain(_item(value, i, label, f"{path}[{i}]"), label, f"{path}[{i}]") for i in range(len(value))]
    return value


def _item(container: Any, key: Any, label: str, path: str) -> Any:
    try:
        value = container[key]
    except (KeyError, IndexError, TypeError):
        return MISSING
    except UnknownValueError as exc:
        raise CannotDecide(f"{label}{path}") from exc
    if is_unknown(value):
        raise CannotDecide(f"{label}{path}")
    return value


class Node:
    """Read-only access to (a part of) a resource's properties that knows its path.

    `get` returns plain values (None when absent); any unknown value on the way
    raises CannotDecide naming the property.
    """

    __slots__ = ("label", "path", "raw")

    def __init__(self, raw: Any, label: str = "", path: str = ""):
        self.raw = raw
        self.label = label
        self.path = path

    def _walk(self, keys: tuple[Any, ...]) -> tuple[Any, str]:
        value, path = self.raw, self.path
        for key in keys:
            path = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
            if value is None or value is MISSING or not (is_map(value) or is_list(value)):
                return MISSING, path
            if is_list(value) and not isinstance(key, int):
                return MISSING, path
            value = _item(value, key, self.label, path)
        return value, path

    def get(self, *keys: Any, default: Any = None) -> Any:
        value, path = self._walk(keys)
        if value is MISSING or value is None:
            return default
        return _plain(value, self.label, path)

    def has(self, *keys: Any) -> bool:
        value, _ = self._walk(keys)
        return value is not MISSING and value is not None

    def node(self, *keys: Any) -> Node | None:
        value, path = self._walk(keys)
        if value is MISSING or value is None:
            return None
        return Node(value, self.label, path)

    def nodes(self, *keys: Any) -> list[Node]:
        """The elements of a list property (a single object counts as a list of one)."""
        value, path = self._walk(keys)
        if value is MISSING or value is None:
            return []
        if is_map(value):
            return [Node(value, self.label, path)]
        if not is_list(value):
            return []
        return [Node(_item(value, i, self.label, f"{path}[{i}]"), self.label, f"{path}[{i}]") for i in range(len(value))]

    def json(self, *keys: Any) -> Any:
        """A property holding a JSON document (IAM policies, container definitions), parsed."""
        value = self.get(*keys)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return None
        return value

    def where(self, *keys: str) -> str:
        return self.path + "".join(f".{k}" for k in keys)


class Cfg:
    """A policy's config (`args.get_config()`), falling back to the schema defaults."""

    def __init__(self, given: Mapping[str, Any] | None, defaults: Mapping[str, Any]):
        self._given = dict(given or {})
        self._defaults = defaults

    def __getitem__(self, key: str) -> Any:
        if key in self._given and self._given[key] is not None:
            return self._given[key]
        return self._defaults[key]


# --- metadata --------------------------------------------------------------------
@dataclass(frozen=True)
class Info:
    """What the controls report and the tests need to know about a policy."""

    kind: str  # "resource" or "stack"
    sheet_ids: tuple[str, ...]
    securityhub: tuple[str, ...]
    #: resource types the policy judges (resource policies) or starts from (stack policies)
    types: tuple[str, ...]


ConfigSpec = Mapping[str, Mapping[str, Any]]


def _common(
    *,
    name: str,
    description: str,
    level: EnforcementLevel,
    severity: Severity,
    sheet: Sequence[str],
    securityhub: Sequence[str],
    remediation: str,
    config: ConfigSpec | None,
) -> dict[str, Any]:
    if not name.startswith("kakoi-"):
        raise ValueError(f"policy name {name!r} must be kakoi-<area>-<rule>")
    if config:
        for key, spec in config.items():
            if "default" not in spec:
                raise ValueError(f"{name}: config {key!r} needs a default")
    tags = [f"sheet:{s}" for s in sheet] + [f"securityhub:{c}" for c in securityhub]
    return {
        "name": name,
        "description": description,
        "enforcement_level": level,
        "config_schema": PolicyConfigSchema(properties={k: dict(v) for k, v in config.items()}) if config else None,
        "severity": severity,
        "framework": PolicyComplianceFramework(
            name=FRAMEWORK if sheet else "AWS Foundational Security Best Practices",
            version="1",
            reference=", ".join([*sheet, *securityhub]) or None,
            specification=SHEET_URL,
        ),
        "tags": tags or None,
        "remediation_steps": remediation,
    }


def _defaults(config: ConfigSpec | None) -> dict[str, Any]:
    return {k: v["default"] for k, v in (config or {}).items()}


ResourceCheck = Callable[[Node, Cfg, ResourceValidationArgs], Iterable[str]]


class KakoiResourcePolicy(ResourceValidationPolicy):
    """A resource policy: `check(props, cfg, args)` yields one message per violation."""

    info: Info

    def __init__(
        self,
        *,
        name: str,
        description: str,
        types: Sequence[str],
        check: ResourceCheck,
        level: EnforcementLevel,
        severity: Severity,
        remediation: str,
        sheet: Sequence[str] = (),
        securityhub: Sequence[str] = (),
        config: ConfigSpec | None = None,
    ):
        self.info = Info("resource", tuple(sheet), tuple(securityhub), tuple(types))
        self._types = frozenset(types)
        self._check = check
        self._config_defaults = _defaults(config)
        super().__init__(
            validate=self._validate,
            **_common(
                name=name,
                description=description,
                level=level,
                severity=severity,
                sheet=sheet,
                securityhub=securityhub,
                remediation=remediation,
                config=config,
            ),
        )

    def _validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in self._types:
            return
        props = Node(args.props, label=f"{args.name} ")
        cfg = Cfg(args.get_config(), self._config_defaults)
        for message in self._check(props, cfg, args):
            report_violation(message, None)


# --- stack policies ----------------------------------------------------------------
class SRes:
    """One resource as a stack policy sees it: outputs, options, provider, parent."""

    __slots__ = ("node", "res")

    def __init__(self, res: PolicyResource):
        self.res = res
        self.node = Node(res.props, label=f"{res.name} ")

    @property
    def urn(self) -> str:
        return self.res.urn

    @property
    def type(self) -> str:
        return self.res.resource_type

    @property
    def name(self) -> str:
        return self.res.name

    @property
    def protect(self) -> bool:
        return bool(self.res.opts.protect) if self.res.opts is not None else False

    def get(self, *keys: Any, default: Any = None) -> Any:
        return self.node.get(*keys, default=default)

    def region(self) -> str:
        """`region` of the resource (pulumi-aws v7 outputs), else its provider's region."""
        value = self.node.get("region")
        if value:
            return str(value)
        provider = self.res.provider
        if provider is not None:
            pv = Node(provider.props, label=f"{provider.name} (provider) ").get("region")
            if pv:
                return str(pv)
        return ""

    def ancestors(self) -> Iterator[PolicyResource]:
        parent = self.res.parent
        while parent is not None:
            yield parent
            parent = parent.parent


class Stack:
    """Index of the stack's resources by type, plus bookkeeping of undecidable items."""

    def __init__(self, resources: Sequence[PolicyResource]):
        self.resources = [SRes(r) for r in resources]
        self.by_type: dict[str, list[SRes]] = {}
        for r in self.resources:
            self.by_type.setdefault(r.type, []).append(r)
        self.undecided: list[str] = []

    def of(self, *types: str) -> list[SRes]:
        out: list[SRes] = []
        for t in types:
            out.extend(self.by_type.get(t, ()))
        return out

    @contextmanager
    def deciding(self) -> Iterator[None]:
        """Run one resource's check; an unknown value defers it instead of aborting the policy."""
        try:
            yield
        except CannotDecide as exc:
            self.undecided.extend(exc.what)
        except UnknownValueError as exc:
            self.undecided.append(exc.message)

    def value(self, res: SRes, *keys: Any) -> Any:
        """An output, or None when it cannot be known (recorded as undecided)."""
        try:
            return res.get(*keys)
        except CannotDecide as exc:
            self.undecided.extend(exc.what)
            return None


Violation = tuple[str | None, str]
StackCheck = Callable[[Stack, Cfg], Iterable[Violation]]


class KakoiStackPolicy(StackValidationPolicy):
    """A stack policy: `check(stack, cfg)` yields (urn or None, message) per violation."""

    info: Info

    def __init__(
        self,
        *,
        name: str,
        description: str,
        types: Sequence[str],
        check: StackCheck,
        level: EnforcementLevel,
        severity: Severity,
        remediation: str,
        sheet: Sequence[str] = (),
        securityhub: Sequence[str] = (),
        config: ConfigSpec | None = None,
    ):
        self.info = Info("stack", tuple(sheet), tuple(securityhub), tuple(types))
        self._check = check
        self._config_defaults = _defaults(config)
        super().__init__(
            validate=self._validate,
            **_common(
                name=name,
                description=description,
                level=level,
                severity=severity,
                sheet=sheet,
                securityhub=securityhub,
                remediation=remediation,
                config=config,
            ),
        )

    def _validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = Stack(args.resources)
        cfg = Cfg(args.get_config(), self._config_defaults)
        for urn, message in self._check(stack, cfg):
            report_violation(message, urn)
        if stack.undecided:
            raise CannotDecide(*sorted(set(stack.undecided)))


KakoiPolicy = KakoiResourcePolicy | KakoiStackPolicy


# --- helpers shared by the rule modules ---------------------------------------------
def statements(doc: Any) -> list[dict[str, Any]]:
    """The statements of an IAM/bucket policy document, each with list-valued Action/Resource."""
    if not isinstance(doc, dict):
        return []
    raw = doc.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    out = []
    for st in items:
        if not isinstance(st, dict):
            continue
        norm = dict(st)
        for key in ("Action", "Resource", "NotAction", "NotResource"):
            v = st.get(key)
            norm[key] = [v] if isinstance(v, str) else list(v or [])
        norm["Condition"] = st.get("Condition") if isinstance(st.get("Condition"), dict) else {}
        out.append(norm)
    return out


def principal_is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def service_principals(principal: Any) -> list[str]:
    if isinstance(principal, dict):
        svc = principal.get("Service")
        if isinstance(svc, str):
            return [svc]
        if isinstance(svc, list):
            return [str(s) for s in svc]
    return []


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def truthy(value: Any) -> bool:
    """Booleans as the engine may carry them (true, "true")."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
