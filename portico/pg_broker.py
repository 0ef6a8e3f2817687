"""Live events across server processes through PostgreSQL LISTEN/NOTIFY.

Each process keeps one dedicated connection, outside the pool, that LISTENs to the topics
its subscribers watch; `publish` sends `pg_notify` on a pooled connection in autocommit,
after the change's own transaction has committed (core/broker.py), so every process
listening on the topic, this one included, hears it once.

When the listening connection drops, events may have been missed: every open stream ends
with `BrokerInterrupted` (clients reconnect and re-read, as after any disconnection) and the
connection is made again with backoff. A ping every `PING_SECONDS` notices a link that died
without closing (a dropped network) within `PING_SECONDS + PING_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import sqlalchemy as sa

from core.broker import QUEUE_SIZE, _Subscriber, check_event
from core.errors import ServiceUnavailable
from models.db import Database

log = logging.getLogger("portico.broker")

CONNECT_TIMEOUT_SECONDS = 5.0
# How long a new subscription waits for the listening connection before it is refused.
SUBSCRIBE_WAIT_SECONDS = 5.0
PING_SECONDS = 10.0
PING_TIMEOUT_SECONDS = 5.0
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0

NOTIFY = sa.text("SELECT pg_notify(:topic, :payload)")


def listener_dsn(database_url: str) -> str:
    """The plain asyncpg address of a SQLAlchemy `postgresql+asyncpg://` URL."""
    url = sa.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresBroker:
    """The broker protocol of core/broker.py over LISTEN/NOTIFY."""

    def __init__(self, db: Database, queue_size: int = QUEUE_SIZE) -> None:
        self._db = db
        self._dsn = listener_dsn(db.settings.database_url)
        self._queue_size = queue_size
        self._subscribers: dict[str, set[_Subscriber]] = defaultdict(set)
        self._conn: asyncpg.Connection | None = None
        self._connected = asyncio.Event()
        # One operation at a time on the listening connection (asyncpg allows no overlap).
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, topic: str, payload: str) -> None:
        check_event(topic, payload)
        async with self._db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(NOTIFY, {"topic": topic, "payload": payload})

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        check_event(topic, "")
        return self._subscription(topic)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Start keeping the listening connection (also done by the first subscription)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep_listening(), name="broker-listener")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @asynccontextmanager
    async def _subscription(self, topic: str) -> AsyncIterator[AsyncIterator[str]]:
        subscriber = _Subscriber(self._queue_size)
        await self._listen(topic, subscriber)
        try:
            yield subscriber
        finally:
            await self._unlisten(topic, subscriber)

    async def _listen(self, topic: str, subscriber: _Subscriber) -> None:
        """Returns once the topic is LISTENed to, so nothing published after it is missed."""
        self.start()
        try:
            async with asyncio.timeout(SUBSCRIBE_WAIT_SECONDS):
                await self._connected.wait()
        except TimeoutError:
            raise ServiceUnavailable() from None
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise ServiceUnavailable()
            if topic not in self._subscribers:
                try:
                    await conn.add_listener(topic, self._deliver)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    raise ServiceUnavailable() from exc
            self._subscribers[topic].add(subscriber)

    async def _unlisten(self, topic: str, subscriber: _Subscriber) -> None:
        async with self._lock:
            listeners = self._subscribers.get(topic)
            if listeners is None or subscriber not in listeners:
                return  # dropped with a lost connection
            listeners.discard(subscriber)
            if listeners:
                return
            del self._subscribers[topic]
            if self._conn is not None:
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await self._conn.remove_listener(topic, self._deliver)

    def _deliver(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        for subscriber in list(self._subscribers.get(channel, ())):
            subscriber.offer(payload)

    async def _keep_listening(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("broker cannot reach PostgreSQL (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_FIRST_SECONDS
            try:
                await self._listen_on(conn)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("broker lost its PostgreSQL connection (%s)", exc)
            finally:
                await self._drop(conn)

    async def _listen_on(self, conn: asyncpg.Connection) -> None:
        """LISTEN to every watched topic, then watch the connection until it is lost."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        async with self._lock:
            for topic in self._subscribers:
                await conn.add_listener(topic, self._deliver)
            self._conn = conn
        self._connected.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PING_SECONDS):
                    await lost.wait()
            if not lost.is_set():
                async with self._lock:
                    await conn.fetchval("SELECT 1", timeout=PING_TIMEOUT_SECONDS)
        log.warning("broker lost its PostgreSQL connection")

    async def _drop(self, conn: asyncpg.Connection) -> None:
        """Forget the connection and end every stream: events may have been missed."""
        self._connected.clear()
        async with self._lock:
            self._conn = None
            subscribers = [s for listeners in self._subscribers.values() for s in listeners]
            self._subscribers.clear()
        for subscriber in subscribers:
            subscriber.interrupt()
        conn.terminate()
