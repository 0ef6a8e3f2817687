"""Line items of invoices and estimates, priced on the server.

Callers give quantities (in thousandths), unit prices and tax rates (in basis points); every
amount is computed here with the rounding rules of models/money.py, and a bill's totals are
the sums of its rounded lines.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.problems import Common, Problem, Rejected
from models import Estimate, EstimateLine, Invoice, InvoiceLine
from models.enums import LineKind
from models.money import (
    BASIS_POINTS,
    QUANTITY_SCALE,
    BillTotals,
    LineAmounts,
    bill_discount_shares,
    bill_totals,
    divide_rounded,
    line_amounts,
)
from models.tables import estimate_lines, invoice_lines
from models.writes import add_in_order

MAX_LINES = 200
MAX_QUANTITY_MILLI = 1_000_000 * QUANTITY_SCALE
MAX_UNIT_AMOUNT = 10**11  # a billion in a two-decimal currency: far above any real line
# The most a line or a bill may come to, in minor units: what the amount columns (32-bit
# integers on PostgreSQL) and GraphQL's Int hold.
MAX_AMOUNT = 2**31 - 1
NOT_OPTIONAL = "Only estimate lines can be optional."


@dataclass(frozen=True, slots=True)
class LineInput:
    """A line as asked for: what it charges and at what price, no amounts."""

    description: str
    unit_price: int
    quantity_milli: int = QUANTITY_SCALE
    kind: LineKind = LineKind.OTHER
    unit_cost: int | None = None
    tax_rate_bp: int = 0
    optional: bool = False  # estimates only: the customer may decline it alone
    discount_bp: int | None = None  # a percentage off, in basis points
    discount_fixed: int | None = None  # or an amount off, in minor units


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A line with its amounts, at its position in the bill."""

    position: int
    kind: LineKind
    description: str
    quantity_milli: int
    unit_price: int
    unit_cost: int | None
    tax_rate_bp: int
    subtotal: int
    tax: int
    total: int
    optional: bool = False
    discount_bp: int | None = None
    discount_fixed: int | None = None
    discount: int = 0

    @property
    def amounts(self) -> LineAmounts:
        return LineAmounts(self.subtotal, self.tax, self.total, self.discount)


@dataclass(frozen=True, slots=True)
class BillDiscount:
    """A discount on a whole bill: a percentage in basis points, or a fixed amount."""

    percent_bp: int | None = None
    fixed: int | None = None


NO_DISCOUNT = BillDiscount()


def priced(
    lines: Sequence[LineInput],
    *,
    optional_allowed: bool,
    discount: BillDiscount = NO_DISCOUNT,
) -> list[PricedLine]:
    """The lines in order, with their amounts: each line's own discount, then its share of
    the bill's (models/money.py `bill_discount_shares`). Only estimates take optional lines,
    and no line nor the bill may come to more than MAX_AMOUNT."""
    problems = [
        Problem(f"lineItems.{index}.optional", NOT_OPTIONAL, Common.INVALID)
        for index, line in enumerate(lines)
        if line.optional and not optional_allowed
    ]
    result = [_priced(position, line) for position, line in enumerate(lines)]
    more = "The discount is more than the line comes to."
    problems += [
        Problem(f"lineItems.{line.position}.discountAmount", more, Common.INVALID)
        for line, asked in zip(result, lines, strict=True)
        if asked.discount_fixed and asked.discount_fixed > line.subtotal + line.discount
    ]
    if discount.fixed and discount.fixed > sum(line.subtotal for line in result):
        message = "The discount is more than the lines come to."
        problems.append(Problem("discountAmount", message, Common.INVALID))
    result = _with_bill_discount(result, discount)
    too_much = f"This comes to more than {MAX_AMOUNT} in minor units."
    problems += [
        Problem(f"lineItems.{line.position}", too_much, Common.INVALID)
        for line in result
        if line.total > MAX_AMOUNT
    ]
    if not problems and totals_of(result).total > MAX_AMOUNT:
        message = f"The lines come to more than {MAX_AMOUNT} in minor units."
        problems.append(Problem("lineItems", message, Common.INVALID))
    if problems:
        raise Rejected(*problems)
    return result


