"""The signalling socket (/ws/calls/) driven in-process through the ASGI app (channels.testing),
with the real PostgreSQL channel layer and committed rows (the consumer's queries run in other
threads and connections, so nothing can live in a test transaction).

Covers: the handshake (session of a completed login, Origin, Host), TURN credentials handed out
and renewed, heartbeats, joining (limit, another company's room answers like a missing one),
signalling within a room only, media state, leaving, and the session ending (sign-out, password
change, deletion) closing the socket with 4401. The participant limit is tested with real
concurrent joins (threads, each with its own database connection, started together).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from accounts.models import ThrottleCounter, User
from asgiref.testing import ApplicationCommunicator
from calls import consumers, service, turn
from calls.models import Participant, Room
from conftest import PASSWORD, CommitClient, make_tenant, make_user, sign_in
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import override_settings
from kakoi.asgi import application
from tenancy.db import tenant_context
from tenancy.models import Company

T = TypeVar("T")
ORIGIN = "http://testserver"


class WebsocketCommunicator(ApplicationCommunicator):
    """A WebSocket client speaking ASGI to the app (channels.testing's needs daphne, which the app does not use)."""

    def __init__(self, app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        scope = {
            "type": "websocket",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "scheme": "ws",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 50000),
            "subprotocols": [],
        }
        super().__init__(app, scope)

    async def output(self, timeout: float) -> dict[str, Any]:
        return await self.receive_output(timeout)  # type: ignore[arg-type]  # asgiref annotates an int; any number works

    async def connect(self, timeout: float = 1) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.output(timeout)
        return (True, None) if response["type"] == "websocket.accept" else (False, response.get("code", 1000))

    async def send_to(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data, "bytes": bytes_data})

    async def send_json_to(self, data: Any) -> None:
        await self.send_to(text_data=json.dumps(data))

    async def receive_json_from(self, timeout: float = 1) -> Any:
        response = await self.output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)  # type: ignore[arg-type]


