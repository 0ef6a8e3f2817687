"""Finding a value inside a mutation's input, by the path a user error names."""

from __future__ import annotations

import dataclasses
from typing import Any

from strawberry.utils.str_converters import to_camel_case


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
