"""Fixed-window rate limits kept in the database, so every server process shares them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from models.clock import db_now
from models.types import UTCDateTime


class RateLimit(SQLModel, table=True):
    __tablename__ = "rate_limits"

    key: str = Field(primary_key=True, max_length=300)
    window_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    hits: int = Field(default=0)


rate_limits: sa.Table = RateLimit.__table__  # type: ignore[attr-defined]


async def hit(session: AsyncSession, key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt for `key`; False once `limit` attempts fall in the current window."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    expired = rate_limits.c.window_start < db_now(-window_seconds)
    stmt = (
        insert(rate_limits)
        .values(key=key, window_start=db_now(), hits=1)
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "hits": sa.case((expired, 1), else_=rate_limits.c.hits + 1),
                "window_start": sa.case((expired, db_now()), else_=rate_limits.c.window_start),
            },
        )
        .returning(rate_limits.c.hits)
    )
    hits = (await session.execute(stmt)).scalar_one()
    return hits <= limit


async def hits_now(session: AsyncSession, key: str, window_seconds: int) -> int:
    """How many attempts `key` has in the current window, counting none."""
    stmt = sa.select(rate_limits.c.hits).where(
        rate_limits.c.key == key, rate_limits.c.window_start >= db_now(-window_seconds)
    )
    return (await session.execute(stmt)).scalar() or 0
