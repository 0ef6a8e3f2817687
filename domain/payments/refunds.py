"""Staff give money back from a payment.

A cash, cheque or transfer payment's refund is recorded in one transaction. A card
payment's is made by Stripe, and Stripe is never asked while a write transaction is open
(on SQLite that would hold the database's only write lock for as long as Stripe takes). So
a card refund is recorded as an intent, asked of Stripe, then its result recorded:

1. The intent: the payment locked, the amount checked against what is left of it less the
   refunds still pending, and a PENDING refund row written, which holds that amount.
2. The call, with no transaction open: Stripe is asked under an idempotency key made of the
   row's id, which also rides in the refund's metadata.
3. The result: the payment locked again; a refund Stripe made becomes SUCCEEDED and only
   then counts in the payment's `refunded_amount` and the invoice's balance; one Stripe
   refused becomes FAILED and its amount is free again. Only a PENDING row moves on, once.

Stripe's `charge.refunded` carries the PaymentIntent's cumulative refunded amount and may
come before step 3. Pending refunds count as recorded for it (domain/payments/charges.py):
only what Stripe reports beyond the refunds recorded and pending is a refund made elsewhere.
So a refund is counted once whichever comes first; and as the amount is held from step 1,
refunds asked at the same moment never add up to more than was paid.

When the answer is lost (a timeout, a crash between the steps) the row stays PENDING, its
amount held. The same refund asked again (the same amount of the same payment while one is
pending) asks Stripe again under the pending row's key, so Stripe answers with the refund it
made, if it made one, instead of making a second. Otherwise reconciliation finishes it
(`finish_pending`): the row's refund among the PaymentIntent's at Stripe is recorded as
made, and a row Stripe has no refund of as failed.

The row's id is derived from the intent (the payment, how many refunds it had before, the
amount) rather than drawn at random: a mutation sent with an `Idempotency-Key` runs in one
pinned transaction (portico/idempotency.py) in which the steps are savepoints, so a crash
rolls back all three, and the retry makes the same row, the same key, and Stripe one refund.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import row_scope
from core.errors import NotFound
from core.settings import Settings
from domain.audit import audit, system_audit
from domain.billing.codes import BillingCode
from domain.billing.credit import available_credit, lock_customer, refundable_credit
from domain.payments.charges import ChargeChange, apply_charge_change
from domain.payments.refusals import note, positive_amount, provider_problem
from domain.problems import Problem, Rejected
from domain.webhooks.events import emit, settle_told
from domain.work import Work
from models import Invoice, Organization, Payment, Refund
from models.db import Database
from models.enums import PaymentMethod, RefundStatus
from models.ledger import RECEIVED, refund_status
from models.types import utcnow
from models.writes import get_for_update, visible_rows
from payments.stripe_api import ProviderRejected, ProviderUnavailable, RefundInfo, StripeGateway

log = logging.getLogger("portico.payments")

MAX_REASON = 500
# Stripe's refund statuses that give nothing back; any other (succeeded, pending,
# requires_action) is money on its way to the customer.
UNDONE = frozenset({"failed", "canceled"})

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True, slots=True)
class Intent:
    """A card refund recorded as pending: what Stripe is asked."""

    refund_id: uuid.UUID
    organization_id: uuid.UUID
    payment_id: uuid.UUID
    account: str
    payment_intent_id: str
    amount: int

    @property
    def key(self) -> str:
        return f"portico-refund-{self.refund_id}"


async def refund_payment(
    work: Work, payment_id: uuid.UUID, amount: int | None = None, *, reason: str | None = None
) -> uuid.UUID:
    """Give back `amount` of a payment (by default all that is left of it): a card payment
    through Stripe, recorded once Stripe has answered. The payment's id."""
    problems: list[Problem] = []
    reason = note("reason", reason, MAX_REASON, problems)
    problems += positive_amount("amount", amount)
    if problems:
        raise Rejected(*problems)
    intent = await _record_intent(work, payment_id, amount, reason)
    if intent is None:  # not a card payment: recorded already
        return payment_id
    try:
        made = await _ask_stripe(work.settings, intent)
    except ProviderUnavailable as error:
        # Whether Stripe made it is unknown: it stays pending, its amount held, until a
        # retry or reconciliation finds out.
        raise Rejected(provider_problem(error, "paymentId")) from error
    except ProviderRejected as error:
        await _record_refusal(work.write, work.settings, intent)
        raise Rejected(provider_problem(error, "paymentId")) from error
    async with work.write() as session:
        done = await _record_result(session, intent.organization_id, intent.refund_id, made)
        if done is not None:  # else a retry or reconciliation recorded it meanwhile
            session.add(audit(work, "payment.refunded", **_audited(*done)))
    return payment_id


