"""From GraphQL input values to the domain's: "not sent" becomes `KEEP` (domain/edits.py);
and finding a value inside an input by the path a user error names."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any, TypeVar

from strawberry import UNSET
from strawberry.types.unset import UnsetType
from strawberry.utils.str_converters import to_camel_case

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


def field_holding(value: Any, wanted: str, path: str = "") -> str | None:
    """The dotted path ("lineItems.0.carId") of the first place in a GraphQL input object
    that holds `wanted`, or None. Only input objects (dataclasses) and lists are searched."""
    if isinstance(value, str):
        return path if value == wanted and path else None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = field_holding(item, wanted, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            name = to_camel_case(field.name)
            found = field_holding(
                getattr(value, field.name, None), wanted, f"{path}.{name}" if path else name
            )
            if found is not None:
                return found
    return None
