"""Faults survived (AVL-1, REC-1, MNT-1): the database goes away - stopped, crashed, failed over, a
connection cut mid-transaction - under the running app, and comes back.

Everything runs against a private PostgreSQL started by this module (fault_servers.PrivatePostgres;
the machine's shared PostgreSQL is never stopped) and the app as the container runs it (gunicorn +
uvicorn worker, production settings). Expected behaviour, asserted:

* while the database is unavailable, every ordinary page answers 503 with Retry-After and the
  friendly "Back in a moment" page (templates/503.html), never 500, and within the connect timeout
  (no worker hangs); /healthz/ready answers 503 (the load balancer is told the truth) and
  /healthz/live 200 (the task is not replaced for it);
* once the database is back, the same process answers 200 again by itself (no restart): the time
  from the database accepting connections to the first 200 is measured and bounded;
* a request whose connection is killed mid-transaction (pg_terminate_backend, as a failover does),
  or whose lock wait exceeds lock_timeout, answers 503 and leaves no half-written rows;
* the channel layer (LISTEN/NOTIFY on the same PostgreSQL) recovers by itself, a message sent while a
  receiver is not listening is delivered when it listens again, and a signalling message a call page sends
  while the database is down reaches the other page once it is back, without either socket closing.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from calls import layer as layer_module
from fault_servers import HOST, HOST_HEADER, AppServer, PrivatePostgres, Response, app_env, django_run, seed

#: bound on "database back -> first 200" (CONN_HEALTH_CHECKS + reconnect on the next request)
RECOVERY_BOUND_SECONDS = 5.0
#: bound on one request while the database is down (connect_timeout is 3 s; refused connections fail at once)
FAIL_FAST_SECONDS = 4.0
PAGES = ["/", "/calls/", "/media/", "/members/", "/account/security/"]


@dataclass
class FaultStack:
    db: PrivatePostgres
    app: AppServer
    session: str
    room: str
    log: Path
    web_password: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    db = PrivatePostgres()
    app: AppServer | None = None
    try:
        db.start()
        roles = db.provision()
        django_run(app_env(db, user="kakoi_owner", password=roles.owner_password), "manage.py", "migrate", "--noinput", "-v", "0")
        env = app_env(db, user="kakoi_web", password=roles.web_password)
        seeded = seed(env)
        log = tmp_path_factory.mktemp("faults") / "gunicorn.log"
        app = AppServer(env)
        app.start(log)
        yield FaultStack(db, app, seeded["session"], seeded["room"], log, roles.web_password)
    finally:
        if app is not None:
            app.stop()
        db.cleanup()


def assert_unavailable_page(response: Response, path: str) -> None:
    assert response.status == 503, (path, response.status, response.body[:500])
    assert response.headers.get("retry-after", "").isdigit(), (path, response.headers)
    # the friendly page, in the page's language (the seeded company's default is Japanese)
    assert "まもなく復旧します" in response.body or "Back in a moment" in response.body, response.body[:500]
    assert "no-store" in response.headers.get("cache-control", "")


def wait_for_200(app: AppServer, path: str, session: str, bound: float) -> float:
    """Seconds until `path` answers 200 (polling every 50 ms), failing after `bound` * 3."""
    started = time.monotonic()
    statuses: list[int] = []
    while time.monotonic() - started < bound * 3:
        status = app.get(path, session=session).status
        if status == 200:
            return time.monotonic() - started
        statuses.append(status)
        assert status == 503, f"{path} answered {status} during recovery"
        time.sleep(0.05)
    raise AssertionError(f"{path} did not recover within {bound * 3} s: {statuses[-10:]}")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_avl1_database_down_pages_answer_503_health_tells_the_truth_and_the_app_recovers_without_restart(
    stack: FaultStack, mode: str
) -> None:
    """AVL-1 / REC-1: PostgreSQL stopped (fast: a reboot or failover of the primary; immediate: a crash) under
    the running app: 503 + Retry-After + friendly page on every ordinary page, never 500, quickly; readiness
    503, liveness 200; once it is back, the same process answers 200 within RECOVERY_BOUND_SECONDS."""
    app, db = stack.app, stack.db
    assert app.process is not None
    pid = app.process.pid
    for path in PAGES:
        assert app.get(path, session=stack.session).status == 200, path
    assert app.get("/healthz/ready").status == 200
    db.stop(mode)
    try:
        for path in [*PAGES, f"/calls/{stack.room}/"]:
            started = time.monotonic()
            response = app.get(path, session=stack.session)
            assert time.monotonic() - started < FAIL_FAST_SECONDS, path
            assert_unavailable_page(response, path)
        anonymous = app.get("/login/")  # no session: the tenant transaction is the first to need the database
        assert_unavailable_page(anonymous, "/login/ (anonymous)")
        assert app.get("/healthz/ready").status == 503
        assert app.get("/healthz/live").status == 200
    finally:
        db.start()
    recovery = wait_for_200(app, "/", stack.session, RECOVERY_BOUND_SECONDS)
    assert recovery < RECOVERY_BOUND_SECONDS, recovery
    assert app.get("/healthz/ready").status == 200
    for path in PAGES:
        assert app.get(path, session=stack.session).status == 200, path
    assert app.process.poll() is None and app.process.pid == pid, "the app was not restarted"
    assert " 500 " not in stack.log.read_text(errors="replace")
    print(f"\nAVL-1 database stop ({mode}): database accepting connections -> first 200 in {recovery:.2f} s")


def test_avl1_a_connection_dropped_between_requests_is_replaced_by_the_health_check(stack: FaultStack) -> None:
    """AVL-1: a failover ends every server connection (pg_terminate_backend here); the persistent connection
    (CONN_MAX_AGE) is found dead by CONN_HEALTH_CHECKS before the next request uses it: that request is 200."""
    app = stack.app
    assert app.get("/", session=stack.session).status == 200
    assert stack.db.terminate("kakoi") >= 1
    assert app.get("/", session=stack.session).status == 200


def _csrf(app: AppServer, session: str) -> tuple[str, str]:
    page = app.get("/calls/", session=session)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    cookie = re.search(r"__Host-csrftoken=([^;]+)", page.headers.get("set-cookie", ""))
    assert token and cookie, page.headers
    return token.group(1), f"__Host-csrftoken={cookie.group(1)}"


def _counts(db: PrivatePostgres, room: str) -> tuple[int, int]:
    with db.admin() as conn:
        rooms = conn.execute("SELECT count(*) FROM kakoi.calls_room WHERE id = %s", [room]).fetchone()
        participants = conn.execute("SELECT count(*) FROM kakoi.calls_participant WHERE room_id = %s", [room]).fetchone()
    assert rooms and participants
    return int(rooms[0]), int(participants[0])


def _delete_room_while_locked(stack: FaultStack, *, kill: bool) -> tuple[Response, float]:
    """Delete the room (Django deletes its participants first, then the room) while another transaction holds
    the room's row lock: the request writes, then waits; it is killed (or times out on lock_timeout) there."""
    app, db = stack.app, stack.db
    token, cookie = _csrf(app, stack.session)
    results: list[Response] = []
    with db.admin() as locker:
        locker.autocommit = False
        locker.execute("SELECT id FROM kakoi.calls_room WHERE id = %s FOR UPDATE", [stack.room])
        started = time.monotonic()
        request = threading.Thread(
            target=lambda: results.append(
                app.request(
                    "POST", f"/calls/{stack.room}/delete/", session=stack.session, cookies=cookie, body=f"csrfmiddlewaretoken={token}"
                )
            )
        )
        request.start()
        # Wait until the request has deleted the participants and is blocked on the room's row.
        with db.admin() as watcher:
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kakoi' AND wait_event_type = 'Lock'"
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the request never waited on the lock")
            if kill:
                assert db.terminate("kakoi") >= 1
        request.join(timeout=20)
        elapsed = time.monotonic() - started
        locker.rollback()
    assert results, "the request did not finish"
    return results[0], elapsed


