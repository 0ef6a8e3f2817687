"""What an invoice has been paid, and the status that follows. The only place either changes.

`amount_paid` is always recomputed from the invoice's payments (net of refunds and of
disputes lost) rather than incremented, so applying the same provider event twice, or
events in any order, cannot count money twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models.billing import Invoice
from models.enums import DisputeStatus, InvoiceStatus, PaymentStatus
from models.tables import payments
from models.types import utcnow

# Payments whose money arrived (some of it may since have been refunded).
RECEIVED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


# What a received payment still counts for: its amount less refunds, and less the disputed
# share once the dispute is lost (an open dispute may still be won: the invoice is not
# chased again meanwhile).
NET_RECEIVED = (
    payments.c.amount
    - payments.c.refunded_amount
    - sa.case(
        (payments.c.dispute_status == DisputeStatus.LOST, payments.c.disputed_amount), else_=0
    )
)


def status_for(
    total: int,
    amount_paid: int,
    current: InvoiceStatus,
    credited: int = 0,
    credit_applied: int = 0,
) -> InvoiceStatus:
    """Drafts stay drafts and void stays void; otherwise the money decides. Credit notes
    covering the whole total make it CREDITED; otherwise what credit notes took off and the
    customer's credit used on it count towards PAID like payments."""
    if current in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return current
    if credited > 0 and credited >= total:
        return InvoiceStatus.CREDITED
    if amount_paid + credited + credit_applied >= total:
        return InvoiceStatus.PAID
    if amount_paid + credit_applied > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


def refund_status(amount: int, refunded: int) -> PaymentStatus:
    if refunded <= 0:
        return PaymentStatus.SUCCEEDED
    return PaymentStatus.REFUNDED if refunded >= amount else PaymentStatus.PARTIALLY_REFUNDED


async def settle(session: AsyncSession, invoice: Invoice) -> None:
    """Recompute the invoice's paid amount and status from its payments (locked by caller)."""
    await session.flush()
    paid = await session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(NET_RECEIVED), 0)).where(
            payments.c.invoice_id == invoice.id, payments.c.status.in_(RECEIVED)
        )
    )
    invoice.amount_paid = int(paid.scalar_one())
    invoice.status = status_for(
        invoice.total,
        invoice.amount_paid,
        invoice.status,
        invoice.credited_amount,
        invoice.credit_applied,
    )
    invoice.updated_at = utcnow()
