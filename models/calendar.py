"""Dates in an organization's time zone. Timestamps are stored in UTC; days are local."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def local_today(timezone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def end_of_day(day: date, timezone: str) -> datetime:
    """The first instant after `day` ends in `timezone`, in UTC (DST-aware)."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))
    return next_midnight.astimezone(UTC)


class local_date(FunctionElement[date]):
    """SQL: the calendar date at `instant` in the IANA zone `zone` (both SQL expressions).

    PostgreSQL knows the zones itself; SQLite calls `sqlite_local_date`, which models/db.py
    registers on every connection, so both dialects read "today" the same way.
    """

    type = sa.Date()
    inherit_cache = True

    def __init__(self, instant: Any, zone: Any) -> None:
        super().__init__(instant, zone)


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    instant, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(timezone({zone}, {instant}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    instant, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"portico_local_date({instant}, {zone})"


def sqlite_local_date(instant: str | None, zone: str | None) -> str | None:
    """`local_date` for SQLite, which stores UTC timestamps as naive ISO text."""
    if instant is None or zone is None:
        return None
    moment = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    return local_today(zone, moment).isoformat()
