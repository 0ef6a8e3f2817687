"""A portal viewer pays open invoices online.

Nothing about the invoices is written here: the amount is worked out from them as they
stand, Stripe is asked for a PaymentIntent on the organization's account (outside any
transaction), and the client gets what it needs to take the card. The invoices change only
when Stripe confirms (domain/payments/stripe_events.py), or at once when a saved card was
charged on the spot.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import row_scope
from core.errors import NotFound
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.payments.refusals import PAYABLE, not_payable, positive_amount, provider_problem
from domain.payments.stripe_events import apply_success, settlement_of_request
from domain.problems import Problem, Rejected
from domain.work import Work
from models import Organization, PortalSettings
from models.money import amount_due
from models.tables import customers, invoices
from models.tables import payment_methods as methods
from payments.requests import (
    MAX_INVOICES,
    Allocation,
    PaymentRequest,
    SavedCard,
    encode_allocations,
    idempotency_key,
    online_payments_open,
    request_payment,
)
from payments.stripe_api import ProviderRejected, ProviderUnavailable

CLIENT_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,200}$")

Bill = Mapping[Any, Any]  # an invoice's row (a row mapping, or a dict)


@dataclass(frozen=True, slots=True)
class Asked:
    """What Stripe is asked for: the invoices as they stand, whose they are, the amount
    and how it pays them off, and the saved card to charge, if any."""

    bills: Sequence[Bill]
    org: Organization
    options: PortalSettings | None
    amount: int
    allocations: list[Allocation]
    card: SavedCard | None


def allocate(bills: Sequence[Bill], amount: int) -> list[Allocation]:
    """Oldest due first: each invoice is paid off before the next gets anything."""
    ordered = sorted(bills, key=lambda b: (b["due_date"] or b["issue_date"], b["number"] or 0))
    allocations, left = [], amount
    for bill in ordered:
        share = min(amount_due(bill), left)
        if share > 0:
            allocations.append(Allocation(bill["id"], share))
            left -= share
    return allocations


def payable_amount(
    bills: Sequence[Bill], requested: int | None, options: PortalSettings | None
) -> int:
    """The full balance, or a part of it where the organization allows that."""
    due = sum(amount_due(b) for b in bills)
    if requested is None or requested == due:
        return due
    if requested > due:
        raise Rejected(Problem("amount", "More than is due.", BillingCode.OVERPAYMENT))
    if options is None or not options.allow_partial_payment:
        raise Rejected(
            Problem("amount", "Pay the full balance.", BillingCode.PARTIAL_PAYMENT_NOT_ALLOWED)
        )
    if requested < max(options.minimum_partial_amount, 1):
        raise Rejected(Problem("amount", "Below the minimum payment.", BillingCode.BELOW_MINIMUM))
    return requested


def check_request(invoice_count: int, client_key: str, amount: int | None) -> None:
    """The request's own shape, before any ID in it is looked at."""
    problems = []
    if not 1 <= invoice_count <= MAX_INVOICES:
        problems.append(Problem("invoiceIds", f"Pay from 1 to {MAX_INVOICES} invoices at once."))
    if not CLIENT_KEY.match(client_key):
        problems.append(
            Problem("idempotencyKey", "Use 8 to 200 letters, digits, '-', '_', ':' or '.'.")
        )
    problems += positive_amount("amount", amount)
    if problems:
        raise Rejected(*problems)


async def pay_invoices(
    work: Work,
    invoice_ids: set[uuid.UUID],
    client_key: str,
    *,
    amount: int | None = None,
    card_id: uuid.UUID | None = None,
) -> PaymentRequest:
    """Ask Stripe for the payment of the viewer's open invoices (all of one currency),
    charged to a saved card at once when one is named. `client_key` is the client's for
    this payment: the same key again (a retry) gets the same PaymentIntent."""
    async with work.write() as session:  # reads only: nothing is locked or written
        asked = await _asked(session, work, invoice_ids, amount, card_id)
    request = await _request(work, asked, client_key)
    async with work.write() as session:
        if request.status == "succeeded":  # a saved card, charged at once
            await apply_success(session, asked.org, settlement_of_request(request))
        session.add(
            audit(
                work,
                "payment.requested",
                subject_type="Invoice",
                subject_id=asked.allocations[0].invoice_id,
                data={"amount": asked.amount, "payment_intent": request.payment_intent_id},
            )
        )
    return request


