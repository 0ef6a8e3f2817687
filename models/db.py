"""Engines, sessions and the per-request read connection.

Reads go through one connection per request (`ReadScope`) with SQLAlchemy Core statements;
writes go through a short ORM session (`Database.write`) that commits or rolls back as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_

from core.admission import Admission, Turn
from core.db_faults import CommitUncertain, database_unavailable
from core.ids import base64url
from core.outage_watch import RequestOutage
from core.settings import Settings
from models.access_log import AccessLogBuffer
from models.calendar import sqlite_local_date
from models.written import WriteSession

# An unreachable server must fail a request quickly, not hold it for asyncpg's default minute.
CONNECT_TIMEOUT_SECONDS = 5
# Waiting for a free pooled connection longer than this means the database is not keeping up
# (requests wait for their turn first, at most ADMISSION_WAIT_MS: core/admission.py).
POOL_TIMEOUT_SECONDS = 10
# The client-side bound on one statement, beyond the server's statement_timeout, for a link
# that died without closing (the server cannot cancel what it never hears of).
COMMAND_TIMEOUT_MARGIN_SECONDS = 5
# Pooled beyond the requests' share, for the in-server worker and scheduled jobs.
BACKGROUND_CONNECTIONS = 2
# A pooled connection left unused this long is pinged before use (_check_on_checkout).
PING_AFTER_IDLE_SECONDS = 10
# The execution option of a request's read connection on SQLite (ReadScope, on_begin).
SQLITE_READ_SCOPE = "portico_read_scope"


@dataclass
class Pinned:
    """One transaction a whole request runs in (an idempotent mutation): every write of
    the request is a savepoint in it, and its reads see them. `open` turns false when the
    request ends, so a task that outlives it goes back to transactions of its own."""

    connection: AsyncConnection
    open: bool = True


pinned: ContextVar[Pinned | None] = ContextVar("portico_pinned_transaction", default=None)


def pinned_here() -> Pinned | None:
    pin = pinned.get()
    return pin if pin is not None and pin.open else None


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    # Ending a transaction that SQLite never began (a read scope's, whose statements ran in
    # the driver's autocommit; a write's, already committed) is a no-op for sqlite3, but
    # still a hand-off to aiosqlite's thread and back: skipped. `in_transaction` is
    # SQLite's own flag, read without a hand-off.
    dialect = sync_engine.dialect
    plain_rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        raw = getattr(driver, "_conn", None)  # aiosqlite's sqlite3.Connection
        if raw is not None and not raw.in_transaction:
            return
        plain_rollback(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @event.listens_for(sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (below) instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer and the writer never blocks readers.
        cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Wait for a competing writer instead of failing with "database is locked".
        cursor.execute("PRAGMA busy_timeout=5000")
        # NORMAL is durable under WAL except for the last commits on power loss.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # "Today in a time zone" (models/calendar.py), which SQLite cannot compute itself.
        dbapi_connection.create_function(
            "portico_local_date", 2, sqlite_local_date, deterministic=True
        )
        # Global IDs and cursors in planned answers (planner/sqlite_sql.py).
        dbapi_connection.create_function("portico_base64url", 1, base64url, deterministic=True)

    @event.listens_for(sync_engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        if options.get(SQLITE_READ_SCOPE):
            # The request's read scope: every statement stands alone, as the driver runs
            # them (isolation_level None, set on connect). Not SQLAlchemy's AUTOCOMMIT:
            # switching to it and back (when the connection returns to the pool) costs
            # four hand-offs to aiosqlite's thread per request, a PRAGMA among them.
            dbapi_connection = conn.connection.dbapi_connection
            if dbapi_connection is not None and dbapi_connection.isolation_level is not None:
                dbapi_connection.isolation_level = None
            return
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        # Writes take the write lock up front (BEGIN IMMEDIATE) so that two writers never
        # both read first and then fail to upgrade their lock mid-transaction.
        if conn.get_execution_options().get("portico_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _check_on_checkout(engine: AsyncEngine) -> None:
    """A pooled connection is proved alive before use, without a round trip when possible.

    A server that restarted or closed the connection has sent its end of the socket, which
    the driver has seen by the time the connection is checked out again: a closed one is
    replaced at once. Only a connection idle for a while (a link that may have died quietly,
    behind a firewall, say) is pinged, with one round trip. SQLAlchemy's own pre-ping on
    every checkout is a transaction around the ping (three round trips, for pgbouncer):
    with the statement that follows it cost half of a planned read's CPU.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver.is_closed():
            raise DisconnectionError("pooled connection was closed")  # the pool replaces it
        idle_since = record.info.get("idle_since", time.monotonic())
        if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            await_(driver.fetchrow(";", timeout=CONNECT_TIMEOUT_SECONDS))
        except Exception as exc:
            raise DisconnectionError("pooled connection is gone") from exc