async def _record_intent(
    work: Work, payment_id: uuid.UUID, amount: int | None, reason: str | None
) -> Intent | None:
    """Step 1: the refund recorded (not a card payment) or held as pending (a card
    payment: what to ask Stripe, which may be a pending refund asked again)."""
    async with work.write() as session:
        scope = row_scope(work.viewer)
        found = await visible_rows(session, Payment, scope, [payment_id], lock=True)
        if not found:
            raise NotFound(row=("Payment", payment_id))
        payment = found[0]
        card = payment.method is PaymentMethod.CARD_ONLINE
        pending = await _pending(session, payment.id)
        held = sum(refund.amount for refund in pending)
        again = _asked_again(payment, pending, held, amount) if card else None
        if again is not None:
            return await _intent(session, payment, again)
        remaining = payment.amount - payment.refunded_amount - held
        amount = remaining if amount is None else amount
        if payment.status not in RECEIVED or remaining <= 0:
            raise Rejected(
                Problem("paymentId", "Nothing left to refund.", BillingCode.EXCEEDS_PAYMENT)
            )
        if amount > remaining:
            raise Rejected(
                Problem("amount", "More than is left of the payment.", BillingCode.EXCEEDS_PAYMENT)
            )
        await _keeps_credit(session, payment, amount)
        refund = Refund(
            organization_id=payment.organization_id,
            payment_id=payment.id,
            amount=amount,
            reason=reason,
            recorded_by_staff_id=work.viewer.staff_user_id,
        )
        if not card:
            session.add(refund)
            await _count(session, payment, refund)
            session.add(audit(work, "payment.refunded", **_audited(payment, refund)))
            return None
        refund.id = await _intent_id(session, payment, amount)
        refund.status = RefundStatus.PENDING
        intent = await _intent(session, payment, refund)
        session.add(refund)
        return intent


async def _keeps_credit(session: AsyncSession, payment: Payment, amount: int) -> None:
    """A payment of an invoice credit notes took off (so its money is the customer's
    credit) gives back only credit the customer has not used on other invoices."""
    if payment.invoice_id is None:
        return
    org_id = payment.organization_id
    invoice = await session.get(Invoice, payment.invoice_id)
    if invoice is None or invoice.credited_amount + invoice.credit_applied == 0:
        return
    await lock_customer(session, org_id, payment.customer_id)
    held = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(Refund.amount)), 0))
        .join(Payment, col(Payment.id) == col(Refund.payment_id))
        .where(col(Payment.invoice_id) == invoice.id, col(Refund.status) == RefundStatus.PENDING)
    )
    available = await available_credit(session, org_id, payment.customer_id, invoice.currency)
    if not refundable_credit(invoice, int(held or 0), amount, available):
        message = "The credit this refund would give back has been used on other invoices."
        raise Rejected(Problem("amount", message, BillingCode.CREDIT_USED))


async def _pending(session: AsyncSession, payment_id: uuid.UUID) -> list[Refund]:
    found = await session.execute(
        sa.select(Refund)
        .where(col(Refund.payment_id) == payment_id, col(Refund.status) == RefundStatus.PENDING)
        .order_by(col(Refund.created_at), col(Refund.id))
    )
    return list(found.scalars())


def _asked_again(
    payment: Payment, pending: list[Refund], held: int, amount: int | None
) -> Refund | None:
    """The pending refund this request repeats, if any: one of the same amount (or, asked
    for all that is left, the one that was all that was left when it was asked)."""
    for refund in reversed(pending):
        left_then = payment.amount - payment.refunded_amount - (held - refund.amount)
        if refund.amount == (left_then if amount is None else amount):
            return refund
    return None


async def _intent_id(session: AsyncSession, payment: Payment, amount: int) -> uuid.UUID:
    """The same payment, refunds before and amount give the same id (so the same key at
    Stripe) even when a rolled back attempt left no row behind."""
    before = await session.scalar(
        sa.select(sa.func.count()).select_from(Refund).where(col(Refund.payment_id) == payment.id)
    )
    return uuid.uuid5(payment.id, f"refund:{before}:{amount}")


async def _intent(session: AsyncSession, payment: Payment, refund: Refund) -> Intent:
    org = await session.get(Organization, payment.organization_id)
    if org is None or not org.stripe_account_id or not payment.provider_payment_intent_id:
        raise Rejected(Problem("paymentId", "This payment cannot be refunded online."))
    return Intent(
        refund_id=refund.id,
        organization_id=payment.organization_id,
        payment_id=payment.id,
        account=org.stripe_account_id,
        payment_intent_id=payment.provider_payment_intent_id,
        amount=refund.amount,
    )


async def _ask_stripe(settings: Settings, intent: Intent) -> RefundInfo:
    """Step 2, outside any transaction. Raises ProviderRejected for a refund Stripe will
    not make (refused, or answered as failed)."""
    async with StripeGateway(settings) as gateway:
        made = await gateway.create_refund(
            account=intent.account,
            payment_intent_id=intent.payment_intent_id,
            amount=intent.amount,
            idempotency_key=intent.key,
            metadata={"portico_refund": str(intent.refund_id)},
        )
    if made.status in UNDONE:
        raise ProviderRejected("refund_failed", f"the refund is {made.status}.", None)
    return made


