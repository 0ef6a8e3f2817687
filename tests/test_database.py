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
