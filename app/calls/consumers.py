"""The signalling socket (/ws/calls/): one per open call page.

Handshake (refused with HTTP 403 before the socket opens): the Host must be allowed, the Origin
must be the app's own origin (cross-site WebSocket hijacking), the connection must be https
behind the load balancer where the app requires it, and the session cookie must belong to a
completed login (password and second factor) that has not timed out. The socket is then bound
to that user, their company and that session: it only ever joins rooms of that company, and a
message from the channel layer is forwarded only when it is for the room it is in.

Messages are checked by calls.protocol (type, fields, size, rate); a bad one closes the socket
with the documented code. The server sends a heartbeat every HEARTBEAT_SECONDS (so an idle
call never meets the load balancer's idle timeout), re-checks the session on each beat, and
renews the TURN credentials before they expire. Ending the session (sign-out, password change,
deletion) closes the socket at once (calls.signals) and at the latest at the next heartbeat.

While the database (and so the channel layer, calls.layer) is unavailable - a failover, a restart -
a signalling message is not dropped: the consumer keeps it and retries (backoff up to
RETRY_MAX_DELAY_SECONDS) until the layer takes it, in order (the socket's later messages wait behind
it), for up to DATABASE_WAIT_SECONDS; the layer stores it, so the receiving socket gets it even if its
own listener reconnects later. The heartbeat skips the session check meanwhile: nothing can end a
session without writing the database. Only an outage longer than that closes the socket with 4500
(the page then reconnects and rejoins).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import psycopg
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http.request import split_domain_port, validate_host

from calls import protocol, service, turn

CONTROLS: dict[str, str] = {
    "CSRF-2": "the WebSocket handshake's Origin must be the app's own origin (or a configured trusted origin): cross-site WebSocket hijacking is refused",
    "SES-4": "the WebSocket handshake is authenticated by the session cookie of a completed login (second factor passed)",
    "SES-2": "the socket is authenticated by the __Host- session cookie only; nothing in the URL",
    "AUTHZ-2": "a socket is bound to one user, company and session; it receives only messages of the room of its own company it joined",
    "ENC-1": "the socket hands out only turns: relay URLs (TLS 1.3 relay) with relay-only ICE; behind the ALB it requires wss (X-Forwarded-Proto https)",
}

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20  # < 25 s (CONTRACTS.md), far below the load balancer's idle timeout
#: how long a signalling message waits for the database to come back (RDS: failovers typically 60-120 s,
#: docs/database-failover.md) before the socket is closed with 4500 and the page rejoins
DATABASE_WAIT_SECONDS = 120.0
RETRY_FIRST_DELAY_SECONDS = 0.2
RETRY_MAX_DELAY_SECONDS = 2.0
#: the database (Django's connection or the channel layer's) is unreachable, restarting or failing over
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


async def until_database_available[T](call: Callable[[], Awaitable[T]], wait_seconds: float | None = None) -> T:
    """`await call()`, retried with backoff while the database is unavailable, for up to `wait_seconds`
    (DATABASE_WAIT_SECONDS); the last error is raised after that."""
    deadline = time.monotonic() + (DATABASE_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    delay = RETRY_FIRST_DELAY_SECONDS
    warned = False
    while True:
        try:
            return await call()
        except DATABASE_UNAVAILABLE:
            if time.monotonic() + delay > deadline:
                raise
            if not warned:
                logger.warning("database unavailable for a signalling message; retrying until it is back", exc_info=True)
                warned = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY_SECONDS)


def _headers(scope: Mapping[str, Any]) -> dict[str, str]:
    """The handshake's headers, lower-cased; the first of a repeated header wins, repeated Cookie headers are joined."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name not in headers:
            headers[name] = value
        elif name == "cookie":
            headers[name] = f"{headers[name]}; {value}"
    return headers


def handshake_secure(headers: dict[str, str], scope: Mapping[str, Any]) -> bool:
    header, value = settings.SECURE_PROXY_SSL_HEADER or ("", "")
    forwarded = headers.get(header.removeprefix("HTTP_").replace("_", "-").lower(), "") if header else ""
    return scope.get("scheme") == "wss" or forwarded.split(",")[0].strip() == value


