"""Staff record offline payments and refund payments. Totals follow models/ledger.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from core.ids import encode_id
from domain.audit import audit
from models import Invoice, Organization, Payment, Refund
from models.enums import InvoiceStatus, PaymentMethod, PaymentStatus
from models.ledger import RECEIVED, refund_status, settle
from models.money import amount_due
from models.types import utcnow
from models.writes import get_for_update
from payments.stripe_api import ProviderRejected, ProviderUnavailable, StripeGateway
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rows import tenant_row
from resolvers.validation import Checks, Problem

PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


def not_payable(field: str) -> Problem:
    return Problem(field, "Only open invoices can be paid.", "NOT_PAYABLE")


def provider_problem(error: Exception, field: str) -> Problem:
    if isinstance(error, ProviderUnavailable):
        message = "The payment provider could not be reached; nothing was done. Try again."
        return Problem(field, message, "PAYMENT_PROVIDER_UNAVAILABLE")
    return Problem(field, f"The payment provider refused: {error}", "PAYMENT_PROVIDER_ERROR")


@mutation_outcome
async def record_payment(info: Info, data: Any) -> uuid.UUID:
    """Cash, cheque or bank transfer, received by staff; never more than is due."""
    checks = Checks()
    reference = checks.text("reference", data.reference, 200)
    if data.amount <= 0:
        checks.fail("amount", "Use a positive amount in minor units.")
    if data.method is PaymentMethod.CARD_ONLINE:
        checks.fail("method", "Card payments are taken online through the portal.")
    received_at = data.received_at or utcnow()
    if received_at.tzinfo is None or received_at > datetime.now(UTC):
        checks.fail("receivedAt", "Use a time in the past, with its offset.")
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        invoice = await tenant_row(session, Invoice, ctx.viewer.organization_id, data.invoice_id)
        if invoice.status not in PAYABLE:
            raise Rejected(not_payable("invoiceId"))
        if data.amount > amount_due(invoice.model_dump()):
            raise Rejected(Problem("amount", "More than is due on the invoice.", "OVERPAYMENT"))
        payment = Payment(
            organization_id=invoice.organization_id,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            amount=data.amount,
            currency=invoice.currency,
            method=data.method,
            status=PaymentStatus.SUCCEEDED,
            reference=reference,
            received_at=received_at,
            recorded_by_staff_id=ctx.viewer.staff_user_id,
        )
        session.add(payment)
        await settle(session, invoice)
        session.add(
            audit(
                ctx,
                "payment.recorded",
                customer_id=invoice.customer_id,
                subject_type="Payment",
                subject_id=payment.id,
                data={"invoice_id": encode_id("Invoice", invoice.id), "amount": data.amount},
            )
        )
    return payment.id


@mutation_outcome
async def refund_payment(info: Info, data: Any) -> uuid.UUID:
    """Give money back: card payments through the provider first, then recorded here."""
    checks = Checks()
    reason = checks.text("reason", data.reason, 500)
    if data.amount is not None and data.amount <= 0:
        checks.fail("amount", "Use a positive amount in minor units.")
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        payment = await tenant_row(session, Payment, ctx.viewer.organization_id, data.payment_id)
        invoice = None
        if payment.invoice_id is not None:
            invoice = await get_for_update(
                session, Invoice, payment.organization_id, payment.invoice_id
            )
        remaining = payment.amount - payment.refunded_amount
        amount = remaining if data.amount is None else data.amount
        if payment.status not in RECEIVED or remaining <= 0:
            raise Rejected(Problem("paymentId", "Nothing left to refund.", "EXCEEDS_PAYMENT"))
        if amount > remaining:
            raise Rejected(
                Problem("amount", "More than is left of the payment.", "EXCEEDS_PAYMENT")
            )
        refund = Refund(
            organization_id=payment.organization_id,
            payment_id=payment.id,
            amount=amount,
            reason=reason,
            recorded_by_staff_id=ctx.viewer.staff_user_id,
        )
        if payment.method is PaymentMethod.CARD_ONLINE:
            refund.provider_refund_id = await _refund_at_provider(ctx, session, payment, amount)
        payment.refunded_amount += amount
        payment.status = refund_status(payment.amount, payment.refunded_amount)
        payment.updated_at = utcnow()
        session.add(refund)
        if invoice is not None:
            await settle(session, invoice)
        session.add(
            audit(
                ctx,
                "payment.refunded",
                customer_id=payment.customer_id,
                subject_type="Payment",
                subject_id=payment.id,
                data={"amount": amount, **({"reason": reason} if reason else {})},
            )
        )
    return payment.id


async def _refund_at_provider(
    ctx: Any, session: AsyncSession, payment: Payment, amount: int
) -> str:
    """The key is derived from what was refunded before, so a retry after a timeout finds
    the refund the first attempt made instead of refunding twice."""
    org = await session.get(Organization, payment.organization_id)
    if org is None or not org.stripe_account_id or not payment.provider_payment_intent_id:
        raise Rejected(Problem("paymentId", "This payment cannot be refunded online.", "INVALID"))
    key = f"portico-refund-{payment.id}-{payment.refunded_amount}-{amount}"
    try:
        async with StripeGateway(ctx.settings) as gateway:
            refund = await gateway.create_refund(
                account=org.stripe_account_id,
                payment_intent_id=payment.provider_payment_intent_id,
                amount=amount,
                idempotency_key=key,
            )
    except (ProviderUnavailable, ProviderRejected) as error:
        raise Rejected(provider_problem(error, "paymentId")) from error
    return refund.id
