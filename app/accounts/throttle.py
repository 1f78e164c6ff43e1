"""Fixed-window throttles, in the database (ThrottleCounter), shared by every web task.

Design (issue 12): a throttle must stop guessing without letting a stranger lock anyone out.

* **Failures only.** An attempt *reserves* one failure in each of its buckets before the secret is
  checked, and a success gives the reservations back (`Attempt.succeeded`). So signing in many
  times from an office NAT never counts, and parallel guesses cannot slip past the limit: the
  reservation is an increment of a row locked with SELECT ... FOR UPDATE, held until the
  request's transaction ends, so concurrent attempts on one bucket queue behind each other
  and each sees the others' reservations (check and act are one step).
* **Per account failures are keyed by account and client** (`account_client`), so failures from
  one address never lock the account for its owner elsewhere; the per-client bucket stops one
  client from spraying many accounts.
* **Clients are IPv4 addresses or IPv6 /64 networks** (`client_bucket`): one IPv6 subscriber
  holds a whole /64 and could otherwise rotate through it.

Keys are SHA-256 digests of scope and identifier (no address or IP stored in clear).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import ThrottleCounter

CONTROLS: dict[str, str] = {
    "PWD-2": "second-factor failures are throttled per account and per client (IPv4 address or IPv6 /64), besides per-challenge limits",
    "AUTHZ-1": "password failures (sign-in and every re-authentication) are throttled per account+client and per client, "
    "counted under a row lock so parallel guesses cannot pass the limit; successes are not counted",
}


class ThrottledError(Exception):
    """Too many failures in a bucket; `retry_after` seconds until its window ends."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"throttled: {scope}")
        self.scope = scope
        self.retry_after = max(1, retry_after)


def client_bucket(ip: str) -> str:
    """The unit a per-client limit counts: the IPv4 address, or the /64 of an IPv6 address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def account_client(account: str, ip: str) -> str:
    return f"{account}\x00{client_bucket(ip)}"


def _key(scope: str, identifier: str) -> str:
    return hashlib.sha256(f"{scope}\x00{identifier}".encode()).hexdigest()


def _rule(scope: str) -> tuple[int, int]:
    limit, window = settings.KAKOI_THROTTLE[scope]
    return int(limit), int(window)


def _locked_row(scope: str, identifier: str) -> ThrottleCounter:
    """The bucket's row, created if missing (ON CONFLICT DO NOTHING), locked until the transaction ends; window rolled over."""
    _, window = _rule(scope)
    now = timezone.now()
    key = _key(scope, identifier)
    ThrottleCounter.objects.bulk_create([ThrottleCounter(key=key, window_start=now, count=0)], ignore_conflicts=True)
    row = ThrottleCounter.objects.select_for_update().get(key=key)
    if row.window_start <= now - timedelta(seconds=window):
        row.window_start = now
        row.count = 0
    return row


def _retry_after(scope: str, row: ThrottleCounter) -> int:
    _, window = _rule(scope)
    return int((row.window_start + timedelta(seconds=window) - timezone.now()).total_seconds()) + 1


def count(scope: str, identifier: str) -> int:
    """Hits in the current window (read only)."""
    _, window = _rule(scope)
    row = ThrottleCounter.objects.filter(key=_key(scope, identifier)).first()
    if row is None or row.window_start <= timezone.now() - timedelta(seconds=window):
        return 0
    return row.count


def hit(scope: str, identifier: str) -> int:
    """Count one hit (an event that always counts, e.g. a code sent); returns the hits in the window, this one included."""
    with transaction.atomic():
        row = _locked_row(scope, identifier)
        row.count += 1
        row.save(update_fields=["window_start", "count"])
    return row.count


def hit_over_limit(scope: str, identifier: str) -> bool:
    """Count one hit and say whether it went over the limit."""
    limit, _ = _rule(scope)
    return hit(scope, identifier) > limit


def reset(scope: str, identifier: str) -> None:
    ThrottleCounter.objects.filter(key=_key(scope, identifier)).delete()


@dataclass
class Attempt:
    """Failures reserved in some buckets; give them back with succeeded() when the secret was right."""

    buckets: list[tuple[str, str]] = field(default_factory=list)
    #: failures in each bucket's window, this attempt included
    counts: dict[str, int] = field(default_factory=dict)

    def succeeded(self) -> None:
        with transaction.atomic():
            for scope, identifier in self.buckets:
                ThrottleCounter.objects.filter(key=_key(scope, identifier), count__gt=0).update(count=F("count") - 1)


def attempt(*buckets: tuple[str, str]) -> Attempt:
    """Reserve one failure in each bucket, in the order given (callers use one fixed order: no deadlock).

    Raises ThrottledError, reserving nothing, when a bucket already holds its limit of failures.
    Must run inside the request's transaction: the row locks serialise concurrent attempts.
    """
    with transaction.atomic():
        rows = []
        for scope, identifier in buckets:
            limit, _ = _rule(scope)
            row = _locked_row(scope, identifier)
            if row.count >= limit:
                raise ThrottledError(scope, _retry_after(scope, row))
            rows.append((scope, row))
        result = Attempt(buckets=list(buckets))
        for scope, row in rows:
            row.count += 1
            row.save(update_fields=["window_start", "count"])
            result.counts[scope] = row.count
    return result
