"""Money rules: line and bill totals, amount due. Integer minor units only.

Values the API derives from rows (overdue, amount due as shown) live in models/derived.py.

Rounding is half away from zero at each line (the amount a person would compute by
hand for that line), and bill totals are exact sums of rounded lines, so a printed
invoice always adds up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    subtotal: int  # after the line's discount, before tax
    tax: int
    total: int
    discount: int = 0  # what the discount took off quantity x price


def discount_of(gross: int, percent_bp: int | None, fixed: int | None) -> int:
    """The discount on an amount `gross` (quantity x price, rounded): a percentage (basis
    points) rounded half away from zero, or a fixed amount; never more than the amount, so a
    discounted line is never negative. The one discount rule of invoices, estimates and
    subscription invoices (domain/billing/lines.py prices them all)."""
    if gross <= 0:
        return 0
    off = 0
    if percent_bp:
        off = divide_rounded(gross * percent_bp, BASIS_POINTS)
    elif fixed:
        off = fixed
    return max(0, min(off, gross))


def bill_discount_shares(
    bases: Sequence[int], percent_bp: int | None, fixed: int | None
) -> list[int]:
    """A discount on a whole bill, as each line's share: the discount (`discount_of` on the
    sum of the lines' subtotals) spread over the lines in proportion to their subtotals,
    rounded down, and the minor units left given one each to the lines with the largest
    remainders (then the earliest). The shares add up to the discount exactly, and none is
    more than its line, so tax stays per line and no line goes negative."""
    base_total = sum(max(base, 0) for base in bases)
    off = discount_of(base_total, percent_bp, fixed)
    if off == 0:
        return [0] * len(bases)
    shares: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, base in enumerate(bases):
        share, remainder = divmod(off * max(base, 0), base_total)
        shares.append(share)
        remainders.append((-remainder, index))
    for _, index in sorted(remainders)[: off - sum(shares)]:
        shares[index] += 1
    return shares


def line_amounts(
    quantity_milli: int,
    unit_price: int,
    tax_rate_bp: int,
    discount_bp: int | None = None,
    discount_fixed: int | None = None,
) -> LineAmounts:
    """Quantity x price rounded, less its discount; tax on what is left, rounded."""
    gross = divide_rounded(quantity_milli * unit_price, QUANTITY_SCALE)
    discount = discount_of(gross, discount_bp, discount_fixed)
    subtotal = gross - discount
    tax = divide_rounded(subtotal * tax_rate_bp, BASIS_POINTS)
    return LineAmounts(subtotal=subtotal, tax=tax, total=subtotal + tax, discount=discount)


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
    """The customer's credit the invoice makes (covered beyond its total, up to what credit
    notes and credit used brought) less the credit used on it; models/derived.py
    `credit_left` is the SQL form."""
    if invoice["status"] in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return 0
    credits = int(invoice.get("credited_amount", 0) + invoice.get("credit_applied", 0))
    beyond: int = min(max(covered(invoice) - int(invoice["total"]), 0), credits)
    return beyond - int(invoice.get("credit_applied", 0))
