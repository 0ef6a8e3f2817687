"""Line items of invoices and estimates as clients send them, checked at the edge.

Clients send quantities, unit prices and tax rates; the domain prices them
(domain/billing/lines.py). Problems are named `lineItems.<index>.<field>`.
"""

from __future__ import annotations

from typing import Any

from domain.billing.lines import (
    MAX_LINES,
    MAX_QUANTITY_MILLI,
    MAX_UNIT_AMOUNT,
    NOT_OPTIONAL,
    LineInput,
)
from domain.problems import Common
from models.enums import LineKind
from models.money import QUANTITY_SCALE
from resolvers.validation import Checks, scaled


def line_inputs(checks: Checks, lines: Any, *, optional_allowed: bool) -> list[LineInput]:
    """The lines in order, cleaned; every problem is recorded in `checks`."""
    if len(lines) > MAX_LINES:
        checks.fail("lineItems", f"At most {MAX_LINES} line items.", Common.TOO_LONG)
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
            checks.fail(f"{at}.optional", NOT_OPTIONAL)
        discount_bp = checks.percent(f"{at}.discountPercent", line.discount_percent)
        fixed = line.discount_amount
        if fixed is not None and not 0 <= fixed <= MAX_UNIT_AMOUNT:
            checks.fail(f"{at}.discountAmount", "Use a non-negative amount in minor units.")
        if discount_bp is not None and fixed is not None:
            checks.fail(f"{at}.discountAmount", "Give a percentage or an amount, not both.")
        cleaned.append(
            LineInput(
                kind=line.kind or LineKind.OTHER,
                description=description,
                quantity_milli=quantity,
                unit_price=line.unit_price,
                unit_cost=line.unit_cost,
                tax_rate_bp=tax_rate,
                optional=bool(line.optional) and optional_allowed,
                discount_bp=discount_bp or None,
                discount_fixed=fixed or None,
            )
        )
    return cleaned
