"""Shared table machinery: the metadata naming convention and the tenant row base.

The naming convention is set before any table is declared so that every constraint has a
stable name, which Alembic needs to alter or drop constraints on SQLite (batch mode).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic._internal import _fields as pydantic_fields
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


def _remember_factory_signatures() -> None:
    """Building a row calls each default factory (ids, times) after asking pydantic whether
    the factory takes the validated data, which inspects its signature every time (a fifth
    of the cost of building a row). A factory's signature does not change: the answer is
    kept per factory."""
    ask = pydantic_fields.takes_validated_data_argument
    known: dict[Any, Any] = {}

    def takes_validated_data(factory: Any) -> Any:
        try:
            return known[factory]
        except KeyError:
            known[factory] = answer = ask(factory)
            return answer
        except TypeError:  # a factory that cannot be a key: asked each time
            return ask(factory)

    pydantic_fields.takes_validated_data_argument = takes_validated_data  # type: ignore[assignment]


_remember_factory_signatures()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Row(SQLModel):
    """Columns every table has: a random UUID key and UTC creation/update times."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class TenantRow(Row):
    """A row that belongs to exactly one organization."""

    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)


def utc_field(**kwargs: Any) -> Any:
    """An optional UTC timestamp column."""
    return Field(default=None, sa_type=UTCDateTime, **kwargs)


def enum_field(enum: type[StrEnum], **kwargs: Any) -> Any:
    """An enum stored as its name in a VARCHAR: no native enum types to migrate."""
    column_type = sa.Enum(enum, native_enum=False, length=32, create_constraint=False)
    return Field(sa_type=column_type, **kwargs)


def index_foreign_keys(meta: sa.MetaData) -> None:
    """Give every foreign-key column an index unless one already leads with it.

    Joins and cascading checks go through foreign keys; an unindexed one turns a lookup
    into a scan. Doing it here keeps the rule in one place instead of on every column.
    """
    for table in meta.tables.values():
        leading = {idx.columns.values()[0].name for idx in table.indexes if idx.columns}
        leading |= {
            c.columns.values()[0].name
            for c in table.constraints
            if isinstance(c, sa.PrimaryKeyConstraint | sa.UniqueConstraint) and c.columns
        }
        for fk in table.foreign_keys:
            column = fk.parent
            if column.name not in leading:
                sa.Index(f"ix_{table.name}_{column.name}", column)
                leading.add(column.name)


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's Core table (SQLModel declares `__table__` for no type checker)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


def dialect_of(session: AsyncSession) -> str:
    """The database a session talks to: "postgresql" or "sqlite"."""
    return session.get_bind().dialect.name