class Loop:
    """One event loop in a thread for the whole module: the channel layer keeps its connections per loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class World:
    loop: Loop
    a_lobby: Room
    a_room: Room
    b_lobby: Room
    alice: User
    bob: User
    carol: User
    eve: User
    sessions: dict[uuid.UUID, str]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    loop = Loop()
    with django_db_blocker.unblock():
        label = uuid.uuid4().hex[:8]
        ours, theirs = make_tenant(f"ws-{label}"), make_tenant(f"wsx-{label}")
        alice = make_user(ours.company, f"alice-ws-{label}@example.com", name="Alice")
        bob = make_user(ours.company, f"bob-ws-{label}@example.com", name="Bob")
        carol = make_user(ours.company, f"carol-ws-{label}@example.com", name="Carol")
        eve = make_user(theirs.company, f"eve-ws-{label}@example.com", name="Eve")
        with tenant_context(ours.company.pk):
            a_lobby = Room.objects.get(company=ours.company, is_lobby=True)
            a_room = Room.objects.create(company=ours.company, name="Design review")
        with tenant_context(theirs.company.pk):
            b_lobby = Room.objects.get(company=theirs.company, is_lobby=True)
        try:
            with override_settings(KAKOI_TURN_URLS=["turns:turn.kakoi.example:443?transport=tcp"]):
                yield World(loop, a_lobby, a_room, b_lobby, alice, bob, carol, eve, {})
        finally:
            for tenant in (ours, theirs):
                with tenant_context(tenant.company.pk):
                    Company.objects.filter(pk=tenant.company.pk).delete()
            Session.objects.all().delete()
            ThrottleCounter.objects.all().delete()
            connections.close_all()
            loop.stop()


@pytest.fixture
def unblocked(django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield


def session_for(user: User) -> str:
    client = CommitClient()
    sign_in(client, user)
    return str(client.session.session_key)


class Socket:
    def __init__(self, world: World, session_key: str | None, origin: str = ORIGIN, host: str = "testserver") -> None:
        headers = [(b"host", host.encode()), (b"origin", origin.encode())]
        if session_key:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
        self.world = world
        self.comm = WebsocketCommunicator(application, "/ws/calls/", headers=headers)
        self.closed: int | None = None

    def connect(self) -> bool:
        connected, _ = self.world.loop.run(self.comm.connect(timeout=10))
        return bool(connected)

    def send(self, message: Any) -> None:
        self.world.loop.run(self.comm.send_json_to(message))

    def send_text(self, text: str | None = None, data: bytes | None = None) -> None:
        self.world.loop.run(self.comm.send_to(text_data=text, bytes_data=data))

    def receive(self, timeout: float = 5) -> dict[str, Any]:
        """The next message other than a heartbeat, or {'closed': code}."""
        while True:
            output = self.world.loop.run(self.comm.output(timeout), timeout=timeout + 5)
            if output["type"] == "websocket.close":
                self.closed = output.get("code", 1000)
                return {"closed": self.closed}
            message = json.loads(output["text"])
            if message["type"] != "heartbeat":
                return message

    def nothing(self, wait: float = 0.5) -> bool:
        return bool(self.world.loop.run(self.comm.receive_nothing(timeout=wait), timeout=wait + 5))

    def disconnect(self) -> None:
        self.world.loop.run(self.comm.disconnect())


def opened(world: World, user: User) -> Socket:
    socket = Socket(world, session_for(user))
    assert socket.connect()
    hello = socket.receive()
    assert hello["type"] == "turn"
    return socket


def joined(world: World, user: User, room: Room) -> tuple[Socket, dict[str, Any]]:
    socket = opened(world, user)
    socket.send({"type": "join", "room": str(room.pk)})
    answer = socket.receive()
    assert answer["type"] == "joined", answer
    return socket, answer


# --- handshake --------------------------------------------------------------------------------


def test_ses4_the_handshake_needs_a_completed_login(world: World, unblocked: None):
    """SES-4: no cookie, an unknown session and a login waiting for its second factor are all refused."""
    assert not Socket(world, None).connect()
    assert not Socket(world, "x" * 32).connect()
    client = CommitClient()
    response = client.post("/login/", {"email": world.alice.email, "password": PASSWORD})
    assert response.status_code == 302
    # Alice has no second factor: a member's login completes. A manager's stops at the code: refused.
    manager = User.objects.get(company_id=world.alice.company_id, role="manager")
    pending = CommitClient()
    assert pending.post("/login/", {"email": manager.email, "password": PASSWORD})["Location"].endswith("/login/verify/")
    assert not Socket(world, str(pending.session.session_key)).connect()
    assert Socket(world, str(client.session.session_key)).connect()


def test_csrf2_the_handshake_checks_origin_and_host(world: World, unblocked: None):
    """CSRF-2: with a valid session, a foreign or missing Origin and an unknown Host are refused."""
    key = session_for(world.alice)
    for origin in ("http://evil.example", "https://testserver", "http://testserver:8080", "null", ""):
        assert not Socket(world, key, origin=origin).connect(), origin
    assert not Socket(world, key, origin="http://evil.example", host="evil.example").connect()
    assert Socket(world, key, origin="https://kakoi.example").connect()  # a CSRF_TRUSTED_ORIGINS entry
    assert Socket(world, key).connect()


def test_ses4_the_handshake_needs_https_where_the_app_requires_it(world: World, unblocked: None):
    """ENC-1: with SECURE_SSL_REDIRECT (production) a handshake that did not arrive over TLS at the load balancer is refused."""
    key = session_for(world.alice)
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert not Socket(world, key).connect()


def test_enc1_turn_credentials_are_relay_only_per_user_and_renewed(world: World, unblocked: None, monkeypatch: pytest.MonkeyPatch):
    """ENC-1 / AUTHZ-2: the socket hands out only turns: URLs with relay policy, a TURN REST credential for this user
    that verifies with the shared secret, a heartbeat well under 25 s, and fresh credentials before expiry."""
    monkeypatch.setattr(consumers, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(turn, "renew_after_seconds", lambda: 0.3)
    socket = Socket(world, session_for(world.alice))
    assert socket.connect()
    first = socket.receive()
    assert first["iceTransportPolicy"] == "relay"
    (server,) = first["iceServers"]
    assert all(url.startswith("turns:") for url in server["urls"])
    expiry, user = server["username"].split(":")
    assert user == str(world.alice.pk) and int(expiry) == first["expires"]
    assert int(expiry) - time.time() == pytest.approx(settings.KAKOI_TURN_CREDENTIAL_TTL_SECONDS, abs=5)
    assert server["credential"] == turn.credential(settings.KAKOI_TURN_SECRET, server["username"])
    output = world.loop.run(socket.comm.receive_json_from(timeout=5))
    assert output["type"] == "heartbeat"
    renewed = socket.receive()
    assert renewed["type"] == "turn"
    assert consumers.HEARTBEAT_SECONDS < 25
    socket.disconnect()


# --- rooms, presence, signalling ------------------------------------------------------------------


def test_iso1_a_call_room_of_another_company_answers_like_a_missing_one(world: World, unblocked: None):
    """ISO-1 / AUTHZ-2: Eve (other company) joining Alice's company's lobby by its ID gets exactly the error a
    random ID gets, and Alice's room hears nothing of it."""
    alice, _ = joined(world, world.alice, world.a_lobby)
    eve = opened(world, world.eve)
    eve.send({"type": "join", "room": str(world.a_lobby.pk)})
    foreign = eve.receive()
    eve.send({"type": "join", "room": str(uuid.uuid4())})
    missing = eve.receive()
    assert foreign == missing == {"type": "error", "code": "no_room"}
    assert alice.nothing()
    alice.disconnect()
    eve.disconnect()