def _with_bill_discount(lines: list[PricedLine], discount: BillDiscount) -> list[PricedLine]:
    """Each line less its share of the bill's discount, its tax computed again on the rest."""
    shares = bill_discount_shares(
        [line.subtotal for line in lines], discount.percent_bp, discount.fixed
    )
    result = []
    for line, share in zip(lines, shares, strict=True):
        if share:
            subtotal = line.subtotal - share
            tax = divide_rounded(subtotal * line.tax_rate_bp, BASIS_POINTS)
            line = replace(
                line,
                subtotal=subtotal,
                tax=tax,
                total=subtotal + tax,
                discount=line.discount + share,
            )
        result.append(line)
    return result


def stored_inputs(rows: Iterable[InvoiceLine | EstimateLine]) -> list[LineInput]:
    """A bill's stored lines as asked for, in order: to price them again (a new discount)."""
    return [
        LineInput(
            description=row.description,
            unit_price=row.unit_price,
            quantity_milli=row.quantity_milli,
            kind=row.kind,
            unit_cost=row.unit_cost,
            tax_rate_bp=row.tax_rate_bp,
            optional=bool(getattr(row, "optional", False)),
            discount_bp=row.discount_bp,
            discount_fixed=row.discount_fixed,
        )
        for row in sorted(rows, key=lambda x: (x.position, str(x.id)))
    ]


def _priced(position: int, line: LineInput) -> PricedLine:
    amounts = line_amounts(
        line.quantity_milli,
        line.unit_price,
        line.tax_rate_bp,
        line.discount_bp,
        line.discount_fixed,
    )
    return PricedLine(
        position=position,
        kind=line.kind,
        description=line.description,
        quantity_milli=line.quantity_milli,
        unit_price=line.unit_price,
        unit_cost=line.unit_cost,
        tax_rate_bp=line.tax_rate_bp,
        subtotal=amounts.subtotal,
        tax=amounts.tax,
        total=amounts.total,
        optional=line.optional,
        discount_bp=line.discount_bp,
        discount_fixed=line.discount_fixed,
        discount=amounts.discount,
    )


def as_shown(line: Mapping[str, Any], position: int) -> PricedLine:
    """A line of an estimate's snapshot, amounts as the customer was shown them."""
    return PricedLine(
        position=position,
        kind=LineKind(line["kind"]),
        description=line["description"],
        quantity_milli=line["quantity_milli"],
        unit_price=line["unit_price"],
        unit_cost=line["unit_cost"],
        tax_rate_bp=line["tax_rate_bp"],
        subtotal=line["subtotal"],
        tax=line["tax"],
        total=line["total"],
        optional=bool(line.get("optional", False)),
        discount_bp=line.get("discount_bp"),
        discount_fixed=line.get("discount_fixed"),
        discount=int(line.get("discount", 0)),
    )


def totals_of(lines: Iterable[PricedLine]) -> BillTotals:
    return bill_totals(line.amounts for line in lines)


async def replace_lines(
    session: AsyncSession, bill: Invoice | Estimate, lines: Sequence[PricedLine]
) -> None:
    """Make `lines` the bill's line items and its totals their sums."""
    rows: list[InvoiceLine | EstimateLine]
    org = bill.organization_id
    if isinstance(bill, Estimate):
        await session.execute(
            sa.delete(estimate_lines).where(estimate_lines.c.estimate_id == bill.id)
        )
        rows = [
            EstimateLine(id=uuid.uuid4(), organization_id=org, estimate_id=bill.id, **asdict(x))
            for x in lines
        ]
    else:  # invoice lines are never optional
        await session.execute(sa.delete(invoice_lines).where(invoice_lines.c.invoice_id == bill.id))
        rows = [
            InvoiceLine(id=uuid.uuid4(), organization_id=org, invoice_id=bill.id, **_columns(x))
            for x in lines
        ]
    totals = totals_of(lines)
    bill.subtotal, bill.tax_total, bill.total = totals.subtotal, totals.tax_total, totals.total
    bill.discount_total = sum(line.discount for line in lines)
    await add_in_order(session, rows)


def _columns(line: PricedLine) -> dict[str, Any]:
    columns = asdict(line)
    del columns["optional"]
    return columns
