"""Fixed-window throttles for the login and second-factor steps, per account and per client IP.

Counters live in the database (ThrottleCounter), so every web task shares them.
Keys are SHA-256 digests of scope and identifier.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ThrottleCounter

CONTROLS: dict[str, str] = {
    "PWD-2": "second-factor attempts are throttled per account and per client IP (besides per-challenge attempt limits)",
    "AUTHZ-1": "password attempts are throttled per account and per client IP, so the manager's factors cannot be brute-forced",
}


def _key(scope: str, identifier: str) -> str:
    return hashlib.sha256(f"{scope}\x00{identifier}".encode()).hexdigest()


def _rule(scope: str) -> tuple[int, int]:
    limit, window = settings.KAKOI_THROTTLE[scope]
    return int(limit), int(window)


def count(scope: str, identifier: str) -> int:
    """Hits in the current window."""
    _, window = _rule(scope)
    row = ThrottleCounter.objects.filter(key=_key(scope, identifier)).first()
    if row is None or row.window_start <= timezone.now() - timedelta(seconds=window):
        return 0
    return row.count


def exceeded(scope: str, identifier: str) -> bool:
    limit, _ = _rule(scope)
    return count(scope, identifier) >= limit


def hit(scope: str, identifier: str) -> int:
    """Count one hit; returns the hits in the current window, including this one."""
    _, window = _rule(scope)
    now = timezone.now()
    with transaction.atomic():
        row, _ = ThrottleCounter.objects.select_for_update().get_or_create(key=_key(scope, identifier), defaults={"window_start": now})
        if row.window_start <= now - timedelta(seconds=window):
            row.window_start = now
            row.count = 0
        row.count += 1
        row.save(update_fields=["window_start", "count"])
    return row.count


def reset(scope: str, identifier: str) -> None:
    ThrottleCounter.objects.filter(key=_key(scope, identifier)).delete()


def hit_over_limit(scope: str, identifier: str) -> bool:
    """Count one hit and say whether it went over the limit."""
    limit, _ = _rule(scope)
    return hit(scope, identifier) > limit
