"""Staff give money back from a payment: card payments through Stripe, the others recorded."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import row_scope
from core.errors import NotFound
from core.settings import Settings
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.payments.refusals import note, positive_amount, provider_problem
from domain.problems import Problem, Rejected
from domain.work import Work
from models import Invoice, Organization, Payment, Refund
from models.enums import PaymentMethod
from models.ledger import RECEIVED, refund_status, settle
from models.types import utcnow
from models.writes import get_for_update, visible_rows
from payments.stripe_api import ProviderRejected, ProviderUnavailable, StripeGateway

MAX_REASON = 500


async def refund_payment(
    work: Work, payment_id: uuid.UUID, amount: int | None = None, *, reason: str | None = None
) -> uuid.UUID:
    """Give back `amount` of a payment (by default all that is left of it): card payments
    through the provider first, then recorded here. The payment's id."""
    problems: list[Problem] = []
    reason = note("reason", reason, MAX_REASON, problems)
    problems += positive_amount("amount", amount)
    if problems:
        raise Rejected(*problems)
    async with work.write() as session:
        scope = row_scope(work.viewer)
        found = await visible_rows(session, Payment, scope, [payment_id], lock=True)
        if not found:
            raise NotFound(row=("Payment", payment_id))
        payment = found[0]
        invoice = None
        if payment.invoice_id is not None:
            invoice = await get_for_update(
                session, Invoice, payment.organization_id, payment.invoice_id
            )
        remaining = payment.amount - payment.refunded_amount
        amount = remaining if amount is None else amount
        if payment.status not in RECEIVED or remaining <= 0:
            raise Rejected(
                Problem("paymentId", "Nothing left to refund.", BillingCode.EXCEEDS_PAYMENT)
            )
        if amount > remaining:
            raise Rejected(
                Problem("amount", "More than is left of the payment.", BillingCode.EXCEEDS_PAYMENT)
            )
        refund = Refund(
            organization_id=payment.organization_id,
            payment_id=payment.id,
            amount=amount,
            reason=reason,
            recorded_by_staff_id=work.viewer.staff_user_id,
        )
        if payment.method is PaymentMethod.CARD_ONLINE:
            refund.provider_refund_id = await _refund_at_provider(
                work.settings, session, payment, amount
            )
        payment.refunded_amount += amount
        payment.status = refund_status(payment.amount, payment.refunded_amount)
        payment.updated_at = utcnow()
        session.add(refund)
        if invoice is not None:
            await settle(session, invoice)
        session.add(
            audit(
                work,
                "payment.refunded",
                customer_id=payment.customer_id,
                subject_type="Payment",
                subject_id=payment.id,
                data={"amount": amount, **({"reason": reason} if reason else {})},
            )
        )
    return payment.id


async def _refund_at_provider(
    settings: Settings, session: AsyncSession, payment: Payment, amount: int
) -> str:
    """The key is derived from what was refunded before, so a retry after a timeout finds
    the refund the first attempt made instead of refunding twice."""
    org = await session.get(Organization, payment.organization_id)
    if org is None or not org.stripe_account_id or not payment.provider_payment_intent_id:
        raise Rejected(Problem("paymentId", "This payment cannot be refunded online."))
    key = f"portico-refund-{payment.id}-{payment.refunded_amount}-{amount}"
    try:
        async with StripeGateway(settings) as gateway:
            refund = await gateway.create_refund(
                account=org.stripe_account_id,
                payment_intent_id=payment.provider_payment_intent_id,
                amount=amount,
                idempotency_key=key,
            )
    except (ProviderUnavailable, ProviderRejected) as error:
        raise Rejected(provider_problem(error, "paymentId")) from error
    return refund.id
