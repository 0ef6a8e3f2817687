"""What the invoice and estimate mutations share at the edge: the car's ID decoded, the
lines checked, the currency cleaned. The rules are the domain's (domain/billing/bills.py)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypeVar

from strawberry import UNSET

from core.ids import decode_id_of
from domain.billing.lines import MAX_UNIT_AMOUNT, BillDiscount, LineInput
from domain.edits import KEEP, Edit
from resolvers.bill_lines import line_inputs
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from _typeshed import DataclassInstance

    from schema.mutations.billing import CreateInvoiceInput, InvoiceFields
    from schema.mutations.estimates import CreateEstimateInput, EstimateFields

D = TypeVar("D", bound="DataclassInstance")


def with_car(details: D, data: InvoiceFields | EstimateFields) -> D:
    """The details with the car the input names: None to clear, KEEP when not sent. Decoded
    after the bill's own ID, as the domain looks the car up after the bill."""
    if data.car_id is UNSET:
        return details
    car_id = None if data.car_id is None else decode_id_of("Car", data.car_id)
    return dataclasses.replace(details, car_id=car_id)


def lines_of(
    checks: Checks, data: InvoiceFields | EstimateFields, *, optional_allowed: bool
) -> Edit[list[LineInput]]:
    """The checked lines when sent (null keeps them too)."""
    if data.line_items is UNSET or data.line_items is None:
        return KEEP
    return line_inputs(checks, data.line_items, optional_allowed=optional_allowed)


def discount_of(checks: Checks, data: InvoiceFields | EstimateFields) -> Edit[BillDiscount]:
    """The whole bill's discount when either field is sent (null in both removes it)."""
    if data.discount_percent is UNSET and data.discount_amount is UNSET:
        return KEEP
    percent = None if data.discount_percent is UNSET else data.discount_percent
    fixed = None if data.discount_amount is UNSET else data.discount_amount
    points = checks.percent("discountPercent", percent)
    if fixed is not None and not 0 <= fixed <= MAX_UNIT_AMOUNT:
        checks.fail("discountAmount", "Use a non-negative amount in minor units.")
    if points is not None and fixed is not None:
        checks.fail("discountAmount", "Give a percentage or an amount, not both.")
    return BillDiscount(points or None, fixed or None)


def currency_of(data: CreateInvoiceInput | CreateEstimateInput) -> str | None:
    """The currency a new bill asks for (None: the organization's)."""
    checks = Checks(creating=True)
    currency = checks.currency("currency", data.currency) if data.currency else None
    checks.done()
    return currency
