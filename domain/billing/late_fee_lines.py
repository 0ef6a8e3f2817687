"""Late fees carried as lines: the fee line of a late fee's own invoice, and the customer's
pending late fees added to the next invoice they are sent (domain/collections/ charges them;
`issue_invoice` calls `attach_pending_late_fees`)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Invoice, InvoiceLine, LateFee
from models.enums import LineKind
from models.money import QUANTITY_SCALE
from models.tables import invoice_lines, invoices, late_fees


async def add_fee_line(
    session: AsyncSession, invoice: Invoice, description: str, amount: int
) -> uuid.UUID:
    """Append a late-fee line (no tax) to an invoice not yet sent, and add it to its totals."""
    last = await session.scalar(
        sa.select(sa.func.max(invoice_lines.c.position)).where(
            invoice_lines.c.invoice_id == invoice.id
        )
    )
    line = InvoiceLine(
        id=uuid.uuid4(),
        organization_id=invoice.organization_id,
        invoice_id=invoice.id,
        position=0 if last is None else last + 1,
        kind=LineKind.FEE,
        description=description[:500],
        quantity_milli=QUANTITY_SCALE,
        unit_price=amount,
        unit_cost=None,
        tax_rate_bp=0,
        subtotal=amount,
        tax=0,
        total=amount,
    )
    session.add(line)
    invoice.subtotal += amount
    invoice.total += amount
    await session.flush()
    return line.id


def fee_description(number: int | None, period: int) -> str:
    which = f"invoice #{number}" if number is not None else "an overdue invoice"
    return f"Late fee on {which}" + (f" (period {period})" if period > 1 else "")


async def attach_pending_late_fees(session: AsyncSession, invoice: Invoice) -> int:
    """In the send's transaction: the customer's late fees waiting for their next invoice
    (same currency), added to this one as lines, oldest first. How many."""
    found = await session.execute(
        sa.select(LateFee, invoices.c.number)
        .join(invoices, invoices.c.id == late_fees.c.invoice_id)
        .where(
            late_fees.c.organization_id == invoice.organization_id,
            late_fees.c.customer_id == invoice.customer_id,
            late_fees.c.currency == invoice.currency,
            late_fees.c.fee_invoice_id.is_(None),
        )
        .order_by(late_fees.c.created_at, late_fees.c.id)
        .with_for_update(of=late_fees)
    )
    pending = found.all()
    for fee, number in pending:
        fee.fee_line_id = await add_fee_line(
            session, invoice, fee_description(number, fee.period), fee.amount
        )
        fee.fee_invoice_id = invoice.id
    return len(pending)