def test_authz2_signals_reach_only_the_named_peer_of_the_same_room(world: World, unblocked: None):
    """AUTHZ-2: offers go to the addressed participant; a participant of another room (same company) or of another
    company cannot be addressed; presence and media state flow; leaving tells the others."""
    alice, a_joined = joined(world, world.alice, world.a_lobby)
    bob, b_joined = joined(world, world.bob, world.a_lobby)
    assert [p["name"] for p in b_joined["peers"]] == ["Alice"]
    assert alice.receive() == {"type": "peer-joined", "peer": b_joined["self"]}
    carol, _ = joined(world, world.carol, world.a_room)  # same company, another room
    eve, e_joined = joined(world, world.eve, world.b_lobby)
    offer = {"kind": "offer", "sdp": "v=0\r\n"}
    bob.send({"type": "signal", "to": a_joined["self"]["id"], "data": offer})
    assert alice.receive() == {"type": "signal", "from": b_joined["self"]["id"], "data": offer}
    for sender in (carol, eve):
        sender.send({"type": "signal", "to": a_joined["self"]["id"], "data": offer})
        assert sender.receive() == {"type": "error", "code": "no_peer"}
    alice.send({"type": "signal", "to": e_joined["self"]["id"], "data": offer})
    assert alice.receive() == {"type": "error", "code": "no_peer"}
    bob.send({"type": "media", "audio": False, "video": True})
    assert alice.receive() == {"type": "peer-media", "peer": b_joined["self"]["id"], "audio": False, "video": True}
    bob.send({"type": "leave"})
    assert bob.receive() == {"type": "left"}
    assert alice.receive() == {"type": "peer-left", "peer": b_joined["self"]["id"]}
    assert carol.nothing(0.2) and eve.nothing(0.2)
    for socket in (alice, carol, eve, bob):
        socket.disconnect()
    with tenant_context(world.alice.company_id):
        assert not Participant.objects.filter(room=world.a_lobby).exists()


