"""Every list's cursor decodes back to the values it was made from, whatever its sort
columns' types (saved cards sort by a boolean first: their cursors were refused)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from models import relations
from models.loaders import Relation
from models.pagination import Ordering
from models.types import UTCDateTime


def _sample(column: sa.Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, UTCDateTime):
        return datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Date):
        return date(2026, 3, 4)
    if isinstance(kind, sa.Integer):
        return 7
    if isinstance(kind, sa.Enum) and kind.enum_class:
        return next(iter(kind.enum_class))
    if isinstance(kind, sa.String):
        return 'Ünïcode, "quoted"'
    raise AssertionError(f"no sample for {column} ({kind!r}): teach this test and _load")


def _orderings() -> dict[str, Ordering]:
    found: dict[str, Ordering] = {}
    for name, value in vars(relations).items():
        if isinstance(value, Relation):
            found[name] = value.ordering
        elif isinstance(value, Ordering):
            found[name] = value
        elif isinstance(value, dict):
            found |= {f"{name}[{k}]": v for k, v in value.items() if isinstance(v, Ordering)}
    return found


def test_every_lists_cursor_decodes_to_its_values():
    orderings = _orderings()
    assert "CUSTOMER_PAYMENT_METHODS" in orderings and len(orderings) > 30
    for name, ordering in orderings.items():
        row = {column.name: _sample(column) for column, _ in ordering.keys}
        values = ordering.decode(ordering.cursor_of(row))
        assert values == [row[column.name] for column, _ in ordering.keys], name
