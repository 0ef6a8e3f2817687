"""What a mutation resolver reports back: the row it touched, or the problems found.

Resolvers raise `Rejected` for bad input, even inside a write transaction: the
transaction rolls back, and `@mutation_outcome` turns the problems into user errors.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import ParamSpec

from resolvers.validation import Problem, Rejected

__all__ = ["Outcome", "Rejected", "mutation_outcome"]

P = ParamSpec("P")


@dataclass
class Outcome:
    row_id: uuid.UUID | None = None
    problems: list[Problem] = field(default_factory=list)


def mutation_outcome(
    fn: Callable[P, Awaitable[uuid.UUID | None]],
) -> Callable[P, Awaitable[Outcome]]:
    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> Outcome:
        try:
            return Outcome(row_id=await fn(*args, **kwargs))
        except Rejected as rejected:
            return Outcome(problems=rejected.problems)

    return run
