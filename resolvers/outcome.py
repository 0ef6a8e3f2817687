"""What a mutation resolver reports back: the row it touched, or the problems found.

Resolvers raise `Rejected` for bad input, even inside a write transaction: the
transaction rolls back, and `@mutation_outcome` turns the problems into user errors.
An ID of the input that names nothing the viewer may see (`NotFound` saying which) is one
of those problems too: a NOT_FOUND user error on the input field that held it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from strawberry.utils.str_converters import to_camel_case

from core.errors import NotFound
from core.ids import encode_id
from domain.problems import Common
from resolvers.inputs import field_holding
from resolvers.validation import Problem, Rejected

__all__ = ["Outcome", "Rejected", "input_ids", "mutation_outcome"]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Outcome:
    row_id: uuid.UUID | None = None
    problems: list[Problem] = field(default_factory=list)


def mutation_outcome(
    fn: Callable[P, Awaitable[uuid.UUID | None]],
) -> Callable[P, Awaitable[Outcome]]:
    checked = input_ids(fn)

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> Outcome:
        try:
            return Outcome(row_id=await checked(*args, **kwargs))
        except Rejected as rejected:
            return Outcome(problems=rejected.problems)

    return run


def input_ids(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A `NotFound` for an ID the resolver took from its input becomes `Rejected`: a
    NOT_FOUND user error on the input field that held it (other NotFounds pass)."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except NotFound as missing:
            problem = missing_input(missing, _named_arguments(fn, args, kwargs))
            if problem is None:
                raise
            raise Rejected(problem) from missing

    return run


def _named_arguments(
    fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object]
) -> dict[str, object]:
    """The resolver's arguments by the input field they came from: an input object under
    its own name; a bare ID parameter named `<thing>_gid` as `<thing>Id` (`global_id` or
    `gid` as `id`), the convention resolvers follow for IDs taken out of the input."""
    bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    named: dict[str, object] = {}
    for name, value in bound.items():
        if name in ("global_id", "gid"):
            named["id"] = value
        elif name.endswith("_gid"):
            named[to_camel_case(name.removesuffix("_gid")) + "Id"] = value
        else:
            named[name] = value
    return named


def missing_input(missing: NotFound, arguments: dict[str, object]) -> Problem | None:
    """The NOT_FOUND user error for the input field that held the ID, if one did."""
    wanted = missing.global_id
    if wanted is None and missing.row is not None:
        wanted = encode_id(*missing.row)
    if wanted is None:
        return None
    for name, argument in arguments.items():
        # An input object's fields are the input's; any other argument is one field.
        within = "" if dataclasses.is_dataclass(argument) else name
        field = field_holding(argument, wanted, within)
        if field is not None:
            return Problem(field, "Not found.", Common.NOT_FOUND)
    return None