def test_a_room_refuses_joins_beyond_the_limit_with_a_clear_error(world: World, unblocked: None):
    with override_settings(KAKOI_ROOM_MAX_PARTICIPANTS=2):
        first, _ = joined(world, world.alice, world.a_room)
        second, _ = joined(world, world.bob, world.a_room)
        assert first.receive()["type"] == "peer-joined"
        third = opened(world, world.carol)
        third.send({"type": "join", "room": str(world.a_room.pk)})
        assert third.receive() == {"type": "error", "code": "room_full"}
        second.disconnect()
        assert first.receive()["type"] == "peer-left"
        third.send({"type": "join", "room": str(world.a_room.pk)})
        assert third.receive()["type"] == "joined"
        for socket in (first, third):
            socket.disconnect()


def test_the_participant_limit_holds_under_concurrent_joins(world: World, unblocked: None):
    """The limit is an invariant over rows: 12 joins started at once (threads, own connections) into a room of 6
    give exactly 6 participants; the room row's lock serialises the count and the insert."""
    limit, tries = 6, 12
    users = [world.alice, world.bob, world.carol]
    socket_users = [service.SocketUser(u.pk, u.company_id, u.name, "k") for u in users]
    barrier = threading.Barrier(tries)

    def attempt(index: int) -> str:
        try:
            barrier.wait(timeout=30)
            result = service.join(socket_users[index % 3], world.a_room.pk, f"specific.test!{uuid.uuid4().hex}")
            return result.error or "joined"
        finally:
            connections.close_all()

    with override_settings(KAKOI_ROOM_MAX_PARTICIPANTS=limit), concurrent.futures.ThreadPoolExecutor(tries) as pool:
        outcomes = list(pool.map(attempt, range(tries)))
    try:
        assert sorted(outcomes) == ["joined"] * limit + ["room_full"] * (tries - limit)
        with tenant_context(world.alice.company_id):
            assert Participant.objects.filter(room=world.a_room).count() == limit
    finally:
        with tenant_context(world.alice.company_id):
            Participant.objects.filter(room=world.a_room).delete()


def test_stale_presence_does_not_count(world: World, unblocked: None):
    """A participant whose socket stopped its heartbeats (its process died) is dropped at the next join."""
    ghost = service.SocketUser(world.bob.pk, world.bob.company_id, "Bob", "k")
    with override_settings(KAKOI_ROOM_MAX_PARTICIPANTS=2):
        assert service.join(ghost, world.a_room.pk, "specific.gone!1").error == ""
        assert service.join(ghost, world.a_room.pk, "specific.gone!2").error == ""
        with tenant_context(world.alice.company_id):
            Participant.objects.filter(room=world.a_room).update(
                seen_at=Participant.objects.get(channel_name="specific.gone!1").seen_at.replace(year=2000)
            )
        socket, answer = joined(world, world.alice, world.a_room)
        assert answer["peers"] == []
        socket.disconnect()


# --- the session ending closes the socket ---------------------------------------------------------


def test_ses1_signing_out_closes_the_socket(world: World, unblocked: None):
    client = CommitClient()
    sign_in(client, world.alice)
    socket = Socket(world, str(client.session.session_key))
    assert socket.connect()
    socket.receive()
    client.post("/logout/")
    assert socket.receive() == {"closed": 4401}


