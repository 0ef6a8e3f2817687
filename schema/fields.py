"""Field factories for relations, so each relation is declared in one line."""

import importlib
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.engine import RowMapping
from strawberry import Info

from models.loaders import Relation
from resolvers.relations import page_of
from schema.connections import Connection, connection
from schema.node import load_row

FIRST = strawberry.argument(description="How many items to return (at most 100).")
AFTER = strawberry.argument(description="Return items after this cursor (`endCursor`).")


def _lazy(type_name: str, module: str) -> Any:
    return Annotated[type_name, strawberry.lazy(module)]


def _maker(type_name: str, module: str) -> Callable[[RowMapping], Any]:
    """`from_row` of a type imported on first use (types refer to each other)."""
    cache: list[Callable[[RowMapping], Any]] = []

    def make(row: RowMapping) -> Any:
        if not cache:
            cache.append(getattr(importlib.import_module(module), type_name).from_row)
        return cache[0](row)

    return make


def connection_field(
    relation: Relation, type_name: str, module: str, description: str, **kwargs: Any
) -> Any:
    """A paged list of `relation`'s rows under the parent object. A guarded list (one with
    permission `extensions`: a portal section, staff only) is nullable, so that its refusal
    answers at its own path and the rest of the query still answers."""
    node = _lazy(type_name, module)
    make = _maker(type_name, module)
    # Types made at run time (lazy references Strawberry resolves): no static type names them.
    answer: Any = Connection[node]  # type: ignore[valid-type]
    if kwargs.get("extensions"):
        answer = answer | None

    async def resolve(
        root: Any,
        info: Info,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> answer:
        return connection(await page_of(info, relation, root.pk, make, first, after))

    field = strawberry.field(resolver=resolve, description=description, **kwargs)
    field.plan = ("connection", relation, type_name)  # read by the planner (planner/)
    return field


def object_field(
    column: str, type_name: str, module: str, description: str, *, required: bool = False
) -> Any:
    """The object a foreign-key column points at, if the viewer may see it."""
    node = _lazy(type_name, module)

    # A lazy reference made at run time, as in connection_field.
    async def resolve(root: Any, info: Info) -> node | None:  # type: ignore[valid-type]
        return await load_row(info, type_name, root.row[column])

    field = strawberry.field(resolver=resolve, description=description)
    field.plan = ("object", column, type_name)  # read by the planner (planner/)
    return field
