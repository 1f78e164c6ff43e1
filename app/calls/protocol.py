"""The signalling protocol: what a browser may send on /ws/calls/, and the close codes.

Every frame is checked before anything acts on it: a text frame of at most
MAX_MESSAGE_BYTES holding one JSON object whose "type" is known and whose fields are exactly
the ones that type takes, each of the right type and size. Anything else closes the socket with
a documented code (never an exception, never a partial effect). The rate is limited per socket
by a token bucket.

Close codes (also in app/README.md):

    4400  invalid message (not JSON, not an object, unknown type, missing/extra/bad fields, binary frame)
    4401  the session ended (signed out, password changed, account deleted, timed out)
    4413  message too large
    4429  too many messages (rate limit)
    4500  internal error (logged; the socket is closed rather than left in an unknown state)

A refused handshake (not signed in with the second factor passed, foreign Origin, unknown Host,
plain ws where https is required) never opens: the server answers the upgrade with HTTP 403.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

CONTROLS: dict[str, str] = {
    "BOF-1": "signalling frames are size-capped (MAX_MESSAGE_BYTES) and parsed by the json module into checked, typed fields",
    "AUTHZ-2": "a signalling message names a peer by participant id only; the server resolves it within the sender's room",
}

CLOSE_INVALID = 4400
CLOSE_SESSION_ENDED = 4401
CLOSE_TOO_LARGE = 4413
CLOSE_RATE_LIMITED = 4429
CLOSE_INTERNAL_ERROR = 4500
CLOSE_CODES = {
    CLOSE_INVALID: "invalid message",
    CLOSE_SESSION_ENDED: "session ended",
    CLOSE_TOO_LARGE: "message too large",
    CLOSE_RATE_LIMITED: "too many messages",
    CLOSE_INTERNAL_ERROR: "internal error",
}

MAX_MESSAGE_BYTES = 32 * 1024
MAX_SDP_CHARS = 24 * 1024
MAX_CANDIDATE_CHARS = 1024
MAX_MID_CHARS = 64
RATE_PER_SECOND = 40.0
RATE_BURST = 200.0


class ProtocolError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(CLOSE_CODES[code])
        self.code = code


@dataclass
class TokenBucket:
    rate: float = RATE_PER_SECOND
    burst: float = RATE_BURST
    tokens: float = RATE_BURST
    stamp: float = 0.0

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _fields(message: dict[str, Any], required: set[str], optional: frozenset[str] = frozenset()) -> None:
    keys = set(message) - {"type"}
    if not required <= keys or not keys <= required | optional:
        raise ProtocolError(CLOSE_INVALID)


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str) or len(value) != 36:
        raise ProtocolError(CLOSE_INVALID)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ProtocolError(CLOSE_INVALID) from None


def _text(value: Any, limit: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not value and not allow_empty):
        raise ProtocolError(CLOSE_INVALID)
    if any(ch in value for ch in "\x00"):
        raise ProtocolError(CLOSE_INVALID)
    return value


def _signal_data(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError(CLOSE_INVALID)
    kind = data.get("kind")
    if kind in ("offer", "answer"):
        if set(data) != {"kind", "sdp"}:
            raise ProtocolError(CLOSE_INVALID)
        return {"kind": kind, "sdp": _text(data["sdp"], MAX_SDP_CHARS)}
    if kind == "candidate":
        if set(data) != {"kind", "candidate"} or not isinstance(data["candidate"], dict):
            raise ProtocolError(CLOSE_INVALID)
        candidate = data["candidate"]
        if not set(candidate) <= {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"} or "candidate" not in candidate:
            raise ProtocolError(CLOSE_INVALID)
        clean: dict[str, Any] = {"candidate": _text(candidate["candidate"], MAX_CANDIDATE_CHARS, allow_empty=True)}
        mid = candidate.get("sdpMid")
        clean["sdpMid"] = None if mid is None else _text(mid, MAX_MID_CHARS, allow_empty=True)
        index = candidate.get("sdpMLineIndex")
        if index is not None and (type(index) is not int or not 0 <= index < 64):
            raise ProtocolError(CLOSE_INVALID)
        clean["sdpMLineIndex"] = index
        fragment = candidate.get("usernameFragment")
        clean["usernameFragment"] = None if fragment is None else _text(fragment, 256, allow_empty=True)
        return {"kind": "candidate", "candidate": clean}
    raise ProtocolError(CLOSE_INVALID)


def parse(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    """One checked client message, or ProtocolError with the close code."""
    if text_data is None or bytes_data is not None:
        raise ProtocolError(CLOSE_INVALID)
    if len(text_data) > MAX_MESSAGE_BYTES or len(text_data.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise ProtocolError(CLOSE_TOO_LARGE)
    try:
        message = json.loads(text_data)
    except (ValueError, RecursionError):
        raise ProtocolError(CLOSE_INVALID) from None
    if not isinstance(message, dict):
        raise ProtocolError(CLOSE_INVALID)
    kind = message.get("type")
    if kind == "join":
        _fields(message, {"room"})
        return {"type": "join", "room": _uuid(message["room"])}
    if kind == "leave":
        _fields(message, set())
        return {"type": "leave"}
    if kind == "signal":
        _fields(message, {"to", "data"})
        return {"type": "signal", "to": _uuid(message["to"]), "data": _signal_data(message["data"])}
    if kind == "media":
        _fields(message, {"audio", "video"})
        if type(message["audio"]) is not bool or type(message["video"]) is not bool:
            raise ProtocolError(CLOSE_INVALID)
        return {"type": "media", "audio": message["audio"], "video": message["video"]}
    raise ProtocolError(CLOSE_INVALID)
