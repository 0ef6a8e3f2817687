"""What happens to a card payment after it succeeded: refunds and disputes at Stripe.

Stripe reports both as the charge's cumulative state (`amount_refunded`; a dispute's amount
and status), so applying a report is a move towards that state, never a delta: a repeat
changes nothing, and reports applied in any order end in the same place. Refunds only
grow; a dispute's status only moves from open to final (won or lost). A refund staff asked
of Stripe whose answer is not recorded yet (pending: domain/payments/refunds.py) counts as
recorded, so a report that includes it adds nothing, and recording the answer counts it.

A report may come before the payment it is about (Stripe does not keep its events in
order): it is then kept with the PaymentIntent it waits for (`ProviderEvent.waiting_for`)
and applied in the transaction that records that payment (`apply_waiting`). Both sides
take the same per-PaymentIntent lock first, so one of them always sees the other.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.audit import system_audit
from domain.notifications import notify_staff
from domain.webhooks.events import settle_told
from models import Invoice, Organization, Payment, ProviderEvent, Refund
from models.base import dialect_of
from models.currency import format_money
from models.enums import DisputeStatus, NotificationKind, RefundStatus
from models.ledger import RECEIVED, refund_status
from models.types import utcnow
from models.writes import get_for_update

REFUNDED = "charge.refunded"
DISPUTE_EVENTS = {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"}
CHARGE_EVENTS = {REFUNDED, *DISPUTE_EVENTS}

# Stripe's dispute statuses that end it; every other status is a dispute still open.
# `warning_closed`: an inquiry that never became a chargeback, so the money stays.
_FINAL = {"won": DisputeStatus.WON, "lost": DisputeStatus.LOST, "warning_closed": DisputeStatus.WON}


def dispute_status_of(stripe_status: str) -> DisputeStatus:
    return _FINAL.get(stripe_status, DisputeStatus.OPEN)


@dataclass(frozen=True, slots=True)
class ChargeChange:
    """Stripe's word on a charge: its cumulative refunds, or its dispute."""

    payment_intent_id: str | None
    charge_id: str | None
    refunded_total: int | None = None
    dispute_status: DisputeStatus | None = None
    dispute_amount: int = 0

    @property
    def key(self) -> str | None:
        """What the change waits for: the PaymentIntent (or, without one, the charge)."""
        return self.payment_intent_id or self.charge_id


def charge_change_of(kind: str, obj: dict[str, Any]) -> ChargeChange:
    """The change a `charge.refunded` (a charge) or `charge.dispute.*` (a dispute) reports."""
    intent = obj.get("payment_intent")
    intent_id = intent if isinstance(intent, str) or intent is None else intent.get("id")
    if kind == REFUNDED:
        return ChargeChange(
            payment_intent_id=intent_id,
            charge_id=obj.get("id"),
            refunded_total=int(obj.get("amount_refunded") or 0),
        )
    charge = obj.get("charge")
    return ChargeChange(
        payment_intent_id=intent_id,
        charge_id=charge if isinstance(charge, str) or charge is None else charge.get("id"),
        dispute_status=dispute_status_of(str(obj.get("status"))),
        dispute_amount=int(obj.get("amount") or 0),
    )


async def lock_payment(session: AsyncSession, *keys: str | None) -> None:
    """Serialise everything that records or changes one PaymentIntent's money.

    PostgreSQL: a transaction-scoped advisory lock per id (sorted, so two holders of several
    never wait on each other). SQLite: writers are already serialised (BEGIN IMMEDIATE).
    """
    if dialect_of(session) != "postgresql":
        return
    for key in sorted({k for k in keys if k}):
        lock_id = sa.func.hashtextextended(f"stripe-payment:{key}", 0)
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))


class Applied(Enum):
    NO_PAYMENT = "no payment of the PaymentIntent is recorded yet"
    UNCHANGED = "the records already said so"
    CHANGED = "the records were brought up to Stripe's state"


async def apply_charge_change(
    session: AsyncSession, org: Organization, change: ChargeChange
) -> Applied:
    """Bring the payment's records up to Stripe's state. NO_PAYMENT: nothing recorded to
    apply it to yet (the caller keeps the change until there is)."""
    await lock_payment(session, change.key)
    found = await session.execute(
        sa.select(Payment)
        .where(col(Payment.organization_id) == org.id, _same_payment(change))
        .order_by(col(Payment.created_at), col(Payment.id))
        .with_for_update()
    )
    rows = list(found.scalars())
    if not rows:
        return Applied.NO_PAYMENT
    changed = change.refunded_total is not None and await _refund_up_to(
        org, rows, change.refunded_total, session
    )
    before = rows[0].dispute_status
    status = _later(before, change.dispute_status)
    disputed = (
        change.dispute_amount if change.dispute_status else sum(r.disputed_amount for r in rows)
    )
    if status is not None:
        changed = _allocate_dispute(rows, status, disputed) or changed
    if not changed:
        return Applied.UNCHANGED
    for invoice_id in {r.invoice_id for r in rows if r.invoice_id is not None}:
        invoice = await get_for_update(session, Invoice, org.id, invoice_id)
        if invoice is not None:
            await settle_told(session, invoice)
    if status is not None and status != before:
        await _tell_staff_of_dispute(session, org, rows[0], status, disputed)
    return Applied.CHANGED


