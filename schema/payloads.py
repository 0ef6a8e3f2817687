"""Building mutation payloads: the changed object, re-read for the viewer, or user errors."""

from enum import Enum
from typing import TypeVar

from strawberry import Info

from resolvers.outcome import Outcome
from schema.error_codes import user_errors
from schema.node import load_row

P = TypeVar("P")  # a payload type: its object field and `user_errors`


async def payload(
    info: Info,
    payload_cls: type[P],
    outcome: Outcome,
    *,
    type_name: str,
    object_field: str,
    error_cls: type[object],
    codes: type[Enum],
) -> P:
    errors = user_errors(outcome.problems, error_cls, codes)
    found = None
    if not errors and outcome.row_id is not None:
        found = await load_row(info, type_name, outcome.row_id)
    return payload_cls(**{object_field: found, "user_errors": errors})
