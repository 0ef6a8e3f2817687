"""The rows a write transaction inserted through the ORM, as the loaders would read them
back: a mutation's payload is built from them instead of a statement that re-reads what
was just written.

`WriteSession` notes every instance each flush inserts; `written_rows` gives their column
values once the transaction has committed. Only new rows: a row loaded and changed may
also have been changed by a Core UPDATE the session does not see, so it is read back.
Only rows whose every column the session knows are given, and none of a table with
derived values (models/derived.py): those the database computes, so they are read back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper, Session

from models.derived import DERIVED
from models.types import UTCDateTime

WRITTEN = "portico_written"


class WriteSession(Session):
    """An ORM session that remembers the rows its flushes inserted (`written_rows`)."""


@event.listens_for(WriteSession, "after_flush")
def _note_written(session: Session, _context: Any) -> None:
    written: list[object] = session.info.setdefault(WRITTEN, [])
    written.extend(session.new)


Column = tuple[str, str, UTCDateTime | None]


@functools.cache
def _columns(mapper: Mapper[Any]) -> tuple[Column, ...] | None:
    """(column name, attribute, its type where it changes values on the way in and out)
    for every column of the mapped table; None for a table whose rows carry derived
    values, or that has no `id` to be loaded by."""
    table = mapper.local_table
    if not isinstance(table, sa.Table) or table.name in DERIVED or "id" not in table.c:
        return None
    return tuple(
        (
            column.name,
            mapper.get_property_by_column(column).key,
            column.type if isinstance(column.type, UTCDateTime) else None,
        )
        for column in table.columns
    )


def _as_read(value: Any, kind: UTCDateTime | None, dialect: Dialect) -> Any:
    """The value as the database hands it back (a time given with an offset reads as UTC)."""
    if kind is None:
        return value
    return kind.process_result_value(kind.process_bind_param(value, dialect), dialect)


def written_rows(session: Session) -> Iterator[tuple[sa.Table, dict[str, Any]]]:
    """(table, row) for each row the session's flushes inserted and still holds whole
    (none deleted, none with a value the database set and the session has not read)."""
    seen: set[int] = set()
    for instance in session.info.get(WRITTEN, ()):
        if id(instance) in seen:
            continue
        seen.add(id(instance))
        state = sa.inspect(instance)
        columns = _columns(state.mapper)
        if columns is None or state.key is None or state.was_deleted:
            continue
        values = state.dict
        if any(attribute not in values for _, attribute, _ in columns):
            continue  # expired or never loaded: only the database knows it
        table = state.mapper.local_table
        assert isinstance(table, sa.Table)
        dialect = session.get_bind().dialect
        yield (
            table,
            {name: _as_read(values[attribute], kind, dialect) for name, attribute, kind in columns},
        )
