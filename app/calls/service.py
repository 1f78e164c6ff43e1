"""The synchronous side of the signalling socket: who the socket belongs to, and presence.

Everything here runs in a worker thread (database_sync_to_async) inside tenant_context(company),
so row-level security applies as in a request; rooms are looked up by the socket's tenant only,
so another company's room answers exactly like a room that does not exist.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from accounts.models import User
from accounts.sessions import AUTH_AT_KEY, SEEN_AT_KEY
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from tenancy.db import tenant_context

from calls.models import Participant, Room

CONTROLS: dict[str, str] = {
    "SES-4": "the signalling handshake needs a live session of an active user whose login completed (second factor passed)",
    "CJ-2": "the socket re-checks its session every heartbeat: absolute and idle timeouts, sign-out and deletion end it",
    "AUTHZ-2": "rooms are looked up by the socket's tenant (and RLS); another company's room answers like a missing one",
    "ISO-1": "presence rows are written inside tenant_context(company of the socket)",
}

#: a presence row whose socket sent no heartbeat for this long no longer counts (its process died)
PRESENCE_STALE_SECONDS = 60
LOBBY_NAME = "Lobby"


@dataclass(frozen=True)
class SocketUser:
    user_id: uuid.UUID
    company_id: uuid.UUID
    name: str
    session_key: str


def session_group(session_key: str) -> str:
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:48]


def room_group(room_id: uuid.UUID) -> str:
    return f"room.{room_id.hex}"


def display_name(user: User) -> str:
    return user.name or user.email


def authenticate(session_key: str | None) -> SocketUser | None:
    """The user of a live, completed-login session (as SessionTimeoutMiddleware and AuthenticationMiddleware see it)."""
    if not session_key or len(session_key) > 64:
        return None
    store = SessionStore(session_key=session_key)
    data = store.load()
    if store.session_key is None or not data:
        return None
    now = int(time.time())
    auth_at, seen_at = data.get(AUTH_AT_KEY), data.get(SEEN_AT_KEY)
    if not isinstance(auth_at, int) or now - auth_at > settings.KAKOI_SESSION_ABSOLUTE_SECONDS:
        return None
    if not isinstance(seen_at, int) or now - seen_at > settings.KAKOI_SESSION_IDLE_SECONDS:
        return None
    if data.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user_id = uuid.UUID(str(data.get(SESSION_KEY)))
    except ValueError:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash()):
        return None
    return SocketUser(user_id=user.pk, company_id=user.company_id, name=display_name(user), session_key=session_key)


def still_valid(socket_user: SocketUser) -> bool:
    """Re-check the session (heartbeat); an open call counts as activity for the idle timeout."""
    current = authenticate(socket_user.session_key)
    if current is None or current.user_id != socket_user.user_id:
        return False
    store = SessionStore(session_key=socket_user.session_key)
    store[SEEN_AT_KEY] = int(time.time())
    if store.session_key is None:
        return False
    try:
        store.save(must_create=False)
    except UpdateError:
        return False  # deleted meanwhile (signed out)
    return True


def _peer(participant: Participant, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {"id": str(participant.pk), "name": names.get(participant.user_id, ""), "audio": participant.audio, "video": participant.video}


@dataclass
class JoinResult:
    error: str = ""
    room_id: uuid.UUID | None = None
    room_name: str = ""
    participant: dict[str, Any] | None = None
    peers: list[dict[str, Any]] | None = None


def join(socket_user: SocketUser, room_id: uuid.UUID, channel_name: str) -> JoinResult:
    """Enter a room: under a lock on the room row, drop stale presence, count, refuse beyond the limit."""
    with tenant_context(socket_user.company_id):
        room = Room.objects.select_for_update().filter(pk=room_id, company_id=socket_user.company_id).first()
        if room is None:
            return JoinResult(error="no_room")
        now = timezone.now()
        present = Participant.objects.filter(company_id=socket_user.company_id, room=room)
        present.filter(seen_at__lt=now - timedelta(seconds=PRESENCE_STALE_SECONDS)).delete()
        others = list(present.exclude(channel_name=channel_name).order_by("joined_at"))
        if len(others) >= settings.KAKOI_ROOM_MAX_PARTICIPANTS:
            return JoinResult(error="room_full")
        mine = Participant.objects.create(
            company_id=socket_user.company_id, room=room, user_id=socket_user.user_id, channel_name=channel_name, seen_at=now
        )
        ids = {p.user_id for p in others} | {socket_user.user_id}
        names = {u.pk: display_name(u) for u in User.objects.filter(company_id=socket_user.company_id, pk__in=ids)}
        return JoinResult(
            room_id=room.pk,
            room_name=room.name,
            participant=_peer(mine, names),
            peers=[_peer(p, names) for p in others],
        )


def leave(socket_user: SocketUser, channel_name: str) -> None:
    with tenant_context(socket_user.company_id):
        Participant.objects.filter(company_id=socket_user.company_id, channel_name=channel_name).delete()


def set_media(socket_user: SocketUser, channel_name: str, audio: bool, video: bool) -> None:
    with tenant_context(socket_user.company_id):
        Participant.objects.filter(company_id=socket_user.company_id, channel_name=channel_name).update(audio=audio, video=video)


def touch(socket_user: SocketUser, channel_name: str) -> bool:
    """Heartbeat of a socket in a room; False when its presence row is gone (e.g. the room was deleted)."""
    with tenant_context(socket_user.company_id):
        return bool(Participant.objects.filter(company_id=socket_user.company_id, channel_name=channel_name).update(seen_at=timezone.now()))


def peer_channel(socket_user: SocketUser, room_id: uuid.UUID, participant_id: uuid.UUID) -> str | None:
    """The socket of a participant of the same room of the same tenant, or None."""
    with tenant_context(socket_user.company_id):
        return (
            Participant.objects.filter(company_id=socket_user.company_id, room_id=room_id, pk=participant_id)
            .values_list("channel_name", flat=True)
            .first()
        )


def room_occupancy(company_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """How many are in each room of the company now (for the rooms page)."""
    fresh = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    counts: dict[uuid.UUID, int] = {}
    for room_id in Participant.objects.filter(company_id=company_id, seen_at__gte=fresh).values_list("room_id", flat=True):
        counts[room_id] = counts.get(room_id, 0) + 1
    return counts
