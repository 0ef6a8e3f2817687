"""Partial updates: a field an action should leave as it is, told apart from one set to None.

GraphQL's "not sent" (strawberry's UNSET) becomes `KEEP` at the edge (`resolvers/inputs.py`
`kept`), so actions take plain typed values: `name: Edit[str]`, `car_id: Edit[UUID | None]`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeAlias, TypeVar

T = TypeVar("T")


class Keep(Enum):
    KEEP = "KEEP"

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep.KEEP

Edit: TypeAlias = T | Keep  # a value to set, or KEEP


def changes(**values: Any) -> dict[str, Any]:
    """The fields to write: every one not KEEP."""
    return {name: value for name, value in values.items() if value is not KEEP}
