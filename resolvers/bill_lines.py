"""Line items of invoices and estimates: checked at the edge, priced on the server.

Clients send quantities, unit prices and tax rates; every amount is computed here with
the rounding rules of models/money.py, and bills total their rounded lines.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import LineKind
from models.money import (
    QUANTITY_SCALE,
    BillTotals,
    LineAmounts,
    bill_totals,
    line_amounts,
)
from models.writes import add_in_order
from resolvers.validation import Checks, scaled

MAX_LINES = 200
MAX_QUANTITY_MILLI = 1_000_000 * QUANTITY_SCALE
MAX_UNIT_AMOUNT = 10**11  # a billion in a two-decimal currency: far above any real line


def line_values(checks: Checks, lines: Any, *, optional_allowed: bool) -> list[dict[str, Any]]:
    """Cleaned, priced lines in order; problems are named `lineItems.<index>.<field>`."""
    if len(lines) > MAX_LINES:
        checks.fail("lineItems", f"At most {MAX_LINES} line items.", "TOO_LONG")
        return []
    cleaned = []
    for index, line in enumerate(lines):
        at = f"lineItems.{index}"
        description = checks.text(f"{at}.description", line.description, 500, required=True)
        quantity = scaled(line.quantity, QUANTITY_SCALE)
        if quantity is None or not 0 < quantity <= MAX_QUANTITY_MILLI:
            checks.fail(f"{at}.quantity", "Use a positive quantity with up to 3 decimals.")
            quantity = 0
        tax_rate = checks.percent(f"{at}.taxRate", line.tax_rate) or 0
        for name, amount in (("unitPrice", line.unit_price), ("unitCost", line.unit_cost)):
            if amount is not None and not 0 <= amount <= MAX_UNIT_AMOUNT:
                checks.fail(f"{at}.{name}", "Use a non-negative amount in minor units.")
        if line.optional and not optional_allowed:
            checks.fail(f"{at}.optional", "Only estimate lines can be optional.")
        amounts = line_amounts(quantity, line.unit_price, tax_rate)
        cleaned.append(
            {
                "position": index,
                "kind": line.kind or LineKind.OTHER,
                "description": description,
                "quantity_milli": quantity,
                "unit_price": line.unit_price,
                "unit_cost": line.unit_cost,
                "tax_rate_bp": tax_rate,
                "subtotal": amounts.subtotal,
                "tax": amounts.tax,
                "total": amounts.total,
                **({"optional": bool(line.optional)} if optional_allowed else {}),
            }
        )
    return cleaned


def totals_of(lines: list[dict[str, Any]]) -> BillTotals:
    return bill_totals(LineAmounts(line["subtotal"], line["tax"], line["total"]) for line in lines)


async def replace_lines(
    session: AsyncSession,
    line_model: type[Any],
    parent_column: str,
    bill: Any,
    lines: list[dict[str, Any]],
) -> None:
    """Make `lines` the bill's line items and its totals their sums."""
    table: sa.Table = line_model.__table__
    await session.execute(sa.delete(table).where(table.c[parent_column] == bill.id))
    rows = [
        line_model(
            id=uuid.uuid4(),
            organization_id=bill.organization_id,
            **{parent_column: bill.id},
            **line,
        )
        for line in lines
    ]
    totals = totals_of(lines)
    bill.subtotal, bill.tax_total, bill.total = totals.subtotal, totals.tax_total, totals.total
    await add_in_order(session, rows)
