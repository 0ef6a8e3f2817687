"""Clocks: the request's instant for what the API shows, the database's for deadlines.

`Clock` is read once per request: every value derived from "now" or "today in the
organization's zone" (an estimate's expiry, an invoice being overdue, upcoming
appointments) compares against `request_now()`, a parameter every statement of the request
receives from `Clock.params`, so one response never mixes two instants, and a test can
evaluate the rules at any instant it likes.

`db_now(seconds)` is "now plus seconds" computed by the database itself, as a UTC
timestamp in the column format of each dialect, so several servers with skewed clocks
agree on when a sign-in link or a session expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models.calendar import local_today
from models.types import UTCDateTime

NOW = "clock_now"  # the parameter that carries the request's instant


def request_now() -> sa.BindParameter[datetime]:
    """The request's instant in SQL; its value comes from `Clock.params`."""
    return sa.bindparam(NOW, type_=UTCDateTime())


@dataclass(frozen=True, slots=True)
class Clock:
    """One instant for a whole request (or job): "now", and "today" in any zone."""

    now: datetime

    @classmethod
    def start(cls) -> Clock:
        return cls(datetime.now(UTC))

    @property
    def params(self) -> dict[str, Any]:
        return {NOW: self.now}

    def today(self, timezone: str) -> date:
        return local_today(timezone, self.now)


class db_now(FunctionElement[Any]):
    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, seconds: float = 0) -> None:
        # The offset is a bound parameter: statements cache their SQL, never the value.
        super().__init__(sa.literal(float(seconds), sa.Float()))


@compiles(db_now, "postgresql")
def _now_postgresql(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    # statement_timestamp(): the time of this statement, not of the transaction's start.
    offset = compiler.process(element.clauses, **kw)
    return f"(statement_timestamp() + make_interval(secs => {offset}))"


@compiles(db_now, "sqlite")
def _now_sqlite(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    # The text format SQLAlchemy stores (YYYY-MM-DD HH:MM:SS.ffffff), so comparisons
    # with stored values are correct as strings; %f gives milliseconds, pad to micro.
    offset = compiler.process(element.clauses, **kw)
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now', ({offset}) || ' seconds') || '000')"
