"""Per-request DataLoaders over SQLAlchemy Core: one statement per relation per level.

Every statement carries the request's organization, so a loader can never hand one
tenant's row to another; loaders live in the request context and die with it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlalchemy.engine import RowMapping

from models.db import ReadScope
from models.pagination import Ordering, Page, cut

Row = RowMapping
Filter = Callable[[sa.Table], Sequence[sa.ColumnElement[bool]]]


def no_filter(_table: sa.Table) -> Sequence[sa.ColumnElement[bool]]:
    return ()


@dataclass(frozen=True, eq=False)
class Relation:
    """A one-to-many relation: rows of `table` whose `key` column names the parent."""

    name: str
    table: sa.Table
    key: str
    ordering: Ordering
    where: Filter = field(default=no_filter)

    @property
    def key_column(self) -> sa.Column[Any]:
        return self.table.c[self.key]


class Loaders:
    """The request's loaders, created on first use and memoized by what they load."""

    def __init__(self, reader: ReadScope, scope: Filter) -> None:
        self.reader = reader
        self._scope = scope  # the viewer's visibility, from auth/access.py
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def _memo(self, key: Hashable, batch: Callable[[list[Any]], Any]) -> DataLoader[Any, Any]:
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(batch)
        return loader

    def _tenant(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(*self._scope(table))

    def clear(self) -> None:
        """Forget every cached row (after a mutation changed some)."""
        self._loaders.clear()

    # --- by primary key -------------------------------------------------------------

    def by_id(self, table: sa.Table) -> DataLoader[uuid.UUID, Row | None]:
        async def batch(ids: list[uuid.UUID]) -> list[Row | None]:
            stmt = sa.select(table).where(self._tenant(table), table.c.id.in_(set(ids)))
            found = {row["id"]: row for row in await self.reader.rows(stmt)}
            return [found.get(i) for i in ids]

        return self._memo(("id", table.name), batch)

    async def get(self, table: sa.Table, row_id: uuid.UUID | None) -> Row | None:
        if row_id is None:
            return None
        return await self.by_id(table).load(row_id)

    # --- one-to-many ----------------------------------------------------------------

    def children(self, relation: Relation) -> DataLoader[uuid.UUID, list[Row]]:
        """Every child of each parent (for short, bounded lists such as line items)."""

        async def batch(keys: list[uuid.UUID]) -> list[list[Row]]:
            table = relation.table
            stmt = (
                sa.select(table)
                .where(
                    self._tenant(table),
                    relation.key_column.in_(set(keys)),
                    *relation.where(table),
                )
                .order_by(relation.key_column, *relation.ordering.order_by())
            )
            grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
            for row in await self.reader.rows(stmt):
                grouped[row[relation.key]].append(row)
            return [grouped.get(k, []) for k in keys]

        return self._memo(("children", relation), batch)

    def page(
        self, relation: Relation, first: int, after: str | None
    ) -> DataLoader[uuid.UUID, Page]:
        """The first `first` children after a cursor, for every parent in one statement."""
        after_values = relation.ordering.decode(after) if after else None

        async def batch(keys: list[uuid.UUID]) -> list[Page]:
            table = relation.table
            conditions = [
                self._tenant(table),
                relation.key_column.in_(set(keys)),
                *relation.where(table),
            ]
            if after_values is not None:
                conditions.append(relation.ordering.after(after_values))
            rank = (
                sa.func.row_number()
                .over(
                    partition_by=relation.key_column,
                    order_by=relation.ordering.order_by(),
                )
                .label("_rank")
            )
            ranked = sa.select(table, rank).where(*conditions).subquery()
            stmt = (
                sa.select(ranked)
                .where(ranked.c._rank <= first + 1)
                .order_by(ranked.c[relation.key], ranked.c._rank)
            )
            grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
            for row in await self.reader.rows(stmt):
                grouped[row[relation.key]].append(row)
            return [cut(grouped.get(k, []), first, after is not None) for k in keys]

        return self._memo(("page", relation, first, after), batch)

    def count(self, relation: Relation) -> DataLoader[uuid.UUID, int]:
        async def batch(keys: list[uuid.UUID]) -> list[int]:
            table = relation.table
            stmt = (
                sa.select(relation.key_column, sa.func.count().label("n"))
                .where(
                    self._tenant(table),
                    relation.key_column.in_(set(keys)),
                    *relation.where(table),
                )
                .group_by(relation.key_column)
            )
            counts = {row[relation.key]: row["n"] for row in await self.reader.rows(stmt)}
            return [counts.get(k, 0) for k in keys]

        return self._memo(("count", relation), batch)

    # --- root lists -----------------------------------------------------------------

    async def root_page(
        self,
        table: sa.Table,
        ordering: Ordering,
        conditions: Sequence[sa.ColumnElement[bool]],
        first: int,
        after: str | None,
    ) -> Page:
        where = [self._tenant(table), *conditions]
        if after:
            where.append(ordering.after(ordering.decode(after)))
        stmt = sa.select(table).where(*where).order_by(*ordering.order_by()).limit(first + 1)
        return cut(await self.reader.rows(stmt), first, after is not None)

    async def root_count(
        self, table: sa.Table, conditions: Sequence[sa.ColumnElement[bool]]
    ) -> int:
        stmt = sa.select(sa.func.count()).select_from(table)
        stmt = stmt.where(self._tenant(table), *conditions)
        return int(await self.reader.scalar(stmt) or 0)