async def _asked(
    session: AsyncSession,
    work: Work,
    wanted: set[uuid.UUID],
    requested: int | None,
    card_id: uuid.UUID | None,
) -> Asked:
    """The invoices as they stand, checked, and what to ask for them."""
    scope = row_scope(work.viewer)
    stmt = sa.select(invoices).where(invoices.c.id.in_(sorted(wanted)), *scope.conditions(invoices))
    bills = [row._mapping for row in await session.execute(stmt, scope.params)]
    if len(bills) != len(wanted):  # one the viewer may not see is answered like a missing one
        missing = min(wanted - {bill["id"] for bill in bills})
        raise NotFound(row=("Invoice", missing))
    org = await session.get(Organization, bills[0]["organization_id"])
    assert org is not None  # the invoice's foreign key holds it
    options = await session.get(PortalSettings, org.id)
    if not online_payments_open(org, options):
        message = "Online payment is not available."
        raise Rejected(Problem("invoiceIds", message, BillingCode.PAYMENTS_NOT_ENABLED))
    if any(b["status"] not in PAYABLE for b in bills):
        raise Rejected(not_payable("invoiceIds"))
    if len({b["currency"] for b in bills}) > 1:
        message = "Pay invoices of one currency at a time."
        raise Rejected(Problem("invoiceIds", message, BillingCode.MIXED_CURRENCIES))
    amount = payable_amount(bills, requested, options)
    card = await _saved_card(session, work, card_id) if card_id is not None else None
    return Asked(bills, org, options, amount, allocate(bills, amount), card)


async def _saved_card(session: AsyncSession, work: Work, card_id: uuid.UUID) -> SavedCard:
    """The viewer's customer's saved card named by `paymentMethodId`."""
    scope = row_scope(work.viewer)
    found = await session.execute(
        sa.select(methods.c.stripe_payment_method_id, customers.c.stripe_customer_id)
        .join(customers, customers.c.id == methods.c.customer_id)
        .where(methods.c.id == card_id, *scope.conditions(methods)),
        scope.params,
    )
    row = found.first()
    if row is None or not row.stripe_customer_id:
        raise NotFound(row=("SavedPaymentMethod", card_id))
    return SavedCard(row.stripe_customer_id, row.stripe_payment_method_id)


async def _request(work: Work, asked: Asked, client_key: str) -> PaymentRequest:
    viewer, org = work.viewer, asked.org
    numbers = ", ".join(f"#{b['number']}" for b in sorted(asked.bills, key=lambda b: b["number"]))
    try:
        return await request_payment(
            work.settings,
            org,
            asked.options,
            amount=asked.amount,
            currency=asked.bills[0]["currency"],
            metadata={
                "portico_kind": "invoices",
                "portico_customer": str(viewer.customer_id),
                "portico_payer": str(viewer.contact_id or ""),
                "portico_allocation": encode_allocations(asked.allocations),
            },
            # The client's key, scoped to this payer: a retry after a timeout gets the
            # same PaymentIntent; the same key for a different payment is refused.
            key=idempotency_key("pay", org.id, viewer.customer_id, viewer.contact_id, client_key),
            description=f"{org.name}: invoice {numbers}",
            card=asked.card,
        )
    except ProviderRejected as error:
        if error.code == "card_declined":
            message = "The card was declined."
            code = BillingCode.CARD_DECLINED
            raise Rejected(Problem("paymentMethodId", message, code)) from error
        if error.code == "idempotency_error":
            message = "This key was used for another payment."
            code = BillingCode.IDEMPOTENCY_KEY_REUSED
            raise Rejected(Problem("idempotencyKey", message, code)) from error
        raise Rejected(provider_problem(error, "invoiceIds")) from error
    except ProviderUnavailable as error:
        raise Rejected(provider_problem(error, "invoiceIds")) from error
