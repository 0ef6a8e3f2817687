"""Money staff received outside the portal: cash, cheque, bank transfer. Totals follow
models/ledger.py."""

from __future__ import annotations

import uuid
from datetime import datetime

from auth.access import row_scope
from core.errors import NotFound
from core.ids import encode_id
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.payments.refusals import PAYABLE, not_payable, note, positive_amount
from domain.problems import Problem, Rejected
from domain.webhooks.events import emit, settle_told
from domain.work import Work
from models import Invoice, Payment
from models.enums import PaymentMethod, PaymentStatus
from models.money import amount_due
from models.types import utcnow
from models.writes import visible_rows

MAX_REFERENCE = 200


async def record_payment(
    work: Work,
    invoice_id: uuid.UUID,
    amount: int,
    method: PaymentMethod,
    *,
    reference: str | None = None,
    received_at: datetime | None = None,
) -> uuid.UUID:
    """Record money received towards an open invoice, never more than is due; the new
    payment's id."""
    problems: list[Problem] = []
    reference = note("reference", reference, MAX_REFERENCE, problems)
    problems += positive_amount("amount", amount)
    if method is PaymentMethod.CARD_ONLINE:
        problems.append(Problem("method", "Card payments are taken online through the portal."))
    received_at = received_at or utcnow()
    if received_at.tzinfo is None or received_at > utcnow():
        problems.append(Problem("receivedAt", "Use a time in the past, with its offset."))
    if problems:
        raise Rejected(*problems)
    async with work.write() as session:
        scope = row_scope(work.viewer)
        found = await visible_rows(session, Invoice, scope, [invoice_id], lock=True)
        if not found:
            raise NotFound(row=("Invoice", invoice_id))
        invoice = found[0]
        if invoice.status not in PAYABLE:
            raise Rejected(not_payable("invoiceId"))
        if amount > amount_due(invoice.model_dump()):
            raise Rejected(
                Problem("amount", "More than is due on the invoice.", BillingCode.OVERPAYMENT)
            )
        payment = Payment(
            organization_id=invoice.organization_id,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            amount=amount,
            currency=invoice.currency,
            method=method,
            status=PaymentStatus.SUCCEEDED,
            reference=reference,
            received_at=received_at,
            recorded_by_staff_id=work.viewer.staff_user_id,
        )
        session.add(payment)
        await emit(session, "payment.succeeded", payment)
        await settle_told(session, invoice)
        session.add(
            audit(
                work,
                "payment.recorded",
                customer_id=invoice.customer_id,
                subject_type="Payment",
                subject_id=payment.id,
                data={"invoice_id": encode_id("Invoice", invoice.id), "amount": amount},
            )
        )
    return payment.id
