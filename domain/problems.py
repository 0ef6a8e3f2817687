"""Refusals: why an action will not do what was asked, as problems with codes.

Every area of the domain has its own codes, one `StrEnum` (for example
`domain.billing.codes.BillingCode`); the codes every area shares are `Common`. The schema
exposes each area's codes together with the common ones as one GraphQL enum
(`schema/error_codes.py`), so a code is written once, as an enum member: a misspelt one
fails the type check instead of reaching a client as "Unexpected error."
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Common(StrEnum):
    """Codes any action may answer with."""

    NOT_FOUND = "NOT_FOUND"  # an ID that names nothing the actor may see
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    INVALID_PHONE = "INVALID_PHONE"  # no valid phone number (core/phones.py)


@dataclass(frozen=True, slots=True)
class Problem:
    field: str | None  # the input field it is about (camelCase); None: the request as a whole
    message: str
    code: StrEnum = Common.INVALID


class Rejected(Exception):
    """Raised by an action that refuses, even inside a write transaction (which then rolls
    back, so nothing partial is kept)."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(problems)
        self.problems = list(problems)
