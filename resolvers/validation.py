"""Input checks at the edge. Each check returns the cleaned value or records a problem.

A mutation collects every problem, returns them all as `userErrors`, and writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strawberry import UNSET

from core.settings import get_settings
from domain.formats import (
    EMAIL_MAX,
    PERSON_PHONE_PROBLEM,
    PHONE_MAX,
    VIN_MAX,
    email_problem,
    normal_vin,
    person_phone,
    phone_problem,
    vin_problem,
)
from domain.problems import Common, Problem, Rejected

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_YEAR = 1885


@dataclass
class Checks:
    """Checks for one input. `creating`: required fields must be sent, not just non-empty."""

    creating: bool = True
    problems: list[Problem] = field(default_factory=list)

    def fail(self, name: str, message: str, code: StrEnum = Common.INVALID) -> None:
        self.problems.append(Problem(name, message, code))

    def done(self) -> None:
        """Stop here with every problem found so far, if any."""
        if self.problems:
            raise Rejected(*self.problems)

    def text(self, name: str, value: Any, max_length: int, *, required: bool = False) -> Any:
        """Trimmed text; empty becomes None (or a REQUIRED problem)."""
        if value is UNSET:
            if required and self.creating:
                self.fail(name, "This field is required.", Common.REQUIRED)
            return UNSET
        cleaned = value.strip() if isinstance(value, str) else None
        if not cleaned:
            if required:
                self.fail(name, "This field is required.", Common.REQUIRED)
            return None
        if len(cleaned) > max_length:
            self.fail(name, f"At most {max_length} characters.", Common.TOO_LONG)
        if "\x00" in cleaned:  # no database stores it as text; it is never meant
            self.fail(name, "Contains a character that is not allowed (NUL).")
        return cleaned

    def email(self, name: str, value: Any, *, required: bool = False) -> Any:
        cleaned = self.text(name, value, EMAIL_MAX, required=required)
        if isinstance(cleaned, str):
            if problem := email_problem(cleaned):
                self.fail(name, problem)
            return cleaned.lower()
        return cleaned

    def phone(self, name: str, value: Any) -> Any:
        """A person's number, stored as E.164 (`core/phones.py`): the form texts go to."""
        cleaned = self.text(name, value, PHONE_MAX)
        if isinstance(cleaned, str):
            e164 = person_phone(cleaned, get_settings().phone_region)
            if e164 is None:
                self.fail(name, PERSON_PHONE_PROBLEM, Common.INVALID_PHONE)
            return e164
        return cleaned

    def display_phone(self, name: str, value: Any) -> Any:
        """A number shown as written (the business's own, printed on its invoices)."""
        cleaned = self.text(name, value, PHONE_MAX)
        if isinstance(cleaned, str) and (problem := phone_problem(cleaned)):
            self.fail(name, problem)
        return cleaned

    def vin(self, name: str, value: Any, *, strict: bool) -> Any:
        """17 characters without I, O, Q; `strict=False` keeps pre-1981 and foreign VINs."""
        cleaned = self.text(name, value, VIN_MAX)
        if isinstance(cleaned, str):
            cleaned = normal_vin(cleaned)
            if problem := vin_problem(cleaned, strict=strict):
                self.fail(name, problem)
        return cleaned

    def year(self, name: str, value: Any) -> Any:
        if value is UNSET or value is None:
            return value
        latest = datetime.now(UTC).year + 2
        if not MIN_YEAR <= value <= latest:
            self.fail(name, f"Enter a year between {MIN_YEAR} and {latest}.")
        return value

    def non_negative(self, name: str, value: Any) -> Any:
        if isinstance(value, int) and value < 0:
            self.fail(name, "Must not be negative.")
        return value

    def percent(self, name: str, value: Any) -> Any:
        """A percentage with up to 2 decimals, as basis points (8.25 -> 825)."""
        if value is UNSET or value is None:
            return value
        points = scaled(value, 100)
        if points is None or not 0 <= points <= 10_000:
            self.fail(name, "Use a percentage from 0 to 100 with up to 2 decimals.")
            return 0
        return points

    def color(self, name: str, value: Any) -> Any:
        cleaned = self.text(name, value, 7)
        if isinstance(cleaned, str) and not COLOR.match(cleaned):
            self.fail(name, "Use a colour like #1f3a5f.")
        return cleaned.lower() if isinstance(cleaned, str) else cleaned

    def url(self, name: str, value: Any) -> Any:
        cleaned = self.text(name, value, 500)
        if isinstance(cleaned, str) and not cleaned.startswith("https://"):
            self.fail(name, "Use an https:// address.")
        return cleaned

    def timezone(self, name: str, value: Any) -> Any:
        cleaned = self.text(name, value, 64, required=True)
        if isinstance(cleaned, str):
            try:
                ZoneInfo(cleaned)
            except (ValueError, ZoneInfoNotFoundError):
                self.fail(name, "Use an IANA time zone such as America/Chicago.")
        return cleaned

    def currency(self, name: str, value: Any) -> Any:
        cleaned = self.text(name, value, 3, required=True)
        if isinstance(cleaned, str):
            if not re.fullmatch(r"[A-Za-z]{3}", cleaned):
                self.fail(name, "Use a three-letter ISO 4217 code such as USD.")
            return cleaned.upper()
        return cleaned

    def moment(self, name: str, value: Any, *, required: bool = False) -> Any:
        """A point in time that names its offset (2025-06-03T09:00:00-05:00), as UTC."""
        if value is UNSET or value is None:
            if required and (self.creating or value is None):
                self.fail(name, "This field is required.", Common.REQUIRED)
            return value
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail(name, "Give the time with its UTC offset, e.g. 2025-06-03T09:00:00-05:00.")
            return UNSET
        return value.astimezone(UTC)

    def country(self, name: str, value: Any) -> Any:
        cleaned = self.text(name, value, 2)
        if isinstance(cleaned, str):
            if not re.fullmatch(r"[A-Za-z]{2}", cleaned):
                self.fail(name, "Use a two-letter ISO country code.")
            return cleaned.upper()
        return cleaned


def scaled(value: Any, scale: int) -> int | None:
    """value * scale as an exact integer, or None when it has more decimals than that."""
    try:
        result = Decimal(str(value)) * scale
    except (InvalidOperation, ValueError):
        return None
    if not result.is_finite() or result != result.to_integral_value():
        return None
    return int(result)


def given(value: Any) -> Any:
    """A choice the client may leave out; null means "keep" for non-nullable columns."""
    return UNSET if value is None else value


def changes(**values: Any) -> dict[str, Any]:
    """The values a client actually sent (UNSET dropped), ready to apply to a row."""
    return {k: v for k, v in values.items() if v is not UNSET}