def _command_timeout(settings: Settings) -> float | None:
    if settings.statement_timeout_ms <= 0:  # no server-side bound asked for
        return None
    return settings.statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_SECONDS


def make_engine(settings: Settings) -> AsyncEngine:
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 5})
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        # Requests are admitted to DATABASE_POOL_SIZE (Database.admission), so under steady
        # load the same connections serve them: a connection opened for a burst and closed
        # after it costs a backend start (and its statements planned anew), which was more
        # database CPU than the requests' own statements. A few more stay pooled for the
        # worker and the jobs; the overflow is for the rare path that writes while holding
        # a read.
        pool_size=settings.database_pool_size + BACKGROUND_CONNECTIONS,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "command_timeout": _command_timeout(settings),
            # Planned answers' texts (models/db.py ReadScope.text_row) go to asyncpg itself,
            # whose statement cache skips texts over 15 KiB by default: a dashboard's would
            # be parsed and planned by PostgreSQL on every request (5x its database CPU).
            # The texts are the plan cache's own strings, so caching them costs no copy.
            "max_cacheable_statement_size": PLANNED_TEXT_BYTES,
            "server_settings": {
                "statement_timeout": str(settings.statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
                "timezone": "UTC",
            },
        },
    )
    _check_on_checkout(engine)
    return engine


# The largest planned text asyncpg keeps prepared (a staff customer page's is about 130 KiB).
PLANNED_TEXT_BYTES = 512 * 1024