async def _record_result(
    session: AsyncSession,
    organization_id: uuid.UUID,
    refund_id: uuid.UUID,
    made: RefundInfo | None,
) -> tuple[Payment, Refund] | None:
    """Step 3: a pending refund made (SUCCEEDED, counted from now on) or not (FAILED, its
    amount free again). The payment and the refund so finished; None when it was finished
    already (by a retry, or reconciliation)."""
    payment_id = await session.scalar(
        sa.select(col(Refund.payment_id)).where(col(Refund.id) == refund_id)
    )
    if payment_id is None:
        return None
    payment = await get_for_update(session, Payment, organization_id, payment_id)
    refund = await get_for_update(session, Refund, organization_id, refund_id)
    if payment is None or refund is None or refund.status is not RefundStatus.PENDING:
        return None
    refund.updated_at = utcnow()
    if made is None:
        refund.status = RefundStatus.FAILED
        return payment, refund
    refund.status = RefundStatus.SUCCEEDED
    refund.provider_refund_id = made.id
    await _count(session, payment, refund)
    return payment, refund


async def _count(session: AsyncSession, payment: Payment, refund: Refund) -> None:
    """A refund made: off the payment, and off what its invoice has been paid."""
    payment.refunded_amount += refund.amount
    payment.status = refund_status(payment.amount, payment.refunded_amount)
    payment.updated_at = utcnow()
    await emit(session, "payment.refunded", payment)
    if payment.invoice_id is not None:
        org_id = payment.organization_id
        invoice = await get_for_update(session, Invoice, org_id, payment.invoice_id)
        if invoice is not None:
            await settle_told(session, invoice)


def _audited(payment: Payment, refund: Refund) -> dict[str, Any]:
    """The audit row's details of a refund made."""
    reason = {"reason": refund.reason} if refund.reason else {}
    return {
        "customer_id": payment.customer_id,
        "subject_type": "Payment",
        "subject_id": payment.id,
        "data": {"amount": refund.amount, **reason},
    }


async def _record_refusal(write: Transaction, settings: Settings, intent: Intent) -> None:
    """Stripe refused: the refund FAILED, and the PaymentIntent's refunds read again from
    Stripe. A `charge.refunded` that came while this one was pending was taken to include
    it; what it reported of refunds made elsewhere (in Stripe's dashboard) is counted now.
    Reconciliation does it later when Stripe cannot be read now."""
    async with write() as session:
        await _record_result(session, intent.organization_id, intent.refund_id, None)
    try:
        async with StripeGateway(settings) as gateway:
            total = await refunded_at_stripe(gateway, intent.account, intent.payment_intent_id)
    except (ProviderUnavailable, ProviderRejected) as error:
        log.info("refunds of %s not read again: %s", intent.payment_intent_id, error)
        return
    change = ChargeChange(intent.payment_intent_id, None, refunded_total=total)
    async with write() as session:
        org = await session.get(Organization, intent.organization_id)
        if org is not None:
            await apply_charge_change(session, org, change)


async def refunded_at_stripe(gateway: StripeGateway, account: str, payment_intent_id: str) -> int:
    """The PaymentIntent's refunded amount as Stripe has it now (what `charge.refunded`
    would carry)."""
    refunds = await gateway.list_refunds(account=account, payment_intent=payment_intent_id)
    return sum(refund.amount for refund in refunds if refund.status not in UNDONE)


async def finish_pending(
    db: Database, gateway: StripeGateway, organization_id: uuid.UUID, account: str, before: datetime
) -> int:
    """Finish the organization's refunds left pending since before `before` (the answer
    lost to a timeout or a crash): each recorded as Stripe has it, made (found among the
    PaymentIntent's refunds by the row's id in its metadata) or FAILED (not there). How
    many were finished. Raises the gateway's errors when Stripe cannot be read."""
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(col(Refund.id), col(Payment.provider_payment_intent_id))
            .join(Payment, col(Payment.id) == col(Refund.payment_id))
            .where(
                col(Refund.organization_id) == organization_id,
                col(Refund.status) == RefundStatus.PENDING,
                col(Refund.created_at) < before,
            )
            .order_by(col(Refund.created_at), col(Refund.id))
        )
        pending = found.all()
    finished = 0
    for intent_id in sorted({intent for _, intent in pending if intent}):
        at_stripe = {
            refund.metadata.get("portico_refund"): refund
            for refund in await gateway.list_refunds(account=account, payment_intent=intent_id)
        }
        for refund_id, _ in (row for row in pending if row[1] == intent_id):
            made = at_stripe.get(str(refund_id))
            if made is not None and made.status in UNDONE:
                made = None
            async with db.write() as session:
                done = await _record_result(session, organization_id, refund_id, made)
                if done is None:
                    continue  # its own call recorded it meanwhile
                finished += 1
                if made is not None:
                    details = _audited(*done)
                    session.add(
                        system_audit(
                            organization_id,
                            "payment.refunded",
                            customer_id=details["customer_id"],
                            data=details["data"],
                        )
                    )
    return finished
