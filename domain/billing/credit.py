"""Customer credit, and what a credit note takes off an invoice line: the money rules of
credit notes, in one place.

A credit note's total counts towards its invoice like a payment (`credited_amount`). What
goes beyond what the invoice still owed (it was paid already) is the customer's credit:
models/derived.py `credit_left` summed over their invoices in one currency, the same SQL
the balance shows. An invoice issued later uses that credit first (`use_credit`, counted in
its `credit_applied`), and a card refund of a credited invoice's payment may only give back
credit nobody used yet (`refundable_credit`).

Amounts are integer minor units; a line's share is rounded half away from zero
(models/money.py), and crediting a line to its end takes exactly what was left of it, so the
credit notes of a line never add up to more than the line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Customer, Invoice
from models.derived import NOT_BILLED, credit_left
from models.ledger import settle
from models.money import BASIS_POINTS, QUANTITY_SCALE, amount_due, divide_rounded
from models.tables import invoices
from models.writes import get_for_update


@dataclass(frozen=True, slots=True)
class Credited:
    """What of one invoice line is credited (or is asked to be): its quantity (amount-only
    credits take none) and amounts."""

    quantity_milli: int = 0
    subtotal: int = 0
    tax: int = 0

    @property
    def total(self) -> int:
        return self.subtotal + self.tax

    def __add__(self, other: Credited) -> Credited:
        return Credited(
            self.quantity_milli + other.quantity_milli,
            self.subtotal + other.subtotal,
            self.tax + other.tax,
        )


@dataclass(frozen=True, slots=True)
class InvoicedLine:
    """An invoice line as credit notes see it."""

    quantity_milli: int
    unit_price: int
    tax_rate_bp: int
    subtotal: int
    tax: int


class TooMuch(ValueError):
    """More than is left of the line to credit."""


def line_credit(
    line: InvoicedLine,
    before: Credited,
    *,
    quantity_milli: int | None = None,
    amount: int | None = None,
) -> Credited:
    """What crediting `quantity_milli` of the line (priced as on the invoice), or `amount`
    of its subtotal (with the line's tax on it), takes off, given what earlier credit notes
    took (`before`). Neither given: all that is left. Raises TooMuch beyond what is left,
    and ValueError for nothing to credit."""
    left = Credited(
        line.quantity_milli - before.quantity_milli,
        line.subtotal - before.subtotal,
        line.tax - before.tax,
    )
    if left.subtotal <= 0 and left.tax <= 0:
        raise TooMuch("nothing is left of this line to credit")
    if quantity_milli is None and amount is None:
        return Credited(max(left.quantity_milli, 0), left.subtotal, left.tax)
    if quantity_milli is not None:
        if quantity_milli <= 0:
            raise ValueError("the quantity must be positive")
        if quantity_milli > left.quantity_milli:
            raise TooMuch("more than is left of the line's quantity")
        if quantity_milli == left.quantity_milli:  # the rest of the line, to the unit
            return left
        subtotal = divide_rounded(quantity_milli * line.unit_price, QUANTITY_SCALE)
    else:
        assert amount is not None
        if amount <= 0:
            raise ValueError("the amount must be positive")
        if amount > left.subtotal:
            raise TooMuch("more than is left of the line's amount")
        if amount == left.subtotal:
            return Credited(0, left.subtotal, left.tax)
        subtotal = amount
    tax = divide_rounded(subtotal * line.tax_rate_bp, BASIS_POINTS)
    return Credited(quantity_milli or 0, min(subtotal, left.subtotal), min(tax, left.tax))


def split_credit(due: int, credit: int) -> tuple[int, int]:
    """A credit note of `credit` on an invoice that still owed `due`: what it takes off
    what is due, and what is left over as the customer's credit."""
    applied = min(max(due, 0), credit)
    return applied, credit - applied


def credit_to_use(available: int, due: int) -> int:
    """How much of the customer's credit a newly issued invoice takes: as much as it owes,
    up to what there is."""
    return max(0, min(available, due))


def refundable_credit(invoice: Invoice, held: int, amount: int, available: int) -> bool:
    """Whether refunding `amount` of a payment of `invoice` (with `held` already pending on
    its payments) leaves the customer's credit whole: a refund that takes back covered money
    beyond the invoice's total takes back credit, which must still be unused."""
    credits = invoice.credited_amount + invoice.credit_applied
    covered = invoice.amount_paid + credits - held
    beyond_before = min(max(covered - invoice.total, 0), credits)
    beyond_after = min(max(covered - amount - invoice.total, 0), credits)
    return beyond_before - beyond_after <= available


async def available_credit(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, currency: str
) -> int:
    """The customer's unused credit in `currency` (`credit_left` over their invoices)."""
    found = await session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(credit_left(invoices)), 0)).where(
            invoices.c.organization_id == organization_id,
            invoices.c.customer_id == customer_id,
            invoices.c.currency == currency,
            invoices.c.status.not_in(NOT_BILLED),
        )
    )
    return int(found.scalar_one())


async def lock_customer(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    """Uses of a customer's credit wait on the customer's row, so two never spend it twice."""
    await get_for_update(session, Customer, organization_id, customer_id)


async def use_credit(session: AsyncSession, invoice: Invoice) -> int:
    """A newly issued invoice (locked, in the caller's transaction) takes the customer's
    credit in its currency first. How much it took."""
    await lock_customer(session, invoice.organization_id, invoice.customer_id)
    await session.flush()
    available = await available_credit(
        session, invoice.organization_id, invoice.customer_id, invoice.currency
    )
    used = credit_to_use(available, amount_due(invoice.model_dump()))
    if used > 0:
        invoice.credit_applied += used
        await settle(session, invoice)
    return used
