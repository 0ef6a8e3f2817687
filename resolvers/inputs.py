"""From GraphQL input values to the domain's: "not sent" becomes `KEEP` (domain/edits.py)."""

from __future__ import annotations

import uuid
from typing import TypeVar

from strawberry import UNSET
from strawberry.types.unset import UnsetType

from core.ids import decode_id_of
from domain.edits import KEEP, Edit

T = TypeVar("T")


def kept(value: T | UnsetType) -> Edit[T]:
    """The value, or KEEP where the client did not send the field."""
    return KEEP if isinstance(value, UnsetType) else value


def decoded_id(type_name: str, value: str | object | None) -> Edit[uuid.UUID | None]:
    """The row an optional ID field of the input names: KEEP when not sent, None to clear."""
    if value is UNSET:
        return KEEP
    return None if value is None else decode_id_of(type_name, str(value))