def test_rec1_a_connection_killed_mid_transaction_leaves_no_half_written_rows(stack: FaultStack) -> None:
    """REC-1 / AVL-1: the request's backend is terminated after it deleted the participants and before it deleted
    the room: 503 + Retry-After, and the participants are all still there (nothing half-written)."""
    assert _counts(stack.db, stack.room) == (1, 2)
    response, _elapsed = _delete_room_while_locked(stack, kill=True)
    assert_unavailable_page(response, "POST delete (killed)")
    assert _counts(stack.db, stack.room) == (1, 2)


def test_avl1_a_lock_wait_fails_fast_with_503_and_rolls_back(stack: FaultStack) -> None:
    """AVL-1: a request stuck behind a lock gives up after lock_timeout (5 s) instead of holding a worker:
    503 + Retry-After, nothing written. Then, with no lock, the same request deletes room and participants."""
    assert _counts(stack.db, stack.room) == (1, 2)
    response, elapsed = _delete_room_while_locked(stack, kill=False)
    assert_unavailable_page(response, "POST delete (lock timeout)")
    assert 4.5 < elapsed < 9, elapsed
    assert _counts(stack.db, stack.room) == (1, 2)
    token, cookie = _csrf(stack.app, stack.session)
    done = stack.app.request(
        "POST", f"/calls/{stack.room}/delete/", session=stack.session, cookies=cookie, body=f"csrfmiddlewaretoken={token}"
    )
    assert done.status == 302, done.status
    assert _counts(stack.db, stack.room) == (0, 0)


