"""Database set-up: SQLite pragmas, UTC timestamps on both dialects."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.settings import settings_from_env
from models import Organization
from models.db import Database
from models.tables import organizations


async def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path):
    sqlite = Database(settings_from_env({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/p.db"}))
    try:
        async with sqlite.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 5000
    finally:
        await sqlite.dispose()


async def test_timestamps_come_back_aware_and_in_utc(db: Database):
    chicago_noon = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
    async with db.write() as session:
        org = Organization(name="Clock Test", slug=f"clock-{id(chicago_noon)}")
        org.created_at = chicago_noon
        session.add(org)
    async with db.connect() as conn:
        table = organizations
        stored = (
            await conn.execute(sa.select(table.c.created_at).where(table.c.id == org.id))
        ).scalar_one()
    assert stored == datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(db: Database):
    with pytest.raises(sa.exc.StatementError, match="naive"):
        async with db.write() as session:
            org = Organization(name="Naive", slug="naive-clock")
            org.created_at = datetime(2026, 1, 1, 12, 0)  # naive on purpose
            session.add(org)


async def test_database_clock_offsets_are_parameters_not_cached_sql(db: Database):
    from models.clock import db_now

    async def offset(seconds: int) -> datetime:
        async with db.connect() as conn:
            return (await conn.execute(sa.select(db_now(seconds)))).scalar_one()

    ahead, behind = await offset(600), await offset(-600)
    assert timedelta(seconds=1199) < ahead - behind < timedelta(seconds=1201)


async def test_sqlite_read_scope_runs_in_the_drivers_autocommit(tmp_path: Path):
    """A request's read connection on SQLite: each statement stands alone (a write in it, like
    the session check's `last_used_at`, is committed at once), without switching the
    connection's isolation level and back; a write transaction still rolls back."""
    sqlite = Database(settings_from_env({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/r.db"}))
    try:
        async with sqlite.connect() as conn:  # the one pooled connection so far
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await conn.commit()
        scope = sqlite.reader()
        assert await scope.text_value("SELECT count(*) FROM t", ()) == 0
        await scope.end()
        async with sqlite.engine.connect() as conn:  # the same connection, back in the pool
            raw = await conn.get_raw_connection()
            assert raw.dbapi_connection is not None
            # Still the driver's autocommit: not reset to "" after an AUTOCOMMIT switch.
            assert raw.dbapi_connection.isolation_level is None
        scope = sqlite.reader()
        await scope.rows(sa.text("INSERT INTO t VALUES (1)"))
        async with sqlite.connect() as other:  # before the scope ends: already committed
            assert (await other.exec_driver_sql("SELECT count(*) FROM t")).scalar() == 1
        await scope.end()
        with pytest.raises(RuntimeError):
            async with sqlite.write() as session:
                await session.execute(sa.text("INSERT INTO t VALUES (2)"))
                raise RuntimeError("rolled back")
        async with sqlite.connect() as conn:
            assert (await conn.exec_driver_sql("SELECT count(*) FROM t")).scalar() == 1
    finally:
        await sqlite.dispose()


async def test_a_planned_text_that_fails_leaves_no_connection_behind(db: Database):
    """Planned texts go to the driver itself: a statement that fails there raises, its
    connection is thrown away rather than pooled half-used, and the next read works."""
    checked_out = db.engine.pool.checkedout()  # type: ignore[attr-defined]
    thrown_away: list[object] = []
    pool = db.engine.sync_engine.pool

    def invalidated(dbapi_connection: object, *_: object) -> None:
        thrown_away.append(dbapi_connection)

    sa.event.listen(pool, "invalidate", invalidated)
    scope = db.reader()
    try:
        with pytest.raises(Exception, match="no_such_table"):
            await scope.text_row("SELECT x FROM no_such_table", ())
        await scope.end()
    finally:
        sa.event.remove(pool, "invalidate", invalidated)
    assert len(thrown_away) == 1
    assert db.engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]
    scope = db.reader()
    try:
        assert await scope.text_row("SELECT 1 AS one", ()) == {"one": 1}
        assert await scope.text_value("SELECT 2 AS two", ()) == 2
        assert await scope.text_row("SELECT 1 AS one WHERE 1 = 0", ()) is None
    finally:
        await scope.end()


async def test_a_large_planned_text_is_prepared_once_per_connection(db: Database, dialect: str):
    """A dashboard's planned text is over asyncpg's default 15 KiB for caching: uncached,
    PostgreSQL would parse and plan it on every request. Asked twice on one connection, it
    is prepared once and kept."""
    if dialect != "postgresql":
        pytest.skip("sqlite3 keeps its statements whatever their size")
    sql = f"SELECT '{'x' * 30_000}' AS padding, $1::int AS asked"
    assert len(sql) > 20 * 1024
    scope = db.reader()
    try:
        for value in (1, 2):
            row = await scope.text_row(sql, (value,))
            assert row is not None and row["asked"] == value
        kept = await scope.text_row(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", (sql,)
        )
        assert kept == {"n": 1}
    finally:
        await scope.end()
