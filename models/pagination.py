"""Keyset pagination: cursors are the sort key of the last row seen, never an offset.

Page 100 costs what page 1 costs: the database seeks to the cursor through the index
instead of counting past every earlier row.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from core.errors import ClientError
from models.types import UTCDateTime

MAX_PAGE_SIZE = 100
T = TypeVar("T")


class InvalidCursor(ClientError):
    code = "INVALID_CURSOR"
    message = "The cursor is not valid for this list."


class InvalidPageSize(ClientError):
    code = "INVALID_PAGE_SIZE"
    message = f"`first` must be between 0 and {MAX_PAGE_SIZE}."


@dataclass(frozen=True)
class Ordering:
    """Sort columns as (column, descending); the last one must be unique (the id)."""

    keys: tuple[tuple[sa.Column[Any], bool], ...]

    @classmethod
    def of(cls, *keys: sa.Column[Any] | tuple[sa.Column[Any], bool]) -> Ordering:
        return cls(tuple(k if isinstance(k, tuple) else (k, False) for k in keys))

    def order_by(self) -> list[sa.ColumnElement[Any]]:
        return [col.desc() if desc else col.asc() for col, desc in self.keys]

    def order_by_in(self, selectable: sa.Subquery) -> list[sa.ColumnElement[Any]]:
        cols = [(selectable.c[col.name], desc) for col, desc in self.keys]
        return [c.desc() if desc else c.asc() for c, desc in cols]

    def cursor_of(self, row: RowMapping) -> str:
        values = [_dump(row[col.name]) for col, _ in self.keys]
        # ensure_ascii=False: the same text PostgreSQL's to_json gives (planner/sql.py).
        raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(values, list) or len(values) != len(self.keys):
                raise ValueError(cursor)
            return [_load(col, v) for (col, _), v in zip(self.keys, values, strict=True)]
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursor() from exc

    def after(self) -> sa.ColumnElement[bool]:
        """Rows strictly after the cursor in this ordering: (a > x) or (a = x and b > y) ...

        The cursor's values are bound parameters (`after_params`), so the statement is
        the same for every cursor and is built and compiled once.
        """
        marks = [sa.bindparam(f"after_{i}", type_=col.type) for i, (col, _) in enumerate(self.keys)]
        clauses: list[sa.ColumnElement[bool]] = []
        for i, (col, desc) in enumerate(self.keys):
            step = col < marks[i] if desc else col > marks[i]
            equal = [c == m for (c, _), m in zip(self.keys[:i], marks[:i], strict=True)]
            clauses.append(sa.and_(*equal, step))
        return sa.or_(*clauses)

    @staticmethod
    def after_params(values: Sequence[Any]) -> dict[str, Any]:
        return {f"after_{i}": value for i, value in enumerate(values)}


def _dump(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.name
    return value


def _load(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.UUID(str(value))
    if isinstance(kind, UTCDateTime):
        parsed = datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            raise ValueError(value)
        return parsed
    if isinstance(kind, sa.TypeDecorator):  # e.g. SQLModel's AutoString over VARCHAR
        kind = kind.impl_instance
    if isinstance(kind, sa.Date):
        return date.fromisoformat(str(value))
    if isinstance(kind, sa.Boolean):  # e.g. saved cards, the default first
        if not isinstance(value, bool):
            raise ValueError(value)
        return value
    if isinstance(kind, sa.Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(value)
        return value
    if isinstance(kind, sa.Enum):
        return kind.enum_class[str(value)] if kind.enum_class else str(value)
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    raise ValueError(value)


def check_first(first: int) -> int:
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidPageSize()
    return first


@dataclass(frozen=True, slots=True)
class Page:
    rows: Sequence[RowMapping]
    has_next: bool
    has_previous: bool


def cut(rows: Sequence[RowMapping], first: int, has_previous: bool) -> Page:
    """Rows are fetched with one extra to learn whether another page follows."""
    return Page(rows=rows[:first], has_next=len(rows) > first, has_previous=has_previous)


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """A page made into objects, each with its cursor, and the whole list's size counted
    only when asked; `schema/connections.py` answers it as a GraphQL connection."""

    nodes: list[T]
    cursors: list[str]
    page: Page
    count: Callable[[], Awaitable[int]]

    @classmethod
    def of(
        cls,
        make: Callable[[RowMapping], T],
        page: Page,
        ordering: Ordering,
        count: Callable[[], Awaitable[int]],
    ) -> Listing[T]:
        nodes = [make(row) for row in page.rows]
        return cls(nodes, [ordering.cursor_of(row) for row in page.rows], page, count)
