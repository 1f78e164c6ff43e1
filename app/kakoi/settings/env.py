"""Reading settings from the environment (twelve-factor): typed helpers with clear errors.

A required variable that is missing raises ImproperlyConfigured naming it, so a
misconfigured container stops at start-up instead of running with a weak default.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def require(name: str) -> str:
    """The value of an environment variable that must be set and non-empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} is required in this environment and is not set.")
    return value


def get(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def get_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"The environment variable {name} must be an integer, got {raw!r}.") from None


def get_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"The environment variable {name} must be a boolean (true/false), got {raw!r}.")


def get_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    raw = os.environ.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items if items else list(default or [])


def require_list(name: str) -> list[str]:
    items = get_list(name)
    if not items:
        raise ImproperlyConfigured(f"The environment variable {name} is required in this environment and is not set.")
    return items
