"""Money rules: line and bill totals, amount due. Integer minor units only.

Values the API derives from rows (overdue, amount due as shown) live in models/derived.py.

Rounding is half away from zero at each line (the amount a person would compute by
hand for that line), and bill totals are exact sums of rounded lines, so a printed
invoice always adds up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from models.enums import InvoiceStatus

QUANTITY_SCALE = 1000  # quantities are stored in thousandths
BASIS_POINTS = 10_000  # tax rates are stored in hundredths of a percent


def divide_rounded(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


@dataclass(frozen=True, slots=True)
class LineAmounts:
    subtotal: int
    tax: int
    total: int


def line_amounts(quantity_milli: int, unit_price: int, tax_rate_bp: int) -> LineAmounts:
    subtotal = divide_rounded(quantity_milli * unit_price, QUANTITY_SCALE)
    tax = divide_rounded(subtotal * tax_rate_bp, BASIS_POINTS)
    return LineAmounts(subtotal=subtotal, tax=tax, total=subtotal + tax)


@dataclass(frozen=True, slots=True)
class BillTotals:
    subtotal: int
    tax_total: int
    total: int


def bill_totals(lines: Iterable[LineAmounts]) -> BillTotals:
    subtotal = tax = 0
    for line in lines:
        subtotal += line.subtotal
        tax += line.tax
    return BillTotals(subtotal=subtotal, tax_total=tax, total=subtotal + tax)


def covered(invoice: Mapping[Any, Any]) -> int:
    """Paid, credited by credit notes, and the customer's credit used on it (a mapping
    without the credit columns has none)."""
    credits = invoice.get("credited_amount", 0) + invoice.get("credit_applied", 0)
    return int(invoice["amount_paid"] + credits)


def amount_due(invoice: Mapping[Any, Any]) -> int:
    """What the customer still owes: nothing on drafts and void invoices."""
    if invoice["status"] in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return 0
    due: int = invoice["total"] - covered(invoice)
    return max(due, 0)


def credit_left(invoice: Mapping[Any, Any]) -> int:
    """The customer's credit the invoice makes (covered beyond its total) less the credit
    used on it; models/derived.py `credit_left` is the SQL form."""
    if invoice["status"] in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return 0
    beyond: int = max(covered(invoice) - int(invoice["total"]), 0)
    return beyond - int(invoice.get("credit_applied", 0))
