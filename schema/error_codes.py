"""GraphQL enums of refusal codes, made from the domain's: an area's own codes and the
common ones (`domain/problems.py`), so that the schema exposes exactly what actions raise."""

from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Any, TypeVar

import strawberry

from domain.problems import Common, Problem
from schema.common import input_path


def error_codes(name: str, area: type[StrEnum], description: str) -> type[Enum]:
    """The enum `name`: the common codes, then the area's own."""
    return error_codes_of(name, (area,), description)


E = TypeVar("E")  # an area's user error type: field, message and code


def user_errors(problems: list[Problem], error_cls: Callable[..., E], codes: type[Enum]) -> list[E]:
    """The user errors of a payload, one per problem."""
    return [
        error_cls(field=input_path(p.field), message=p.message, code=codes(str(p.code)))
        for p in problems
    ]


def error_codes_of(name: str, areas: tuple[type[StrEnum], ...], description: str) -> type[Enum]:
    """The enum `name`: the common codes, then each area's own in turn (a mutation that takes
    files also answers with the uploads' codes, `domain.uploads.codes`)."""
    every: tuple[type[StrEnum], ...] = (Common, *areas)
    members = {code.name: code.value for area in every for code in area}
    # Enum's functional form, with members known only here: mypy reads it only with literals.
    made: type[Enum] = Enum(name, members)  # type: ignore[misc]
    return strawberry.enum(made, description=description)


def code_field(codes: type[Enum]) -> Any:
    """The `code` field of an area's user error, typed in GraphQL as the area's enum (made
    at import time, so no annotation can name it; the field is annotated `Enum`)."""
    return strawberry.field(graphql_type=codes, description="Machine-readable reason.")
