"""The one rule for an email address, a phone number and a VIN: the create and update
mutations (resolvers/validation.py) and the CSV import (domain/imports/) both ask here.

Each check takes a value already trimmed and answers the message of what is wrong with it,
or None when it is fine. A person's phone number is kept as E.164 (core/phones.py), the
form texts go to; a business's own number is printed as written and only checked loosely.
"""

from __future__ import annotations

import re

from core.phones import to_e164

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ().\-]{5,40}$")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # no I, O or Q
# ISO 3779 check digit (position 9), required of North American VINs (first character 1-5).
VIN_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
EMAIL_MAX, PHONE_MAX, VIN_MAX = 254, 40, 17


def email_problem(cleaned: str) -> str | None:
    return None if EMAIL.match(cleaned) else "Enter a valid email address."


PERSON_PHONE_PROBLEM = (
    "Enter a valid phone number, with its country code (+44 ...) if it is not from this "
    "business's country."
)


def person_phone(cleaned: str, region: str) -> str | None:
    """A person's number as stored (E.164, read in `region` without +country), or None when
    it is no valid number (answer PERSON_PHONE_PROBLEM with Common.INVALID_PHONE)."""
    return to_e164(cleaned, region)


def phone_problem(cleaned: str) -> str | None:
    """For a number shown as written (the business's own, printed on its invoices)."""
    return None if PHONE.match(cleaned) else "Enter a valid phone number."


def normal_vin(cleaned: str) -> str:
    """A VIN as stored: upper case, without spaces."""
    return cleaned.upper().replace(" ", "")


def vin_problem(vin: str, *, strict: bool) -> str | None:
    """17 characters without I, O, Q, and the check digit of a North American VIN;
    `strict=False` keeps pre-1981 and foreign VINs as written."""
    if not strict:
        return None
    if not VIN.match(vin):
        return "A VIN has 17 letters and digits, without I, O or Q."
    if vin[0] in "12345" and vin[8] != vin_check_digit(vin):
        return (
            "The VIN's check digit (9th character) does not match; set vinUnchecked "
            "to store it as written."
        )
    return None


def vin_check_digit(vin: str) -> str:
    """The 9th character a valid North American VIN must have."""
    total = sum(
        (int(c) if c.isdigit() else VIN_VALUES[c]) * w
        for c, w in zip(vin, VIN_WEIGHTS, strict=True)
    )
    return "X" if total % 11 == 10 else str(total % 11)
