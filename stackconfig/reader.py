"""Reading raw stack config values into typed values, collecting every problem.

Pulumi hands a program its config as strings (arrays and objects as JSON). The
`Reader` turns them into typed values and, instead of stopping at the first bad
value, records every problem with the full key and the reason, so that one run
tells the operator everything that is wrong. `Reader.finish()` raises
`ConfigError` when anything was wrong; nothing is declared before that.

A read that fails (missing, malformed, out of range) still returns a placeholder
of its type (0, "", False, []) so that a section's dataclass can be built, but the
key is recorded in `Reader.failed`: cross-field checks ask `Reader.ok(*keys)`
before comparing values, never the values' truthiness (0 and "" are valid values
of some keys), so a problem is reported once, at the key that is wrong.

Defaults live in `Pulumi.yaml` (the CLI applies them, and the offline render
does the same through `tools.stackfiles`), so a key missing here means the
project file declares no default and the stack gave no value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

ConfigType = Literal["string", "integer", "boolean", "array"]


class ConfigError(Exception):
    """Stack config is invalid; `problems` lists each as 'key: reason'."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")


@dataclass
class Reader:
    """Typed access to raw config values keyed `namespace:key`."""

    values: Mapping[str, str | None]
    namespace: str = "kakoi"
    problems: list[str] = field(default_factory=list)
    #: every key read, with the type it was read as (checked against Pulumi.yaml by a test)
    read: dict[str, ConfigType] = field(default_factory=dict)
    #: keys whose own read failed (their returned value is a placeholder); see `ok`
    failed: set[str] = field(default_factory=set)

    # -- plumbing -----------------------------------------------------------
    def full(self, key: str) -> str:
        return key if ":" in key else f"{self.namespace}:{key}"

    def fail(self, key: str, reason: str) -> None:
        """Record a problem with `key` (a cross-field rule); the value itself stays usable."""
        self.problems.append(f"{self.full(key)}: {reason}")

    def invalid(self, key: str, reason: str) -> None:
        """Record that reading `key` failed: its returned value is a placeholder (`ok(key)` is false)."""
        self.fail(key, reason)
        self.failed.add(self.full(key).split("[", 1)[0])

    def ok(self, *keys: str) -> bool:
        """Whether every key was read and its value is valid (cross-field checks run only then)."""
        return all(self.full(k) in self.read and self.full(k) not in self.failed for k in keys)

    def _raw(self, key: str, typ: ConfigType, required: bool) -> str | None:
        full = self.full(key)
        self.read[full] = typ
        value = self.values.get(full)
        if value is None and required:
            self.invalid(key, "is required (no default in Pulumi.yaml and no value in the stack file)")
        return value

    def finish(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    # -- scalar types ---------------------------------------------------------
    def string(
        self,
        key: str,
        *,
        required: bool = True,
        choices: Iterable[str] | None = None,
        pattern: str | None = None,
        allow_empty: bool = False,
        describe: str = "",
    ) -> str:
        raw = self._raw(key, "string", required)
        if raw is None:
            return ""
        if raw == "" and not allow_empty:
            if required:
                self.invalid(key, "must not be empty")
            return ""
        if raw == "":
            return ""
        if choices is not None:
            allowed = list(choices)
            if raw not in allowed:
                self.invalid(key, f"{raw!r} is not one of: {', '.join(allowed)}")
        if pattern is not None and not re.fullmatch(pattern, raw):
            self.invalid(key, f"{raw!r} is not {describe or f'matching {pattern}'}")
        return raw

    def integer(
        self,
        key: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        allowed: Iterable[int] | None = None,
    ) -> int:
        raw = self._raw(key, "integer", True)
        if raw is None:
            return 0
        try:
            value = int(str(raw).strip())
        except ValueError:
            self.invalid(key, f"{raw!r} is not an integer")
            return 0
        if minimum is not None and value < minimum:
            self.invalid(key, f"{value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            self.invalid(key, f"{value} is above the maximum {maximum}")
        if allowed is not None:
            values = list(allowed)
            if value not in values:
                self.invalid(key, f"{value} is not one of: {', '.join(map(str, values))}")
        return value

    def boolean(self, key: str) -> bool:
        raw = self._raw(key, "boolean", True)
        if raw is None:
            return False
        text = str(raw).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        self.invalid(key, f"{raw!r} is not a boolean (true or false)")
        return False

    # -- arrays ---------------------------------------------------------------
    def string_list(
        self,
        key: str,
        *,
        min_items: int = 0,
        item_check: Callable[[str], str | None] | None = None,
    ) -> list[str]:
        """A JSON array of strings; `item_check` returns a reason when an item is bad."""
        raw = self._raw(key, "array", True)
        if raw is None:
            return []
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            self.invalid(key, "is not a list (expected a YAML/JSON array of strings)")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.invalid(key, "must be a list of strings")
            return []
        items: list[str] = list(value)
        if len(items) < min_items:
            self.invalid(key, f"needs at least {min_items} item(s), got {len(items)}")
        if len(set(items)) != len(items):
            self.invalid(key, "has duplicate items")
        if item_check is not None:
            for i, item in enumerate(items):
                reason = item_check(item)
                if reason:
                    self.invalid(f"{self.full(key)}[{i}]", reason)
        return items

    def cidr_list(self, key: str, *, min_items: int = 0, private_only: bool = False) -> list[str]:
        """CIDR blocks (IPv4 or IPv6), written in canonical form (no host bits)."""

        def check(item: str) -> str | None:
            try:
                net = ipaddress.ip_network(item, strict=True)
            except ValueError as exc:
                return f"{item!r} is not a CIDR block ({exc})"
            if private_only and not is_private_range(net):
                return f"{item!r} is not a private range (RFC 1918 / ULA); only private ranges are allowed here"
            return None

        return self.string_list(key, min_items=min_items, item_check=check)


#: RFC 1918 and IPv6 unique-local ranges. `ip_network.is_private` also accepts documentation,
#: loopback and reserved ranges, which are not networks an administrator connects from.
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))


def is_private_range(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return any(net.version == p.version and net.subnet_of(p) for p in PRIVATE_RANGES)  # type: ignore[arg-type]


EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
REGION_PATTERN = r"[a-z]{2}(-gov)?-[a-z]+-\d"
ARN_PATTERN = r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+"

#: the values CloudWatch Logs accepts for a log group's retention
#: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def check_email(item: str) -> str | None:
    return None if re.fullmatch(EMAIL_PATTERN, item) else f"{item!r} is not an email address"
