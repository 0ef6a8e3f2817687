"""The `Node` interface, global IDs on every record type, and `node`/`nodes` lookups."""

import dataclasses
import uuid
from typing import Any, ClassVar, Self

import sqlalchemy as sa
import strawberry
from sqlalchemy.engine import RowMapping
from strawberry import Info
from strawberry.types.base import get_object_definition

from core.errors import NotFound
from core.ids import decode_id, encode_id
from models.derived import DERIVED


@strawberry.interface(description="An object with an opaque global ID, fetchable with `node`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID of this object.")


# GraphQL type name -> (type, table) for every Node type, and for every row type.
NODE_TYPES: dict[str, tuple[type["RowType"], sa.Table]] = {}
ROW_TYPES: dict[str, tuple[type["RowType"], sa.Table]] = {}


@dataclasses.dataclass(kw_only=True)
class RowType:
    """A GraphQL object built straight from a database row.

    Plain fields are copied from the row's columns of the same name, or from the values
    derived from it (models/derived.py `DERIVED`), so reading them costs no resolver;
    relations are resolver methods that go through the request's loaders.
    """

    row: strawberry.Private[RowMapping]
    __table__: ClassVar[sa.Table]
    __copied__: ClassVar[tuple[str, ...]]
    __node_name__: ClassVar[str]

    @classmethod
    def from_row(cls, row: RowMapping) -> Self:
        values = {name: row[name] for name in cls.__copied__}
        if "id" in cls.__dataclass_fields__:
            values["id"] = encode_id(cls.__node_name__, row["id"])
        return cls(row=row, **values)

    @property
    def pk(self) -> uuid.UUID:
        return self.row["id"]


def row_type(table: sa.Table, *, node: bool = True) -> Any:
    """Class decorator (after @strawberry.type): bind the type to its table."""

    def bind(cls: type[RowType]) -> type[RowType]:
        definition = get_object_definition(cls, strict=True)
        cls.__table__ = table
        cls.__node_name__ = definition.name
        cls.__copied__ = tuple(
            f.python_name
            for f in definition.fields
            if f.base_resolver is None and f.python_name not in {"id", "row"}
        )
        derived = DERIVED.get(table.name, {})  # selected with every row (models/derived.py)
        missing = [name for name in cls.__copied__ if name not in table.c and name not in derived]
        if missing:
            raise TypeError(f"{cls.__name__} fields without a column: {missing}")
        ROW_TYPES[definition.name] = (cls, table)
        if node:
            NODE_TYPES[definition.name] = (cls, table)
        return cls

    return bind


async def load_row(info: Info, type_name: str, row_id: uuid.UUID | None) -> Any:
    """The object of `type_name` with this row id, if the viewer may see it."""
    if row_id is None:
        return None
    cls, table = NODE_TYPES[type_name]
    row = await info.context.loaders.get(table, row_id)
    return cls.from_row(row) if row is not None else None


async def find_node(info: Info, global_id: str) -> Any:
    """The object behind a global ID, or None alike for malformed, missing or hidden."""
    try:
        type_name, row_id = decode_id(global_id)
    except NotFound:
        return None
    if type_name not in NODE_TYPES:
        return None
    return await load_row(info, type_name, row_id)


async def resolve_node(info: Info, global_id: str) -> Any:
    found = await find_node(info, global_id)
    if found is None:
        raise NotFound()
    return found