def _layer_on_private_database(stack: FaultStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the channel layer of this (test) process at the private PostgreSQL, as the web role."""
    kwargs = {
        "host": HOST,
        "port": stack.db.port,
        "dbname": "kakoi",
        "user": "kakoi_web",
        "password": stack.web_password,
        "application_name": "kakoi-layer",
        "options": "-c search_path=kakoi",
        "autocommit": True,
        "connect_timeout": 3,
    }
    monkeypatch.setattr(layer_module, "connection_kwargs", lambda: dict(kwargs))


def test_avl1_a_message_sent_while_the_receiver_is_not_listening_is_delivered_when_it_listens(
    stack: FaultStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AVL-1: after a database restart each process's LISTEN connection takes up to a second to come back, and
    PostgreSQL drops a NOTIFY nobody listens to. A message sent in that gap is stored with its NOTIFY, so the
    receiver takes it when it LISTENs again (here: a receiver that has never listened yet), exactly once."""
    _layer_on_private_database(stack, monkeypatch)

    async def scenario() -> list[dict[str, Any]]:
        sender, receiver = layer_module.PostgresChannelLayer(), layer_module.PostgresChannelLayer()
        channel = await receiver.new_channel()
        await sender.send(channel, {"type": "peer.signal", "n": 1})  # nobody LISTENs for `receiver` yet
        await sender.send(channel, {"type": "peer.signal", "n": 2})
        got = [await asyncio.wait_for(receiver.receive(channel), 5), await asyncio.wait_for(receiver.receive(channel), 5)]
        late = asyncio.ensure_future(receiver.receive(channel))
        await sender.send(channel, {"type": "peer.signal", "n": 3})  # live, by NOTIFY
        got.append(await asyncio.wait_for(late, 5))
        for layer in (sender, receiver):
            for state in layer._states.values():
                if state.listener is not None:
                    state.listener.cancel()
                if state.conn is not None:
                    await state.conn.close()
        return got

    got = asyncio.run(scenario())
    assert [m["n"] for m in got] == [1, 2, 3]
    with stack.db.admin() as conn:
        left = conn.execute("SELECT count(*) FROM kakoi.calls_layermessage").fetchone()
    assert left is not None and left[0] == 0, "a delivered message was left stored"


def test_avl1_the_channel_layer_survives_its_postgresql_restarting(stack: FaultStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """AVL-1: the channel layer's backend (PostgreSQL, LISTEN/NOTIFY) is stopped under a live layer: a send fails
    fast (the signalling consumer then keeps the message and retries it), the listener reconnects
    by itself once the database is back, group memberships survive, and messages flow again within the bound."""
    _layer_on_private_database(stack, monkeypatch)

    async def scenario() -> tuple[float, float]:
        layer = layer_module.PostgresChannelLayer()
        channel = await layer.new_channel()
        await layer.group_add("fault-room", channel)
        receiver = asyncio.ensure_future(layer.receive(channel))
        await layer._ensure_listener()  # LISTENing before the first NOTIFY (as when a consumer is receiving)
        await layer.group_send("fault-room", {"type": "room.event", "n": 1})
        assert (await asyncio.wait_for(receiver, 5))["n"] == 1
        receiver = asyncio.ensure_future(layer.receive(channel))
        await asyncio.to_thread(stack.db.stop, "fast")
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            await layer.group_send("fault-room", {"type": "room.event", "n": 2})
        failed_in = time.monotonic() - started
        await asyncio.to_thread(stack.db.start)
        back = time.monotonic()
        while True:
            try:
                await layer.group_send("fault-room", {"type": "room.event", "n": 3})
                message = await asyncio.wait_for(asyncio.shield(receiver), 0.5)
                break
            except (psycopg.OperationalError, TimeoutError):
                assert time.monotonic() - back < RECOVERY_BOUND_SECONDS, "the layer did not recover"
        assert message["n"] == 3
        recovery = time.monotonic() - back
        await layer.group_discard("fault-room", channel)
        for state in layer._states.values():
            if state.listener is not None:
                state.listener.cancel()
        return failed_in, recovery

    failed_in, recovery = asyncio.run(scenario())
    assert failed_in < FAIL_FAST_SECONDS
    assert recovery < RECOVERY_BOUND_SECONDS
    print(f"\nAVL-1 channel layer: send failed in {failed_in:.2f} s while down; database back -> message delivered in {recovery:.2f} s")


def test_avl1_a_signalling_message_sent_while_the_database_is_down_is_delivered_after_recovery(stack: FaultStack) -> None:
    """AVL-1: two call pages' sockets (the app as the container runs it) are in one room; PostgreSQL - the channel
    layer's backend - is stopped, one page sends an offer to the other, the database is started again: the offer is
    delivered to the other page, neither socket is closed, and no message is lost or reordered (a candidate sent
    right behind the offer arrives after it)."""
    from websockets.asyncio.client import ClientConnection, connect

    async def open_socket() -> ClientConnection:
        socket = await connect(
            f"ws://{HOST_HEADER}:{stack.app.port}/ws/calls/",
            host=HOST,
            port=stack.app.port,
            origin=f"https://{HOST_HEADER}:{stack.app.port}",  # type: ignore[arg-type]  # an Origin header value
            additional_headers={"Cookie": f"__Host-sessionid={stack.session}", "X-Forwarded-Proto": "https"},
            open_timeout=10,
        )
        return socket

    async def next_of(socket: ClientConnection, kind: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), max(0.01, deadline - time.monotonic())))
            if message["type"] == kind:
                return message

    # a room of its own (the seeded one may have been deleted by the tests above)
    token, cookie = _csrf(stack.app, stack.session)
    created = stack.app.request(
        "POST", "/calls/rooms/", session=stack.session, cookies=cookie, body=f"csrfmiddlewaretoken={token}&name=Signalling+fault"
    )
    assert created.status == 302, created.status
    room = created.headers["location"].rstrip("/").rsplit("/", 1)[-1]

    async def scenario() -> tuple[float, float]:
        a, b = await open_socket(), await open_socket()
        try:
            await next_of(a, "turn", 5)
            await next_of(b, "turn", 5)
            await a.send(json.dumps({"type": "join", "room": room}))
            await next_of(a, "joined", 5)
            await b.send(json.dumps({"type": "join", "room": room}))
            b_self = (await next_of(b, "joined", 5))["self"]["id"]
            assert (await next_of(a, "peer-joined", 5))["peer"]["id"] == b_self
            offer = {"type": "signal", "to": b_self, "data": {"kind": "offer", "sdp": "v=0 offer sent during the outage"}}
            candidate = {"type": "signal", "to": b_self, "data": {"kind": "candidate", "candidate": {"candidate": "", "sdpMid": "0"}}}
            await asyncio.to_thread(stack.db.stop, "fast")
            try:
                sent = time.monotonic()
                await a.send(json.dumps(offer))
                await a.send(json.dumps(candidate))
                # nothing can arrive while the database is down; the sockets stay open
                with pytest.raises(TimeoutError):
                    await next_of(b, "signal", 2.0)
                down_for = time.monotonic() - sent
            finally:
                await asyncio.to_thread(stack.db.start)
            back = time.monotonic()
            got = await next_of(b, "signal", RECOVERY_BOUND_SECONDS * 2)
            recovery = time.monotonic() - back
            assert got["data"] == offer["data"], got
            assert (await next_of(b, "signal", 5))["data"]["kind"] == "candidate"
            # both sockets are still the same open sockets: the call was not torn down
            await a.send(json.dumps({"type": "media", "audio": True, "video": False}))
            assert (await next_of(b, "peer-media", 5))["video"] is False
            return down_for, recovery
        finally:
            await a.close()
            await b.close()

    down_for, recovery = asyncio.run(scenario())
    assert recovery < RECOVERY_BOUND_SECONDS, recovery
    print(f"\nAVL-1 signalling: offer sent with the database down ({down_for:.1f} s); database back -> delivered in {recovery:.2f} s")
