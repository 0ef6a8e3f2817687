"""Fixed-window rate limits kept in the database, so every server process shares them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from models.base import dialect_of, table_of
from models.clock import db_now
from models.types import UTCDateTime


class RateLimit(SQLModel, table=True):
    __tablename__ = "rate_limits"

    key: str = Field(primary_key=True, max_length=300)
    window_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    hits: int = Field(default=0)


rate_limits = table_of(RateLimit)


async def hit(session: AsyncSession, key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt for `key`; False once `limit` attempts fall in the current window."""
    expired = rate_limits.c.window_start < db_now(-window_seconds)
    window = sa.case((expired, db_now()), else_=rate_limits.c.window_start)
    return await _count(session, key, restart=expired, window_start=window) <= limit


async def _count(
    session: AsyncSession,
    key: str,
    *,
    restart: sa.ColumnElement[bool],
    window_start: sa.ColumnElement[Any],
) -> int:
    """One more for `key` (from one where `restart` holds), stamping `window_start`; the
    count after it, in one statement whoever counts at once."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    stmt = (
        insert(rate_limits)
        .values(key=key, window_start=db_now(), hits=1)
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "hits": sa.case((restart, 1), else_=rate_limits.c.hits + 1),
                "window_start": window_start,
            },
        )
        .returning(rate_limits.c.hits)
    )
    return int((await session.execute(stmt)).scalar_one())


async def hits_now(session: AsyncSession, key: str, window_seconds: int) -> int:
    """How many attempts `key` has in the current window, counting none."""
    stmt = sa.select(rate_limits.c.hits).where(
        rate_limits.c.key == key, rate_limits.c.window_start >= db_now(-window_seconds)
    )
    return (await session.execute(stmt)).scalar() or 0


# Failure records (resolvers/throttle.py) share the table: `hits` counts failures in a row,
# `window_start` holds the time of the last one, and a record quiet for `quiet_seconds`
# starts again from one.


async def record_failure(session: AsyncSession, key: str, quiet_seconds: int) -> int:
    """Count one failure for `key` now; returns the failures in a row."""
    quiet = rate_limits.c.window_start < db_now(-quiet_seconds)
    return await _count(session, key, restart=quiet, window_start=db_now())


async def failures_since(session: AsyncSession, key: str, quiet_seconds: int) -> tuple[int, float]:
    """(failures in a row, seconds since the last) for `key`; (0, inf) when none."""
    stmt = sa.select(rate_limits.c.hits, rate_limits.c.window_start, db_now().label("now")).where(
        rate_limits.c.key == key, rate_limits.c.window_start >= db_now(-quiet_seconds)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return 0, float("inf")
    return int(row.hits), (row.now - row.window_start).total_seconds()


async def forget(session: AsyncSession, key: str) -> None:
    await session.execute(sa.delete(rate_limits).where(rate_limits.c.key == key))