def _same_payment(change: ChargeChange) -> sa.ColumnElement[bool]:
    if change.payment_intent_id:
        return col(Payment.provider_payment_intent_id) == change.payment_intent_id
    return col(Payment.provider_charge_id) == change.charge_id


async def held_by_refunds(
    session: AsyncSession, payment_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """What pending refunds hold of each payment: asked of Stripe, not answered yet
    (domain/payments/refunds.py)."""
    found = await session.execute(
        sa.select(col(Refund.payment_id), sa.func.sum(col(Refund.amount)))
        .where(col(Refund.payment_id).in_(payment_ids), col(Refund.status) == RefundStatus.PENDING)
        .group_by(col(Refund.payment_id))
    )
    return {payment_id: int(amount) for payment_id, amount in found}


async def _refund_up_to(
    org: Organization, rows: list[Payment], refunded_total: int, session: AsyncSession
) -> bool:
    """Bring the PaymentIntent's refunds up to Stripe's cumulative amount. Stripe speaks of
    the whole PaymentIntent, and its payments count refunds of their own already: those
    recorded, and those staff asked of Stripe whose answer is not recorded yet (Stripe's
    amount may or may not include them). Only what Stripe reports beyond all of those is a
    refund made elsewhere, spread over the payments oldest first. True when any changed."""
    held = await held_by_refunds(session, [payment.id for payment in rows])
    counted = sum(payment.refunded_amount + held.get(payment.id, 0) for payment in rows)
    new = refunded_total - counted
    changed = False
    for payment in rows:
        room = payment.amount - payment.refunded_amount - held.get(payment.id, 0)
        share = min(room, new)
        if share <= 0 or payment.status not in RECEIVED:
            continue
        new -= share
        session.add(
            Refund(
                organization_id=org.id,
                payment_id=payment.id,
                amount=share,
                reason="Refunded at Stripe",
            )
        )
        payment.refunded_amount += share
        payment.status = refund_status(payment.amount, payment.refunded_amount)
        payment.updated_at = utcnow()
        changed = True
    return changed


def _later(current: DisputeStatus | None, reported: DisputeStatus | None) -> DisputeStatus | None:
    """A dispute's status moves from open to final and no further, whatever order its
    events come in."""
    if current in (DisputeStatus.WON, DisputeStatus.LOST) or reported is None:
        return current
    return reported


def _allocate_dispute(rows: list[Payment], status: DisputeStatus, amount: int) -> bool:
    """The disputed amount over what refunds left of each payment, oldest first; a function
    of the totals only, so a refund reported after the dispute still ends the same."""
    changed = False
    left = amount
    for payment in rows:
        share = max(0, min(payment.amount - payment.refunded_amount, left))
        left -= share
        if (payment.disputed_amount, payment.dispute_status) != (share, status):
            payment.disputed_amount = share
            payment.dispute_status = status
            payment.updated_at = utcnow()
            changed = True
    return changed


async def _tell_staff_of_dispute(
    session: AsyncSession, org: Organization, payment: Payment, status: DisputeStatus, amount: int
) -> None:
    money = format_money(amount, payment.currency)
    title = {
        DisputeStatus.OPEN: f"Payment disputed: {money}",
        DisputeStatus.WON: f"Dispute won: {money} kept",
        DisputeStatus.LOST: f"Dispute lost: {money} taken back",
    }[status]
    await notify_staff(
        session,
        org,
        NotificationKind.PAYMENT_DISPUTED,
        title,
        f"Card dispute on Stripe {payment.provider_payment_intent_id}; answer it at Stripe.",
        subject_type="Customer",
        subject_id=payment.customer_id,
    )
    session.add(
        system_audit(
            org.id,
            "payment.disputed",
            customer_id=payment.customer_id,
            data={
                "payment_intent": payment.provider_payment_intent_id,
                "status": status.value,
                "amount": amount,
            },
        )
    )


async def keep_waiting(
    session: AsyncSession, event_id: str, kind: str, change: ChargeChange, obj: dict[str, Any]
) -> None:
    """Keep an event (already recorded by id) until its payment is recorded."""
    await session.execute(
        sa.update(ProviderEvent)
        .where(ProviderEvent.id == event_id)  # type: ignore[arg-type]
        .values(waiting_for=change.key, payload=json.dumps({"type": kind, "object": obj}))
    )


async def apply_waiting(
    session: AsyncSession, org: Organization, intent_id: str, charge_id: str | None
) -> int:
    """Apply the events that came before this payment was recorded; how many were."""
    keys = [k for k in (intent_id, charge_id) if k]
    found = await session.execute(
        sa.select(ProviderEvent)
        .where(
            col(ProviderEvent.organization_id) == org.id,
            col(ProviderEvent.waiting_for).in_(keys),
        )
        .order_by(col(ProviderEvent.received_at), col(ProviderEvent.id))
        .with_for_update()
    )
    applied = 0
    for waiting in found.scalars():
        kept = json.loads(waiting.payload or "{}")
        change = charge_change_of(kept.get("type", ""), kept.get("object") or {})
        if await apply_charge_change(session, org, change) is not Applied.NO_PAYMENT:
            waiting.waiting_for = None
            waiting.payload = None
            applied += 1
    return applied
