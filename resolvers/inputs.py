"""From GraphQL input values to the domain's: "not sent" becomes `KEEP` (domain/edits.py)."""

from __future__ import annotations

from typing import TypeVar

from strawberry import UNSET

from domain.edits import KEEP, Edit

T = TypeVar("T")


def kept(value: T | object) -> Edit[T]:
    """The value, or KEEP where the client did not send the field."""
    return KEEP if value is UNSET else value  # type: ignore[return-value]
