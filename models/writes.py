"""Helpers for mutations: tenant-checked loads for update, row snapshots."""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from models.base import metadata, table_of
from models.types import utcnow

if TYPE_CHECKING:
    from auth.access import RowScope

M = TypeVar("M", bound=SQLModel)


async def get_for_update(
    session: AsyncSession, model: type[M], organization_id: uuid.UUID | None, row_id: uuid.UUID
) -> M | None:
    """The row, locked for this transaction, if it belongs to the organization."""
    if organization_id is None:
        return None
    stmt = (
        sa.select(model)
        .where(model.id == row_id, model.organization_id == organization_id)  # type: ignore[attr-defined]
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def apply(row: SQLModel, values: dict[str, object]) -> bool:
    """Set changed attributes and bump `updated_at`; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed and hasattr(row, "updated_at"):
        row.updated_at = utcnow()
    return changed


@functools.cache
def _table_order() -> dict[str, int]:
    """Each table's place in dependency order (sorting the metadata costs more than a
    mutation's own Python work, so it is done once)."""
    return {table.name: index for index, table in enumerate(metadata.sorted_tables)}


async def add_in_order(session: AsyncSession, rows: Iterable[SQLModel]) -> None:
    """Insert parents before children.

    The tables declare foreign keys but no ORM relationships, so the unit of work does not
    know which rows depend on which: flush one table at a time, in dependency order.
    """
    position = _table_order()
    ordered = sorted(rows, key=lambda row: position[table_of(type(row)).name])
    for _, group in itertools.groupby(ordered, key=lambda row: table_of(type(row)).name):
        session.add_all(list(group))
        await session.flush()


async def value_taken(
    session: AsyncSession,
    column: sa.Column[Any],
    value: object,
    within: tuple[sa.Column[Any], object],
    own_id: uuid.UUID | None,
) -> bool:
    """Another row whose `within` column holds the given value (the scope: an organization,
    a customer) already holds `value` in `column` (unique emails, VINs)."""
    if not value:
        return False
    scope_column, scope = within
    statement = _taken_statement(column, scope_column, own_id is not None)
    params = {"scope": scope, "value": value, "own_id": own_id}
    return (await session.execute(statement, params)).first() is not None


@functools.cache
def _taken_statement(
    column: sa.Column[Any], scope_column: sa.Column[Any], besides_own: bool
) -> sa.Select[Any]:
    """Built once per shape: a mutation pays for no expression building, and SQLAlchemy
    finds the compiled form by the statement's memoized cache key."""
    table = column.table
    statement = sa.select(table.c.id).where(
        scope_column == sa.bindparam("scope"), column == sa.bindparam("value")
    )
    if besides_own:
        statement = statement.where(table.c.id != sa.bindparam("own_id"))
    return statement.limit(1)


async def visible_for_update(
    session: AsyncSession, model: type[M], scope: RowScope, row_ids: Iterable[uuid.UUID]
) -> list[M]:
    """The rows among `row_ids` the viewer may see (auth/access.py), locked for this
    transaction, in no particular order. Rows outside the scope are simply absent."""
    return await visible_rows(session, model, scope, row_ids, lock=True)


async def visible_rows(
    session: AsyncSession,
    model: type[M],
    scope: RowScope,
    row_ids: Iterable[uuid.UUID],
    *,
    lock: bool = False,
) -> list[M]:
    """The rows among `row_ids` the viewer may see; locked for this transaction with
    `lock`. Rows outside the scope are simply absent."""
    table = table_of(model)
    wanted = sorted(set(row_ids))
    if not wanted:
        return []
    stmt = (
        sa.select(model)
        .where(table.c.id.in_(wanted), *scope.conditions(table))
        .order_by(table.c.id)  # one lock order for every transaction: no deadlocks
    )
    if lock:
        stmt = stmt.with_for_update()
    return list((await session.execute(stmt, scope.params)).scalars())
