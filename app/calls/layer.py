"""A Channels layer on the app's own PostgreSQL (LISTEN/NOTIFY): no new datastore (ENC-1).

The PostgreSQL the app already uses is TLS-1.3-only, encrypted, private and backed up, so the
signalling messages that cross processes stay inside ENC-1 without adding ElastiCache (which
cannot be made to refuse TLS 1.2). How it works:

* Each layer instance (one per process and event loop) has a client id; its channels are
  ``<prefix>.<client>!<random>`` and it LISTENs on ``kakoi_layer_<client>``.
* ``send`` stores the message (JSON) in ``calls_layermessage`` and NOTIFYs the owning client
  with its id, in one statement (one transaction: the row and the NOTIFY commit together); the
  receiver takes it with DELETE ... RETURNING, so each message is delivered at most once.
* Nothing is lost while a receiver's LISTEN connection is down (a database restart or failover:
  NOTIFYs sent while nobody listens are dropped by PostgreSQL): every time the listener has
  (re)connected and LISTENs again, it first takes every stored message of its own channels that
  has not expired (oldest first). A sender whose database is down gets the error at once and may
  retry (calls.consumers does, for signalling messages); docs/runbooks/faults.md.
* Groups live in ``calls_layergroup`` (group, channel, expiry); ``group_send`` looks the
  members up and NOTIFYs each.

Only process-specific channels exist (what consumers use); every statement is static SQL with
bound parameters (SQL-1/SQL-2). Connections use the app's database settings (as the web role,
with the same sslmode/sslrootcert: verify-full in production).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from channels.layers import BaseChannelLayer
from django.conf import settings
from psycopg import sql

CONTROLS: dict[str, str] = {
    "ENC-1": "the channel layer runs on the app's PostgreSQL (TLS 1.3 only, verify-full in production): no new datastore",
    "SQL-1": "the channel layer's statements are static SQL with bound parameters (psycopg)",
}

logger = logging.getLogger(__name__)

NOTIFY_LIMIT = 7900  # PostgreSQL's NOTIFY payload limit is 8000 bytes (group_send_in_transaction's inline payloads)
LISTEN_PREFIX = "kakoi_layer_"
PURGE_INTERVAL_SECONDS = 300


def connection_kwargs() -> dict[str, Any]:
    """psycopg connection parameters from the app's default database (read when first used)."""
    db = settings.DATABASES["default"]
    options = db.get("OPTIONS", {})
    kwargs: dict[str, Any] = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": int(db.get("PORT") or 5432),
        "dbname": db["NAME"],
        "user": db["USER"],
        "application_name": "kakoi-layer",
        "sslmode": options.get("sslmode", "prefer"),
        "options": options.get("options", "-c search_path=kakoi"),
        "autocommit": True,
    }
    # The same fail-fast connection settings as Django's (connect timeout, TCP keepalives): a failover
    # is noticed within seconds and the listener reconnects (docs/database-failover.md).
    for key in ("connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout"):
        if key in options:
            kwargs[key] = options[key]
    if db.get("PASSWORD"):
        kwargs["password"] = db["PASSWORD"]
    if options.get("sslrootcert"):
        kwargs["sslrootcert"] = options["sslrootcert"]
    return kwargs


