"""Phone numbers as Portico keeps them: E.164 (`+13125550100`), the form texts are sent to.

A number written without `+country` is read in a region: the PHONE_REGION setting (US by
default). `phonenumbers` (Google's libphonenumber) decides what is a valid number.
"""

from __future__ import annotations

import phonenumbers


def to_e164(text: str, region: str = "US") -> str | None:
    """The E.164 form of `text`, or None when it is no valid phone number."""
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