def test_pwd1_a_password_change_closes_the_users_other_sockets(world: World, unblocked: None):
    """PWD-1 / SES-1: changing the password in one browser closes the sockets of every other session of the user."""
    elsewhere = opened(world, world.bob)
    client = CommitClient()
    sign_in(client, world.bob)
    new_password = "another horse battery staple 43"
    response = client.post("/account/password/", {"password": PASSWORD, "new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302, response.content[:500]
    try:
        assert elsewhere.receive() == {"closed": 4401}
    finally:
        world.bob.set_password(PASSWORD)
        world.bob.save(update_fields=["password"])


def test_usr2_deleting_an_account_closes_its_sockets(world: World, unblocked: None, django_db_blocker: Any):
    """USR-2 / SES-1: a deleted account's sockets close at once, and its presence goes with it."""
    label = uuid.uuid4().hex[:6]
    doomed = make_user(world.alice.company, f"doomed-{label}@example.com")
    socket, _ = joined(world, doomed, world.a_lobby)
    client = CommitClient()
    sign_in(client, doomed)
    response = client.post("/account/delete/", {"password": PASSWORD})
    assert response.status_code in (200, 302), response.content[:300]
    assert socket.receive() == {"closed": 4401}
    with tenant_context(world.alice.company_id):
        assert not Participant.objects.filter(user_id=doomed.pk).exists()


def test_cj2_a_timed_out_session_is_refused_and_closed_at_the_next_heartbeat(
    world: World, unblocked: None, monkeypatch: pytest.MonkeyPatch
):
    """CJ-2: past the absolute timeout the handshake is refused; an open socket is closed at its next heartbeat."""
    monkeypatch.setattr(consumers, "HEARTBEAT_SECONDS", 0.2)
    socket = opened(world, world.carol)
    with override_settings(KAKOI_SESSION_ABSOLUTE_SECONDS=-1):
        assert socket.receive() == {"closed": 4401}
        assert not Socket(world, session_for(world.carol)).connect()


# --- the channel layer on PostgreSQL ------------------------------------------------------------


def test_enc1_the_channel_layer_carries_small_and_large_messages_and_groups_over_postgresql(world: World, unblocked: None):
    """ENC-1 (no new datastore): messages under and over NOTIFY's 8000 bytes arrive intact through PostgreSQL, groups
    reach their members only, and expired rows are purged."""
    from calls.layer import PostgresChannelLayer
    from calls.models import LayerGroup, LayerMessage

    layer, other = PostgresChannelLayer(expiry=60), PostgresChannelLayer(expiry=60)  # two "processes"

    async def scenario() -> list[Any]:
        mine, theirs = await layer.new_channel(), await other.new_channel()
        received: list[Any] = []
        # As a consumer does: receive (and so LISTEN) before anything is sent to the channel.
        waiting = asyncio.ensure_future(other.receive(theirs))
        waiting_mine = asyncio.ensure_future(layer.receive(mine))
        await asyncio.sleep(0.3)
        big = {"type": "peer.signal", "sdp": "a" * 20_000}
        await layer.send(theirs, {"type": "small", "n": 1})
        received.append(await asyncio.wait_for(waiting, 10))
        await layer.send(theirs, big)
        received.append(await asyncio.wait_for(other.receive(theirs), 10))
        await layer.group_add("room.test", theirs)
        await layer.group_add("room.test", mine)
        await other.group_send("room.test", {"type": "room.event", "n": 2})
        received.append(await asyncio.wait_for(other.receive(theirs), 10))
        received.append(await asyncio.wait_for(waiting_mine, 10))
        await layer.group_discard("room.test", mine)
        await layer.group_discard("room.test", theirs)
        return received

    small, large, to_them, to_me = world.loop.run(scenario())
    assert small == {"type": "small", "n": 1}
    assert large["sdp"] == "a" * 20_000
    assert to_them == to_me == {"type": "room.event", "n": 2}
    assert not LayerMessage.objects.exists() and not LayerGroup.objects.filter(group_name="room.test").exists()
    LayerGroup.objects.create(group_name="room.gone", channel="specific.dead!1", expires=time.time() - 1)
    LayerMessage.objects.create(channel="specific.dead!1", body="{}", expires=time.time() - 1)
    world.loop.run(layer.purge_expired())
    assert not LayerGroup.objects.filter(group_name="room.gone").exists() and not LayerMessage.objects.exists()
