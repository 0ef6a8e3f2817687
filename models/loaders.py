"""Per-request DataLoaders over SQLAlchemy Core: one statement per relation per level.

Every statement carries the viewer's scope (organization, and for portal viewers their
customer and contact scope), so a loader can never hand one tenant's row to another;
loaders live in the request context and die with it. The statements themselves are built
once per shape of viewer and reused: only their bound parameters change per request.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlalchemy.engine import RowMapping

from models.clock import Clock
from models.db import ReadScope
from models.derived import derived_columns
from models.pagination import Ordering, Page, cut

Row = RowMapping
Filter = Callable[[sa.Table], Sequence[sa.ColumnElement[bool]]]
KEYS = "loader_keys"


class Scope(Protocol):
    """What a viewer may see (auth/access.py builds it)."""

    @property
    def shape(self) -> tuple[object, ...]: ...

    @property
    def params(self) -> dict[str, object]: ...

    def conditions(self, table: sa.Table) -> tuple[sa.ColumnElement[bool], ...]: ...


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


_STATEMENTS: dict[Hashable, sa.Select[Any]] = {}


def _statement(key: Hashable, build: Callable[[], sa.Select[Any]]) -> sa.Select[Any]:
    """Statements by shape, built once per process (building costs more than running)."""
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build()
    return statement


def _keys(column: sa.Column[Any]) -> sa.ColumnElement[bool]:
    return column.in_(sa.bindparam(KEYS, expanding=True))


class Loaders:
    """The request's loaders, created on first use and memoized by what they load."""

    def __init__(self, reader: ReadScope, scope: Scope, clock: Clock | None = None) -> None:
        self.reader = reader
        self.scope = scope
        self.clock = clock or Clock.start()
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def _memo(self, key: Hashable, batch: Callable[[list[Any]], Any]) -> DataLoader[Any, Any]:
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(batch)
        return loader

    async def _rows(self, statement: sa.Select[Any], **params: Any) -> Sequence[Row]:
        return await self.reader.rows(
            statement, {**self.scope.params, **self.clock.params, **params}
        )

    def batched(self, key: Hashable, batch: Callable[[list[Any]], Any]) -> DataLoader[Any, Any]:
        """A loader of the request for computed values (one batch function per `key`)."""
        return self._memo(key, batch)

    def clear(self) -> None:
        """Forget every cached row (after a mutation changed some)."""
        self._loaders.clear()

    # --- by primary key -------------------------------------------------------------

    def by_id(self, table: sa.Table) -> DataLoader[uuid.UUID, Row | None]:
        def build() -> sa.Select[Any]:
            return sa.select(table, *derived_columns(table)).where(
                *self.scope.conditions(table), _keys(table.c.id)
            )

        statement = _statement(("id", table.name, self.scope.shape), build)

        async def batch(ids: list[uuid.UUID]) -> list[Row | None]:
            rows = await self._rows(statement, **{KEYS: list(set(ids))})
            found = {row["id"]: row for row in rows}
            return [found.get(i) for i in ids]

        return self._memo(("id", table.name), batch)

    def prime(self, table: sa.Table, row: Mapping[str, Any]) -> None:
        """Hold `row` as `by_id` would load it (a row the request just wrote, which the
        caller knows the viewer may see): its values by column name, as a row gives them."""
        self.by_id(table).prime(row["id"], cast(Row, row))

    async def get(self, table: sa.Table, row_id: uuid.UUID | None) -> Row | None:
        if row_id is None:
            return None
        return await self.by_id(table).load(row_id)

    def computed(
        self, table: sa.Table, name: str, build: Callable[[Scope], Sequence[sa.Label[Any]]]
    ) -> DataLoader[uuid.UUID, Row | None]:
        """Values computed for rows of `table` from other rows the viewer may see (a
        customer's balance over their invoices), asked for only where a field needs them:
        `build` makes the labelled expressions from the viewer's scope, and one statement
        answers every row of the request asked at the same level."""

        def statement_for() -> sa.Select[Any]:
            return sa.select(table.c.id, *build(self.scope)).where(
                *self.scope.conditions(table), _keys(table.c.id)
            )

        statement = _statement(("computed", table.name, name, self.scope.shape), statement_for)

        async def batch(ids: list[uuid.UUID]) -> list[Row | None]:
            rows = await self._rows(statement, **{KEYS: list(set(ids))})
            found = {row["id"]: row for row in rows}
            return [found.get(i) for i in ids]

        return self._memo(("computed", table.name, name), batch)

    # --- one-to-many ----------------------------------------------------------------

    def _where(self, relation: Relation) -> list[sa.ColumnElement[bool]]:
        table = relation.table
        return [*self.scope.conditions(table), _keys(relation.key_column), *relation.where(table)]

    def children(self, relation: Relation) -> DataLoader[uuid.UUID, list[Row]]:
        """Every child of each parent (for short, bounded lists such as line items)."""

        def build() -> sa.Select[Any]:
            return (
                sa.select(relation.table, *derived_columns(relation.table))
                .where(*self._where(relation))
                .order_by(relation.key_column, *relation.ordering.order_by())
            )

        statement = _statement(("children", relation, self.scope.shape), build)

        async def batch(keys: list[uuid.UUID]) -> list[list[Row]]:
            grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
            for row in await self._rows(statement, **{KEYS: list(set(keys))}):
                grouped[row[relation.key]].append(row)
            return [grouped.get(k, []) for k in keys]

        return self._memo(("children", relation), batch)

    def page(
        self, relation: Relation, first: int, after: str | None
    ) -> DataLoader[uuid.UUID, Page]:
        """The first `first` children after a cursor, for every parent in one statement."""
        after_values = relation.ordering.decode(after) if after else None

        def build() -> sa.Select[Any]:
            conditions = self._where(relation)
            if after_values is not None:
                conditions.append(relation.ordering.after())
            rank = (
                sa.func.row_number()
                .over(partition_by=relation.key_column, order_by=relation.ordering.order_by())
                .label("_rank")
            )
            derived = derived_columns(relation.table)
            ranked = sa.select(relation.table, *derived, rank).where(*conditions).subquery()
            return (
                sa.select(ranked)
                .where(ranked.c._rank <= sa.bindparam("page_size"))
                .order_by(ranked.c[relation.key], ranked.c._rank)
            )

        shape = ("page", relation, after_values is not None, self.scope.shape)
        statement = _statement(shape, build)
        params = Ordering.after_params(after_values or ())

        async def batch(keys: list[uuid.UUID]) -> list[Page]:
            rows = await self._rows(
                statement, **{KEYS: list(set(keys)), "page_size": first + 1, **params}
            )
            grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
            for row in rows:
                grouped[row[relation.key]].append(row)
            return [cut(grouped.get(k, []), first, after is not None) for k in keys]

        return self._memo(("page", relation, first, after), batch)

    def count(self, relation: Relation) -> DataLoader[uuid.UUID, int]:
        def build() -> sa.Select[Any]:
            return (
                sa.select(relation.key_column, sa.func.count().label("n"))
                .where(*self._where(relation))
                .group_by(relation.key_column)
            )

        statement = _statement(("count", relation, self.scope.shape), build)

        async def batch(keys: list[uuid.UUID]) -> list[int]:
            rows = await self._rows(statement, **{KEYS: list(set(keys))})
            counts = {row[relation.key]: row["n"] for row in rows}
            return [counts.get(k, 0) for k in keys]

        return self._memo(("count", relation), batch)

    def aggregates(
        self, name: str, build: Callable[[], sa.Select[Any]]
    ) -> DataLoader[uuid.UUID, list[Row]]:
        """Rows of a statement that scopes itself, grouped by its first column: for counts and sums
        about rows the viewer sees drawn from rows they may not (how full an event is).
        The statement filters that column by `KEYS` and names the viewer's organization
        (`scope_org`) itself; nothing but the aggregates may leave it."""
        statement = _statement(("aggregates", name), build)

        async def batch(keys: list[uuid.UUID]) -> list[list[Row]]:
            if "scope_org" not in self.scope.params:
                return [[] for _ in keys]
            grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
            for row in await self._rows(statement, **{KEYS: list(set(keys))}):
                grouped[next(iter(row.values()))].append(row)
            return [grouped.get(k, []) for k in keys]

        return self._memo(("aggregates", name), batch)

    # --- root lists -----------------------------------------------------------------

    async def root_page(
        self,
        table: sa.Table,
        ordering: Ordering,
        conditions: Sequence[sa.ColumnElement[bool]],
        first: int,
        after: str | None,
    ) -> Page:
        where = [*self.scope.conditions(table), *conditions]
        params: dict[str, Any] = {}
        if after:
            where.append(ordering.after())
            params = Ordering.after_params(ordering.decode(after))
        stmt = (
            sa.select(table, *derived_columns(table))
            .where(*where)
            .order_by(*ordering.order_by())
            .limit(first + 1)
        )
        return cut(await self._rows(stmt, **params), first, after is not None)

    async def root_count(
        self, table: sa.Table, conditions: Sequence[sa.ColumnElement[bool]]
    ) -> int:
        stmt = sa.select(sa.func.count()).select_from(table)
        rows = await self._rows(stmt.where(*self.scope.conditions(table), *conditions))
        return int(next(iter(rows[0].values()))) if rows else 0