@dataclass
class _LoopState:
    """The connections and queues of one event loop."""

    queues: dict[str, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)
    listener: asyncio.Task[None] | None = None
    listening: asyncio.Event = field(default_factory=asyncio.Event)
    conn: psycopg.AsyncConnection[Any] | None = None
    conn_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class PostgresChannelLayer(BaseChannelLayer):
    extensions = ["groups", "flush"]

    def __init__(self, expiry: int = 60, group_expiry: int = 86400, capacity: int = 200, **kwargs: Any) -> None:
        super().__init__(expiry=expiry, capacity=capacity, **kwargs)
        self.group_expiry = group_expiry
        self.client = secrets.token_hex(6)
        self._purged_at = 0.0
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()

    # --- connections ------------------------------------------------------------------------
    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        return state

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """This loop's command connection (autocommit), one statement at a time; reconnects after a failure."""
        state = self._state()
        async with state.conn_lock:
            if state.conn is None or state.conn.closed:
                state.conn = await psycopg.AsyncConnection.connect(**connection_kwargs())
            try:
                yield state.conn
            except psycopg.OperationalError:
                await state.conn.close()
                state.conn = None
                raise

    async def _ensure_listener(self) -> _LoopState:
        state = self._state()
        if state.listener is None or state.listener.done():
            state.listening.clear()
            state.listener = asyncio.get_running_loop().create_task(self._listen(state))
        await state.listening.wait()
        return state

    async def _listen(self, state: _LoopState) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(**connection_kwargs()) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(LISTEN_PREFIX + self.client)))
                    # what was stored while nobody listened (its NOTIFY is lost): before the live NOTIFYs
                    await self._drain(state)
                    state.listening.set()
                    async for notify in conn.notifies():
                        await self._deliver(state, notify.payload)
                        await asyncio.sleep(0)  # let the consumers drain their queues between deliveries
            except asyncio.CancelledError:
                raise
            except psycopg.Error:
                logger.warning("channel layer listener lost its connection; reconnecting", exc_info=True)
                state.listening.clear()
                await asyncio.sleep(1)

    async def _drain(self, state: _LoopState) -> None:
        """Deliver every unexpired stored message of this client's channels, oldest first."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM calls_layermessage WHERE id IN (SELECT id FROM calls_layermessage "
                "WHERE channel LIKE %s AND expires >= %s FOR UPDATE SKIP LOCKED) RETURNING id, channel, body",
                [f"%.{self.client}!%", time.time()],
            )
            rows = await cursor.fetchall()
        for _id, channel, body in sorted(rows):
            self._enqueue(state, channel, body)

    def _enqueue(self, state: _LoopState, channel: str, body: str) -> None:
        queue = state.queues.get(channel)
        if queue is None:
            return  # nobody receives on that channel any more
        if queue.full():
            logger.warning("channel %s is full; message dropped", channel)
            return
        queue.put_nowait(json.loads(body))

    async def _deliver(self, state: _LoopState, payload: str) -> None:
        if payload.startswith("@"):
            async with self._connection() as conn:
                cursor = await conn.execute(
                    "DELETE FROM calls_layermessage WHERE id = %s RETURNING channel, body, expires", [int(payload[1:])]
                )
                row = await cursor.fetchone()
            if row is None:
                return
            channel, body, expires = row
            if expires < time.time():
                return
        else:
            channel, _, body = payload.partition("\n")
        self._enqueue(state, channel, body)

    # --- channel layer API ------------------------------------------------------------------
    async def new_channel(self, prefix: str = "specific") -> str:
        return f"{prefix}.{self.client}!{secrets.token_hex(12)}"

    @staticmethod
    def _client_of(channel: str) -> str:
        if "!" not in channel:
            raise ValueError(f"only process-specific channels are supported, got {channel!r}")
        return channel.split("!", 1)[0].rsplit(".", 1)[-1]

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self.require_valid_channel_name(channel)
        body = json.dumps(message, separators=(",", ":"))
        client = self._client_of(channel)
        # stored and announced in one statement: a receiver that is not listening right now (its
        # connection is being re-established) takes it when it LISTENs again (_drain)
        async with self._connection() as conn:
            await conn.execute(
                "WITH stored AS (INSERT INTO calls_layermessage (channel, body, expires) VALUES (%s, %s, %s) RETURNING id) "
                "SELECT pg_notify(%s, '@' || stored.id) FROM stored",
                [channel, body, time.time() + self.expiry, LISTEN_PREFIX + client],
            )

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        state = self._state()
        queue = state.queues.get(channel)
        if queue is None:
            queue = state.queues[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        await self._ensure_listener()
        try:
            return await queue.get()
        except asyncio.CancelledError:
            # The consumer is gone: forget its queue (no more deliveries to it).
            if queue.empty():
                state.queues.pop(channel, None)
            raise

    async def flush(self) -> None:
        async with self._connection() as conn:
            await conn.execute("DELETE FROM calls_layermessage")
            await conn.execute("DELETE FROM calls_layergroup")

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        if time.monotonic() - self._purged_at > PURGE_INTERVAL_SECONDS:
            # Rows left by processes that died (their sockets never discarded them) and undelivered large messages.
            self._purged_at = time.monotonic()
            await self.purge_expired()
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO calls_layergroup (group_name, channel, expires) VALUES (%s, %s, %s) "
                "ON CONFLICT (group_name, channel) DO UPDATE SET expires = EXCLUDED.expires",
                [group, channel, time.time() + self.group_expiry],
            )

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        async with self._connection() as conn:
            await conn.execute("DELETE FROM calls_layergroup WHERE group_name = %s AND channel = %s", [group, channel])

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.require_valid_group_name(group)
        async with self._connection() as conn:
            cursor = await conn.execute("SELECT channel FROM calls_layergroup WHERE group_name = %s AND expires > %s", [group, time.time()])
            rows = await cursor.fetchall()
        for (channel,) in rows:
            await self.send(channel, message)

    async def purge_expired(self) -> None:
        now = time.time()
        async with self._connection() as conn:
            await conn.execute("DELETE FROM calls_layermessage WHERE expires < %s", [now])
            await conn.execute("DELETE FROM calls_layergroup WHERE expires < %s", [now])


def group_send_in_transaction(group: str, message: dict[str, Any]) -> None:
    """group_send from synchronous code through Django's own connection: PostgreSQL delivers a NOTIFY
    at COMMIT of the current transaction (and drops it on rollback), which is exactly on_commit."""
    from django.db import connection

    body = json.dumps(message, separators=(",", ":"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT channel FROM calls_layergroup WHERE group_name = %s AND expires > %s", [group, time.time()])
        channels = [row[0] for row in cursor.fetchall()]
        for channel in channels:
            payload = f"{channel}\n{body}"
            client = PostgresChannelLayer._client_of(channel)
            cursor.execute("SELECT pg_notify(%s, %s)", [LISTEN_PREFIX + client, payload])