class Database:
    """The process's engines and session factory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.dialect = self.engine.dialect.name
        self._write_engine = self.engine.execution_options(portico_write=True)
        self._sessions = async_sessionmaker(
            self._write_engine,
            expire_on_commit=False,
            autoflush=False,
            sync_session_class=WriteSession,
        )
        # Requests take pooled connections in the order they asked: the pool's own queue
        # lets a newcomer take a connection a waiter was woken for, which under load kept
        # some requests waiting for a second and more. A request holds one at a time, and
        # one tenant's writes hold at most its share (TENANT_SLOT_SHARE): writes stuck on
        # that tenant's locked row cannot take every connection.
        self.admission: Admission | None = None
        if self.dialect != "sqlite":
            self.admission = Admission(
                settings.database_pool_size,
                tenant_share=settings.tenant_slot_share,
                wait_seconds=settings.admission_wait_ms / 1000,
                queue=False,
            )
        # Request paths log an outage once when it starts and once when it ends; a
        # connection the server accepts is the sign that it has ended.
        self.outage = RequestOutage(logging.getLogger("portico.outage"))
        # Portal views and downloads, written in batches off the request path.
        self.access_log = AccessLogBuffer(self)
        event.listen(self.engine.sync_engine, "connect", lambda *_: self.outage.reachable())

    @asynccontextmanager
    async def admitted(self, tenant: uuid.UUID | None = None) -> AsyncIterator[None]:
        """Wait for the request's turn at the pool (first come, first served, within the
        tenant's share); `Overloaded` when none comes in time."""
        if self.admission is None:
            yield
            return
        turn = await self.admission.acquire(tenant)
        try:
            yield
        finally:
            self.admission.release(turn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back if it raises.

        A database lost before COMMIT raises as it is (nothing was written); one lost
        during COMMIT raises `CommitUncertain`, since the COMMIT may have landed. Inside a
        pinned transaction (`Pinned`) the block is a savepoint of it instead.
        """
        pin = pinned_here()
        if pin is not None:
            async with (
                AsyncSession(
                    bind=pin.connection,
                    expire_on_commit=False,
                    autoflush=False,
                    join_transaction_mode="create_savepoint",
                    sync_session_class=WriteSession,
                ) as session,
                session.begin(),
            ):
                yield session
            return
        async with self._sessions() as session:
            await session.begin()
            try:
                yield session
                await session.flush()  # the work's own statements: a failure here is "not done"
            except BaseException:
                # A rollback on a connection the outage broke fails too: the first error
                # is the one to report (closing the session discards the connection).
                with contextlib.suppress(Exception):
                    await session.rollback()
                raise
            try:
                await session.commit()
            except Exception as exc:
                if database_unavailable(exc):
                    raise CommitUncertain("the database was lost during COMMIT") from exc
                raise

    async def write_connection(self) -> AsyncConnection:
        """A connection for a pinned transaction (on SQLite it begins IMMEDIATE)."""
        return await self._write_engine.connect()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    def reader(self) -> ReadScope:
        return ReadScope(self.engine, self.admission)

    async def dispose(self) -> None:
        await self.engine.dispose()


class ReadScope:
    """One lazily opened read connection for a whole request, in autocommit.

    DataLoaders dispatch their batches concurrently; a lock lets them share one connection
    (one pool checkout per request instead of one per batch). No transaction is opened:
    under READ COMMITTED every statement sees its own snapshot anyway, and skipping
    BEGIN/ROLLBACK saves two round trips per request. The session check's occasional
    `last_used_at` update commits on its own.
    """

    def __init__(self, engine: AsyncEngine, admission: Admission | None = None) -> None:
        self._engine = engine
        self._admission = admission
        self._turn: Turn | None = None
        self._conn: AsyncConnection | None = None
        self._pinned = False
        self._ended = False
        self._lock = asyncio.Lock()
        self.statements = 0

    async def pin(self, conn: AsyncConnection) -> None:
        """Read through `conn` (a pinned transaction's) until `unpin`: the reads then see
        the request's uncommitted writes."""
        await self.close()
        async with self._lock:
            self._conn, self._pinned = conn, True

    async def unpin(self) -> None:
        async with self._lock:
            if self._pinned:
                self._conn, self._pinned = None, False

    async def _connection(self) -> AsyncConnection:
        """Called with the lock held: the request's connection, opened on first use."""
        if self._conn is None:
            if self._admission is not None:
                self._turn = await self._admission.acquire()
            try:
                conn = await self._engine.connect()
                if self._engine.dialect.name == "sqlite":
                    self._conn = await conn.execution_options(**{SQLITE_READ_SCOPE: True})
                else:
                    self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                self._release()
                raise
        self.statements += 1
        return self._conn

    async def rows(
        self, statement: sa.Executable, params: dict[str, Any] | None = None
    ) -> Sequence[RowMapping]:
        async with self._lock:
            if self._ended:
                return []  # a loader's batch scheduled before its request ended: unread
            result = await (await self._connection()).execute(statement, params or {})
            return result.mappings().all() if result.returns_rows else []

    async def text_value(self, sql: str, args: tuple[Any, ...]) -> Any:
        """The first value of SQL text already compiled for this dialect."""
        row = await self.text_row(sql, args)
        return None if row is None else next(iter(row.values()), None)

    async def text_row(self, sql: str, args: tuple[Any, ...]) -> Mapping[str, Any] | None:
        """The first row (None when there is none) of SQL text already compiled for this
        dialect; values come as the driver decodes them.

        Sent to the driver itself: SQLAlchemy's layer around a statement (its cursor
        adapter, and on SQLite four hand-offs to aiosqlite's thread where one will do)
        cost more than a planned statement's whole answer in Python. A failure leaves the
        connection to the pool to be thrown away."""
        async with self._lock:
            if self._ended:
                return None
            conn = await self._connection()
            if self._pinned:  # a transaction's connection: its own bookkeeping
                found = (await conn.exec_driver_sql(sql, args)).mappings().first()
                return None if found is None else dict(found)
            listeners = self._engine.sync_engine.dispatch.before_cursor_execute
            if listeners:  # what counts or logs statements sees this one too
                listeners(conn.sync_connection, None, sql, args, None, False)
            try:
                driver: Any = (await conn.get_raw_connection()).driver_connection
                if self._engine.dialect.name == "sqlite":
                    return await _sqlite_row(driver, sql, args)
                record = await driver.fetchrow(sql, *args)
            except BaseException:
                await conn.invalidate()
                raise
            return None if record is None else dict(record.items())

    async def end(self) -> None:
        """The request is answered: close, for good. A field that failed can leave other
        fields' loader batches scheduled (graphql-core answers without waiting for them);
        run after this, they read nothing rather than open a connection nobody closes."""
        self._ended = True
        await self.close()

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None and not self._pinned:
                conn, self._conn = self._conn, None
                try:
                    await conn.close()
                finally:
                    self._release()

    def _release(self) -> None:
        if self._admission is not None and self._turn is not None:
            turn, self._turn = self._turn, None
            self._admission.release(turn)


async def _sqlite_row(driver: Any, sql: str, args: tuple[Any, ...]) -> dict[str, Any] | None:
    """The first row, read in one hand-off to aiosqlite's thread (its `_execute` runs a
    function there; the public calls take one hand-off each for execute, fetch and close)."""
    connection = driver._conn  # the sqlite3 connection, used in aiosqlite's thread only

    def first_row() -> dict[str, Any] | None:
        cursor = connection.execute(sql, args)
        try:
            row = cursor.fetchone()
            names = [column[0] for column in cursor.description or ()]
        finally:
            cursor.close()
        return None if row is None else dict(zip(names, row, strict=True))

    result: dict[str, Any] | None = await driver._execute(first_row)
    return result
