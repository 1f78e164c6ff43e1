"""TURN credentials by the TURN REST API scheme (what coturn's use-auth-secret checks).

username = "<expiry unix time>:<user id>", credential = base64(HMAC-SHA1(secret, username)).
The secret (KAKOI_TURN_SECRET) is shared by the app and the relay only; a credential is per
user and expires after KAKOI_TURN_CREDENTIAL_TTL_SECONDS. It is handed out over the signed-in
user's signalling socket, never in a page, and renewed on the socket before it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from typing import Any

from django.conf import settings

CONTROLS: dict[str, str] = {
    "ENC-1": "the browser is given only turns: (TURN over TLS) relay URLs with iceTransportPolicy 'relay': media never takes another path",
    "AUTHZ-2": "TURN credentials are per user, short-lived (TURN REST API: expiry:user-id, HMAC-SHA1 of a secret only app and relay know)",
}


def credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(user_id: uuid.UUID, now: float | None = None) -> dict[str, Any]:
    """The RTCConfiguration.iceServers entry for `user_id`, and when it expires."""
    issued = int(time.time() if now is None else now)
    expires = issued + int(settings.KAKOI_TURN_CREDENTIAL_TTL_SECONDS)
    username = f"{expires}:{user_id}"
    return {
        "iceServers": [
            {"urls": list(settings.KAKOI_TURN_URLS), "username": username, "credential": credential(settings.KAKOI_TURN_SECRET, username)}
        ],
        "expires": expires,
    }


def renew_after_seconds() -> float:
    """When to send fresh credentials: well before expiry (at 80 % of the life, at most 5 minutes before)."""
    ttl = int(settings.KAKOI_TURN_CREDENTIAL_TTL_SECONDS)
    return float(max(ttl * 0.8, ttl - 300))
