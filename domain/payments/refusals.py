"""Refusals every payment action shares: an invoice that cannot be paid, a provider that
failed, a note too long to keep."""

from __future__ import annotations

from domain.billing.codes import BillingCode
from domain.problems import Common, Problem
from models.enums import InvoiceStatus
from payments.stripe_api import ProviderRejected, ProviderUnavailable

# The invoices money can be taken for.
PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


def not_payable(field: str) -> Problem:
    return Problem(field, "Only open invoices can be paid.", BillingCode.NOT_PAYABLE)


def provider_problem(error: ProviderUnavailable | ProviderRejected, field: str) -> Problem:
    """What a failed call to Stripe tells the user: try again, or Stripe's reason."""
    if isinstance(error, ProviderUnavailable):
        message = "The payment provider could not be reached; nothing was done. Try again."
        return Problem(field, message, BillingCode.PAYMENT_PROVIDER_UNAVAILABLE)
    return Problem(
        field, f"The payment provider refused: {error}", BillingCode.PAYMENT_PROVIDER_ERROR
    )


def positive_amount(field: str, amount: int | None) -> list[Problem]:
    """An amount in minor units, when one is given, is more than nothing."""
    if amount is not None and amount <= 0:
        return [Problem(field, "Use a positive amount in minor units.")]
    return []


def note(field: str, value: str | None, max_length: int, problems: list[Problem]) -> str | None:
    """A free-text note, trimmed (empty: None); a problem added when it cannot be kept."""
    cleaned = value.strip() if value else None
    if not cleaned:
        return None
    if len(cleaned) > max_length:
        problems.append(Problem(field, f"At most {max_length} characters.", Common.TOO_LONG))
    if "\x00" in cleaned:  # no database stores it as text; it is never meant
        problems.append(Problem(field, "Contains a character that is not allowed (NUL)."))
    return cleaned
