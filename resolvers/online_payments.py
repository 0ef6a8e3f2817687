"""A portal viewer pays open invoices online.

Nothing is written here: the amount is worked out from the invoices as they stand, Stripe is
asked for a PaymentIntent on the organization's account, and the client gets what it needs
to take the card. The invoices change only when Stripe confirms (domain/payments/stripe_events.py).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from strawberry import Info

from auth.access import row_scope
from core.errors import NotFound
from core.ids import decode_id_of
from domain.audit import audit
from domain.payments.refusals import PAYABLE, not_payable, provider_problem
from domain.payments.stripe_events import apply_success, settlement_of_request
from models import Organization, PortalSettings
from models.money import amount_due
from models.tables import customers, invoices, organizations, portal_settings
from models.tables import payment_methods as methods
from payments.requests import (
    MAX_INVOICES,
    Allocation,
    PaymentRequest,
    SavedCard,
    encode_allocations,
    idempotency_key,
    payments_enabled,
    request_payment,
)
from payments.stripe_api import ProviderRejected, ProviderUnavailable
from resolvers.validation import Checks, Problem, Rejected

CLIENT_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,200}$")


@dataclass
class PayOutcome:
    request: PaymentRequest | None = None
    problems: list[Problem] = field(default_factory=list)


def allocate(bills: list[Any], amount: int) -> list[Allocation]:
    """Oldest due first: each invoice is paid off before the next gets anything."""
    ordered = sorted(bills, key=lambda b: (b["due_date"] or b["issue_date"], b["number"] or 0))
    allocations, left = [], amount
    for bill in ordered:
        share = min(amount_due(bill), left)
        if share > 0:
            allocations.append(Allocation(bill["id"], share))
            left -= share
    return allocations


def payable_amount(bills: list[Any], requested: int | None, options: PortalSettings | None) -> int:
    """The full balance, or a part of it where the organization allows that."""
    due = sum(amount_due(b) for b in bills)
    if requested is None or requested == due:
        return due
    if requested > due:
        raise Rejected(Problem("amount", "More than is due.", "OVERPAYMENT"))
    if options is None or not options.allow_partial_payment:
        raise Rejected(Problem("amount", "Pay the full balance.", "PARTIAL_PAYMENT_NOT_ALLOWED"))
    if requested < max(options.minimum_partial_amount, 1):
        raise Rejected(Problem("amount", "Below the minimum payment.", "BELOW_MINIMUM"))
    return requested


async def pay_invoices(info: Info, data: Any) -> PayOutcome:
    ctx = info.context
    checks = Checks()
    if not 1 <= len(data.invoice_ids) <= MAX_INVOICES:
        checks.fail("invoiceIds", f"Pay from 1 to {MAX_INVOICES} invoices at once.")
    if not CLIENT_KEY.match(data.idempotency_key):
        checks.fail("idempotencyKey", "Use 8 to 200 letters, digits, '-', '_', ':' or '.'.")
    if data.amount is not None and data.amount <= 0:
        checks.fail("amount", "Use a positive amount in minor units.")
    try:
        checks.done()
        wanted = {decode_id_of("Invoice", gid) for gid in data.invoice_ids}
        bills, org, options = await _read(ctx, wanted)
        if not payments_enabled(org, options):
            raise Rejected(
                Problem("invoiceIds", "Online payment is not available.", "PAYMENTS_NOT_ENABLED")
            )
        if any(b["status"] not in PAYABLE for b in bills):
            raise Rejected(not_payable("invoiceIds"))
        currencies = {b["currency"] for b in bills}
        if len(currencies) > 1:
            raise Rejected(
                Problem("invoiceIds", "Pay invoices of one currency at a time.", "MIXED_CURRENCIES")
            )
        amount = payable_amount(bills, data.amount, options)
        allocations = allocate(bills, amount)
        card = await _saved_card(ctx, data.payment_method_id)
        request = await _request(
            ctx, org, options, bills, allocations, amount, data.idempotency_key, card
        )
    except Rejected as rejected:
        return PayOutcome(problems=rejected.problems)
    async with ctx.write() as session:
        if request.status == "succeeded":  # a saved card, charged at once
            await apply_success(session, org, settlement_of_request(request))
        session.add(
            audit(
                ctx,
                "payment.requested",
                subject_type="Invoice",
                subject_id=allocations[0].invoice_id,
                data={"amount": amount, "payment_intent": request.payment_intent_id},
            )
        )
    return PayOutcome(request=request)


async def _saved_card(ctx: Any, gid: str | None) -> SavedCard | None:
    """The viewer's customer's saved card named by `paymentMethodId`, if any."""
    if gid is None:
        return None
    card_id = decode_id_of("SavedPaymentMethod", gid)
    scope = row_scope(ctx.viewer)
    rows = await ctx.reader.rows(
        sa.select(methods.c.stripe_payment_method_id, customers.c.stripe_customer_id)
        .join(customers, customers.c.id == methods.c.customer_id)
        .where(methods.c.id == card_id, *scope.conditions(methods)),
        scope.params,
    )
    if not rows or not rows[0]["stripe_customer_id"]:
        raise NotFound(global_id=gid)
    return SavedCard(rows[0]["stripe_customer_id"], rows[0]["stripe_payment_method_id"])


async def _read(
    ctx: Any, wanted: set[uuid.UUID]
) -> tuple[list[Any], Organization, PortalSettings | None]:
    scope = row_scope(ctx.viewer)
    stmt = sa.select(invoices).where(invoices.c.id.in_(sorted(wanted)), *scope.conditions(invoices))
    bills = list(await ctx.reader.rows(stmt, scope.params))
    if len(bills) != len(wanted):  # one the viewer may not see is answered like a missing one
        missing = min(wanted - {bill["id"] for bill in bills})
        raise NotFound(row=("Invoice", missing))
    org_id = bills[0]["organization_id"]
    org_rows = await ctx.reader.rows(sa.select(organizations).where(organizations.c.id == org_id))
    option_rows = await ctx.reader.rows(
        sa.select(portal_settings).where(portal_settings.c.organization_id == org_id)
    )
    org = Organization(**org_rows[0])
    options = PortalSettings(**option_rows[0]) if option_rows else None
    return bills, org, options


async def _request(
    ctx: Any,
    org: Organization,
    options: PortalSettings | None,
    bills: list[Any],
    allocations: list[Allocation],
    amount: int,
    client_key: str,
    card: SavedCard | None = None,
) -> PaymentRequest:
    viewer = ctx.viewer
    numbers = ", ".join(f"#{b['number']}" for b in sorted(bills, key=lambda b: b["number"]))
    try:
        return await request_payment(
            ctx.settings,
            org,
            options,
            amount=amount,
            currency=bills[0]["currency"],
            metadata={
                "portico_kind": "invoices",
                "portico_customer": str(viewer.customer_id),
                "portico_payer": str(viewer.contact_id or ""),
                "portico_allocation": encode_allocations(allocations),
            },
            # The client's key, scoped to this payer: a retry after a timeout gets the
            # same PaymentIntent; the same key for a different payment is refused.
            key=idempotency_key("pay", org.id, viewer.customer_id, viewer.contact_id, client_key),
            description=f"{org.name}: invoice {numbers}",
            card=card,
        )
    except (ProviderUnavailable, ProviderRejected) as error:
        if isinstance(error, ProviderRejected) and error.code == "card_declined":
            raise Rejected(
                Problem("paymentMethodId", "The card was declined.", "CARD_DECLINED")
            ) from error
        if isinstance(error, ProviderRejected) and error.code == "idempotency_error":
            raise Rejected(
                Problem(
                    "idempotencyKey",
                    "This key was used for another payment.",
                    "IDEMPOTENCY_KEY_REUSED",
                )
            ) from error
        raise Rejected(provider_problem(error, "invoiceIds")) from error
