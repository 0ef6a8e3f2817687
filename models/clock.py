"""The database's clock, for deadlines that must not depend on an app server's clock.

`db_now(seconds)` is "now plus seconds" computed by the database itself, as a UTC
timestamp in the column format of each dialect, so several servers with skewed clocks
agree on when a sign-in link or a session expires.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models.types import UTCDateTime


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
