"""Applying Stripe's word on payments: webhook events and reconciliation.

Every effect is idempotent and monotonic. An event id is recorded once, in the same
transaction as its effect; a PaymentIntent's money is recorded once per invoice however
often it is reported (webhook, replay, reconciliation); refunds and disputes follow Stripe's
cumulative state (domain/payments/charges.py), and one reported before its payment is kept and
applied with it; a failure never undoes a success.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.audit import system_audit
from domain.billing_mail import send_receipt
from domain.notifications import notify_staff
from domain.payments.charges import (
    CHARGE_EVENTS,
    Applied,
    apply_charge_change,
    apply_waiting,
    charge_change_of,
    keep_waiting,
    lock_payment,
)
from domain.webhooks.events import emit, settle_told
from mail.recipients import Recipient
from models import (
    Contact,
    Customer,
    Estimate,
    Invoice,
    Organization,
    Payment,
)
from models.base import dialect_of
from models.currency import format_money
from models.db import Database
from models.enums import NotificationKind, PaymentMethod, PaymentStatus
from models.tables import payments, provider_events
from models.types import utcnow
from models.writes import get_for_update
from payments.requests import Allocation, PaymentRequest, decode_allocations

log = logging.getLogger("portico.payments")


class WrongAccount(Exception):
    """The event's connected account is not the organization's: refused, and logged."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """A PaymentIntent Stripe says succeeded, from a webhook or from reconciliation."""

    payment_intent_id: str
    amount: int
    currency: str
    metadata: dict[str, str]
    charge_id: str | None = None


def settlement_of(intent: dict[str, Any]) -> Settlement:
    charge = intent.get("latest_charge")
    if charge is None:  # older API versions list the charges instead
        charges = (intent.get("charges") or {}).get("data") or []
        charge = charges[0]["id"] if charges else None
    return Settlement(
        payment_intent_id=intent["id"],
        amount=int(intent.get("amount_received") or intent["amount"]),
        currency=str(intent["currency"]).upper(),
        metadata=dict(intent.get("metadata") or {}),
        charge_id=charge if isinstance(charge, str) else None,
    )


def settlement_of_request(request: PaymentRequest) -> Settlement:
    """A PaymentIntent Stripe answered `succeeded` to at once (a saved card)."""
    return Settlement(
        payment_intent_id=request.payment_intent_id or "",
        amount=request.amount,
        currency=request.currency.upper(),
        metadata=dict(request.metadata or {}),
    )


class Outcome(StrEnum):
    """What became of a verified event."""

    APPLIED = "APPLIED"  # its effect is recorded
    PENDING = "PENDING"  # kept, and applied when the payment it is about is recorded
    IGNORED = "IGNORED"  # a repeat, test mode in production, or not about Portico's money


async def handle_event(db: Database, event: dict[str, Any], *, production: bool) -> Outcome:
    """Apply one verified event, or keep it until it can be. Raises WrongAccount."""
    if production and not event.get("livemode", False):
        log.info("ignored test-mode event %s in production", event.get("id"))
        return Outcome.IGNORED
    kind = str(event.get("type", ""))
    obj = event["data"]["object"]
    async with db.write() as session:
        org = await _organization(session, kind, obj, event.get("account"))
        if org is None:
            return Outcome.IGNORED
        if not await _first_delivery(session, event["id"], org.id, kind):
            return Outcome.IGNORED
        match kind:
            case "payment_intent.succeeded":
                await apply_success(session, org, settlement_of(obj))
            case "payment_intent.payment_failed":
                await _record_failure(session, org, obj)
            case "account.updated":
                org.stripe_charges_enabled = bool(obj.get("charges_enabled"))
                org.updated_at = utcnow()
            case _:  # a refund or dispute (CHARGE_EVENTS)
                change = charge_change_of(kind, obj)
                if change.key is None:
                    log.warning("event %s names no payment: ignored", event["id"])
                elif await apply_charge_change(session, org, change) is Applied.NO_PAYMENT:
                    # Its payment is not recorded yet: acknowledged only once it is kept.
                    await keep_waiting(session, event["id"], kind, change, obj)
                    log.info("event %s waits for payment %s", event["id"], change.key)
                    return Outcome.PENDING
    return Outcome.APPLIED


HANDLED = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "account.updated",
    *CHARGE_EVENTS,
}


async def _organization(
    session: AsyncSession, kind: Any, obj: dict[str, Any], account: Any
) -> Organization | None:
    """The organization the event concerns, which must own the event's connected account."""
    if kind not in HANDLED:
        return None
    if kind == "account.updated":
        account = account or obj.get("id")
        found = await session.execute(
            sa.select(Organization).where(Organization.stripe_account_id == account)
        )
        org = found.scalar_one_or_none()
        if org is None:
            raise WrongAccount(f"no organization has account {account}")
        return org
    org_id = (obj.get("metadata") or {}).get("portico_org")
    org = None
    if org_id:
        org = await session.get(Organization, _uuid(org_id))
    elif kind in CHARGE_EVENTS and account:
        # Charges and disputes need not carry the PaymentIntent's metadata, and may come
        # before it: the connected account they happened on names the organization.
        found = await session.execute(
            sa.select(Organization).where(Organization.stripe_account_id == account)
        )
        org = found.scalar_one_or_none()
    if org is None:
        log.info("event about an object Portico did not create: ignored")
        return None
    if not account or account != org.stripe_account_id:
        raise WrongAccount(f"event account {account} is not organization {org.id}'s")
    return org


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _first_delivery(
    session: AsyncSession, event_id: str, org_id: uuid.UUID, kind: str
) -> bool:
    """Record the event id; False when it was already recorded (a repeat delivery)."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    stmt = (
        insert(provider_events)
        .values(id=event_id, organization_id=org_id, type=kind, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=[provider_events.c.id])
        .returning(provider_events.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def apply_success(session: AsyncSession, org: Organization, paid: Settlement) -> bool:
    """Record the money of a succeeded PaymentIntent once per invoice (or estimate deposit).
    True when anything new was recorded."""
    await lock_payment(session, paid.payment_intent_id, paid.charge_id)
    meta = paid.metadata
    customer_id = _uuid(meta.get("portico_customer", ""))
    if customer_id is None:
        log.warning("payment %s has no customer in its metadata", paid.payment_intent_id)
        return False
    payer_id = _uuid(meta.get("portico_payer", "")) if meta.get("portico_payer") else None
    targets = await _targets(session, org, meta, paid.amount)
    recorded = 0
    for invoice, estimate, amount in targets:
        if amount <= 0 or await _already_recorded(
            session, paid.payment_intent_id, invoice, estimate
        ):
            continue
        payment = Payment(
            organization_id=org.id,
            customer_id=customer_id,
            invoice_id=invoice.id if invoice else None,
            estimate_id=estimate.id if estimate else None,
            amount=amount,
            currency=paid.currency,
            method=PaymentMethod.CARD_ONLINE,
            status=PaymentStatus.SUCCEEDED,
            provider_payment_intent_id=paid.payment_intent_id,
            provider_charge_id=paid.charge_id,
            received_at=utcnow(),
            payer_contact_id=payer_id,
        )
        session.add(payment)
        await emit(session, "payment.succeeded", payment)
        if invoice is not None:
            await settle_told(session, invoice)
        recorded += amount
    if recorded:
        await _tell_everyone(session, org, customer_id, payer_id, paid, recorded)
    # Refunds and disputes Stripe reported before this success apply now.
    await apply_waiting(session, org, paid.payment_intent_id, paid.charge_id)
    return recorded > 0


async def _targets(
    session: AsyncSession, org: Organization, meta: dict[str, str], amount: int
) -> list[tuple[Invoice | None, Estimate | None, int]]:
    """Where the money goes, never more in all than Stripe received."""
    if meta.get("portico_kind") == "deposit":
        estimate_id = _uuid(meta.get("portico_estimate", ""))
        estimate = (
            await get_for_update(session, Estimate, org.id, estimate_id) if estimate_id else None
        )
        if estimate is None:
            return []
        billed = await session.execute(
            sa.select(Invoice).where(col(Invoice.estimate_id) == estimate.id).with_for_update()
        )
        return [(billed.scalar_one_or_none(), estimate, amount)]
    allocations: list[Allocation] = decode_allocations(meta.get("portico_allocation", ""))
    left = amount
    targets: list[tuple[Invoice | None, Estimate | None, int]] = []
    for allocation in sorted(allocations, key=lambda a: a.invoice_id):  # one lock order
        invoice = await get_for_update(session, Invoice, org.id, allocation.invoice_id)
        share = min(allocation.amount, left)
        left -= share
        if invoice is not None:
            targets.append((invoice, None, share))
    return targets


async def _already_recorded(
    session: AsyncSession, intent_id: str, invoice: Invoice | None, estimate: Estimate | None
) -> bool:
    stmt = sa.select(payments.c.id).where(payments.c.provider_payment_intent_id == intent_id)
    if estimate is not None:
        stmt = stmt.where(payments.c.estimate_id == estimate.id)
    elif invoice is not None:
        stmt = stmt.where(payments.c.invoice_id == invoice.id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def _tell_everyone(
    session: AsyncSession,
    org: Organization,
    customer_id: uuid.UUID,
    payer_id: uuid.UUID | None,
    paid: Settlement,
    amount: int,
) -> None:
    customer = await session.get(Customer, customer_id)
    name = customer.name if customer else "Customer"
    payer = await session.get(Contact, payer_id) if payer_id else customer
    if payer is not None and payer.email:  # receipts go to the payer, whatever they prefer
        await send_receipt(
            session,
            org,
            Recipient(name=payer.name, email=payer.email),
            amount,
            paid.currency,
            f"your account with {org.name}",
        )
    await notify_staff(
        session,
        org,
        NotificationKind.PAYMENT_RECEIVED,
        f"Payment received: {format_money(amount, paid.currency)} from {name}",
        f"Paid online (Stripe {paid.payment_intent_id}).",
        subject_type="Customer",
        subject_id=customer_id,
    )
    session.add(
        system_audit(
            org.id,
            "payment.received",
            customer_id=customer_id,
            contact_id=payer_id,
            data={"payment_intent": paid.payment_intent_id, "amount": amount},
        )
    )


async def _record_failure(session: AsyncSession, org: Organization, intent: dict[str, Any]) -> None:
    """A failed attempt changes no money; a success already recorded stays recorded."""
    error = intent.get("last_payment_error") or {}
    customer_id = _uuid((intent.get("metadata") or {}).get("portico_customer", ""))
    session.add(
        system_audit(
            org.id,
            "payment.failed",
            customer_id=customer_id,
            data={"payment_intent": intent["id"], "code": error.get("code")},
        )
    )
