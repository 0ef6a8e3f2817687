"""GraphQL enums of refusal codes, made from the domain's: an area's own codes and the
common ones (`domain/problems.py`), so that the schema exposes exactly what actions raise."""

from enum import Enum, StrEnum

import strawberry

from domain.problems import Common, Problem
from schema.common import input_path


def error_codes(name: str, area: type[StrEnum], description: str) -> type[Enum]:
    """The enum `name`: the common codes, then the area's own."""
    members = {code.name: code.value for code in (*Common, *area)}
    return strawberry.enum(Enum(name, members), description=description)  # type: ignore[return-value]


def user_errors(problems: list[Problem], error_cls: type, codes: type[Enum]) -> list[object]:
    """The user errors of a payload, one per problem."""
    return [
        error_cls(field=input_path(p.field), message=p.message, code=codes(str(p.code)))
        for p in problems
    ]


def error_codes_of(name: str, areas: tuple[type[StrEnum], ...], description: str) -> type[Enum]:
    """The enum `name`: the common codes, then each area's own in turn (a mutation that takes
    files also answers with the uploads' codes, `domain.uploads.codes`)."""
    members = {code.name: code.value for area in (Common, *areas) for code in area}
    return strawberry.enum(Enum(name, members), description=description)  # type: ignore[return-value]