def origin_allowed(headers: dict[str, str], scope: Mapping[str, Any]) -> bool:
    """The Origin must be exactly this site's origin (scheme, host, port) or a CSRF-trusted origin."""
    origin = headers.get("origin", "")
    host = headers.get("host", "")
    if not origin or not host:
        return False
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    scheme = "https" if handshake_secure(headers, scope) else "http"
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == origin and origin == f"{scheme}://{host}"


def session_key_from(headers: dict[str, str]) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel else None


class CallConsumer(AsyncJsonWebsocketConsumer):
    user: service.SocketUser | None = None
    room_id: uuid.UUID | None = None
    participant_id: str | None = None

    @property
    def me(self) -> service.SocketUser:
        """The socket's user (set by the accepted handshake; nothing runs before it)."""
        if self.user is None:
            raise RuntimeError("socket without a user")
        return self.user

    # --- lifecycle -----------------------------------------------------------------------------
    async def connect(self) -> None:
        self.bucket = protocol.TokenBucket()
        self.peers: dict[str, str] = {}  # participant id -> channel name, learnt from the room group
        self.groups_joined: list[str] = []
        self.heartbeat: asyncio.Task[None] | None = None
        headers = _headers(self.scope)
        if not origin_allowed(headers, self.scope) or (settings.SECURE_SSL_REDIRECT and not handshake_secure(headers, self.scope)):
            await self.close()
            return
        user = await database_sync_to_async(service.authenticate)(session_key_from(headers))
        if user is None:
            await self.close()
            return
        self.user = user
        await self._group_add(service.session_group(user.session_key))
        await self.accept()
        await self._send_turn()
        self.heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def disconnect(self, code: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        try:
            await self._leave()
        finally:
            for group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined = []

    async def _group_add(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def _close(self, code: int) -> None:
        if self.heartbeat is not None and self.heartbeat is not asyncio.current_task():
            self.heartbeat.cancel()
        await self._leave()
        await self.close(code=code)

    async def _send_turn(self) -> None:
        servers = turn.ice_servers(self.me.user_id)
        await self.send_json({"type": "turn", "iceTransportPolicy": "relay", **servers})
        self.turn_renew_at = time.monotonic() + turn.renew_after_seconds()

    async def _beat(self) -> None:
        user = self.me
        unavailable_since: float | None = None
        try:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                try:
                    valid = await database_sync_to_async(service.still_valid)(user)
                    if valid and self.room_id is not None:
                        await database_sync_to_async(service.touch)(user, self.channel_name)
                    unavailable_since = None
                except DATABASE_UNAVAILABLE:
                    # Signing out, a password change, a deletion: each writes the database, so none can have
                    # happened while it is down; check again at the next beat (the socket stays, the call goes on).
                    unavailable_since = unavailable_since or time.monotonic()
                    if time.monotonic() - unavailable_since > DATABASE_WAIT_SECONDS:
                        raise
                    logger.warning("session check skipped: the database is unavailable")
                    valid = True
                if not valid:
                    await self._close(protocol.CLOSE_SESSION_ENDED)
                    return
                await self.send_json({"type": "heartbeat"})
                if time.monotonic() >= self.turn_renew_at:
                    await self._send_turn()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("signalling heartbeat failed")
            await self.close(code=protocol.CLOSE_INTERNAL_ERROR)

    # --- from the browser --------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.user is None:
            return
        try:
            if not self.bucket.take():
                raise protocol.ProtocolError(protocol.CLOSE_RATE_LIMITED)
            message = protocol.parse(text_data, bytes_data)
            await getattr(self, f"on_{message['type']}")(message)
        except protocol.ProtocolError as error:
            await self._close(error.code)
        except Exception:
            logger.exception("signalling message failed")
            await self._close(protocol.CLOSE_INTERNAL_ERROR)

    async def on_join(self, message: dict[str, Any]) -> None:
        if self.room_id is not None:
            await self._leave()
        result = await database_sync_to_async(service.join)(self.me, message["room"], self.channel_name)
        if result.error or result.room_id is None or result.participant is None:
            await self.send_json({"type": "error", "code": result.error})
            return
        self.room_id, self.participant_id = result.room_id, result.participant["id"]
        await self._group_add(service.room_group(result.room_id))
        await self.send_json({"type": "joined", "room": str(result.room_id), "self": result.participant, "peers": result.peers or []})
        await self._broadcast({"type": "peer-joined", "peer": result.participant}, channel=self.channel_name)

    async def on_leave(self, message: dict[str, Any]) -> None:
        await self._leave()
        await self.send_json({"type": "left"})

    async def on_media(self, message: dict[str, Any]) -> None:
        if self.room_id is None:
            await self.send_json({"type": "error", "code": "not_in_room"})
            return
        await database_sync_to_async(service.set_media)(self.me, self.channel_name, message["audio"], message["video"])
        await self._broadcast({"type": "peer-media", "peer": self.participant_id, "audio": message["audio"], "video": message["video"]})

    async def on_signal(self, message: dict[str, Any]) -> None:
        if self.room_id is None:
            await self.send_json({"type": "error", "code": "not_in_room"})
            return
        target = str(message["to"])
        room_id = self.room_id
        channel = self.peers.get(target)
        if channel is None:
            channel = await until_database_available(lambda: database_sync_to_async(service.peer_channel)(self.me, room_id, message["to"]))
            if channel is not None and channel != self.channel_name:
                self.peers[target] = channel  # forgotten when the room says the peer left
        if channel is None or channel == self.channel_name:
            await self.send_json({"type": "error", "code": "no_peer"})
            return
        event = {
            "type": "peer.signal",
            "room": str(room_id),
            "company": str(self.me.company_id),
            "to": target,
            "payload": {"type": "signal", "from": self.participant_id, "data": message["data"]},
        }
        # kept and retried while the database is down (a failover): the message is delivered once it is back
        await until_database_available(lambda: self.channel_layer.send(channel, event))

    async def _leave(self) -> None:
        if self.room_id is None or self.user is None:
            return
        room_id, participant_id = self.room_id, self.participant_id
        self.room_id, self.participant_id, self.peers = None, None, {}
        group = service.room_group(room_id)
        await self.channel_layer.group_discard(group, self.channel_name)
        if group in self.groups_joined:
            self.groups_joined.remove(group)
        await database_sync_to_async(service.leave)(self.user, self.channel_name)
        await self.channel_layer.group_send(
            group,
            {
                "type": "room.event",
                "room": str(room_id),
                "company": str(self.user.company_id),
                "sender": self.channel_name,
                "payload": {"type": "peer-left", "peer": participant_id},
            },
        )

    async def _broadcast(self, payload: dict[str, Any], channel: str | None = None) -> None:
        if self.room_id is None:
            return
        await self.channel_layer.group_send(
            service.room_group(self.room_id),
            {
                "type": "room.event",
                "room": str(self.room_id),
                "company": str(self.me.company_id),
                "sender": self.channel_name,
                "payload": payload,
                "channel": channel,
            },
        )

    # --- from the channel layer ------------------------------------------------------------------
    def _for_my_room(self, event: dict[str, Any]) -> bool:
        return (
            self.user is not None
            and self.room_id is not None
            and event.get("room") == str(self.room_id)
            and event.get("company") == str(self.user.company_id)
        )

    async def room_event(self, event: dict[str, Any]) -> None:
        if not self._for_my_room(event) or event.get("sender") == self.channel_name:
            return
        payload = event["payload"]
        if payload.get("type") == "peer-joined" and event.get("channel"):
            self.peers[payload["peer"]["id"]] = event["channel"]
        elif payload.get("type") == "peer-left":
            self.peers.pop(str(payload.get("peer")), None)
        await self.send_json(payload)

    async def peer_signal(self, event: dict[str, Any]) -> None:
        if not self._for_my_room(event) or event.get("to") != self.participant_id:
            return
        await self.send_json(event["payload"])

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self._close(protocol.CLOSE_SESSION_ENDED)
