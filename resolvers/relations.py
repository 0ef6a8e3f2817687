"""Relation fields: one batched statement per relation per level, through the loaders."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from strawberry import Info

from models.loaders import Relation
from models.pagination import Listing, Ordering, check_first


async def page_of(
    info: Info,
    relation: Relation,
    parent_id: uuid.UUID,
    make: Callable[[RowMapping], Any],
    first: int,
    after: str | None,
) -> Listing[Any]:
    """A connection over `relation`'s children of one parent, batched across parents."""
    loaders = info.context.loaders
    page = await loaders.page(relation, check_first(first), after).load(parent_id)

    async def count() -> int:
        return await loaders.count(relation).load(parent_id)

    return Listing.of(make, page, relation.ordering, count)


async def children_of(
    info: Info, relation: Relation, parent_id: uuid.UUID, make: Callable[[RowMapping], Any]
) -> list[Any]:
    rows = await info.context.loaders.children(relation).load(parent_id)
    return [make(row) for row in rows]


async def root_connection(
    info: Info,
    table: sa.Table,
    ordering: Ordering,
    conditions: list[sa.ColumnElement[bool]],
    make: Callable[[RowMapping], Any],
    first: int,
    after: str | None,
) -> Listing[Any]:
    """A top-level list: keyset page plus a lazily counted total."""
    loaders = info.context.loaders
    page = await loaders.root_page(table, ordering, conditions, check_first(first), after)

    async def count() -> int:
        return await loaders.root_count(table, conditions)

    return Listing.of(make, page, ordering, count)
