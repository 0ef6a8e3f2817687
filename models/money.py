"""Money rules: line and bill totals, amount due, overdue. Integer minor units only.

Rounding is half away from zero at each line (the amount a person would compute by
hand for that line), and bill totals are exact sums of rounded lines, so a printed
invoice always adds up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from models.enums import EstimateStatus, InvoiceStatus

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


def amount_due(invoice: Mapping[str, Any]) -> int:
    """What the customer still owes: nothing on drafts and void invoices."""
    if invoice["status"] in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return 0
    return max(invoice["total"] - invoice["amount_paid"], 0)


def is_overdue(invoice: Mapping[str, Any], today: date) -> bool:
    due = invoice["due_date"]
    return amount_due(invoice) > 0 and due is not None and due < today


def estimate_status(estimate: Mapping[str, Any], now: datetime) -> EstimateStatus:
    """A sent estimate nobody answered before its expiry is EXPIRED."""
    expires = estimate["expires_at"]
    if estimate["status"] is EstimateStatus.SENT and expires is not None and expires <= now:
        return EstimateStatus.EXPIRED
    return estimate["status"]


# The same rules as SQL, for reads planned into one statement (planner/fields.py).


def amount_due_sql(invoice: Any) -> sa.ColumnElement[int]:
    unpaid = sa.func.greatest(invoice.c.total - invoice.c.amount_paid, 0)
    not_billed = invoice.c.status.in_([InvoiceStatus.DRAFT, InvoiceStatus.VOID])
    return sa.case((not_billed, 0), else_=unpaid)


def is_overdue_sql(invoice: Any) -> sa.ColumnElement[bool]:
    today = sa.cast(sa.func.timezone("UTC", sa.func.now()), sa.Date())
    return sa.and_(
        amount_due_sql(invoice) > 0,
        invoice.c.due_date.is_not(None),
        invoice.c.due_date < today,
    ).self_group()


def estimate_status_sql(estimate: Any) -> sa.ColumnElement[str]:
    expired = sa.and_(
        estimate.c.status == EstimateStatus.SENT,
        estimate.c.expires_at.is_not(None),
        estimate.c.expires_at <= sa.func.now(),
    )
    return sa.case((expired, EstimateStatus.EXPIRED.value), else_=estimate.c.status)
