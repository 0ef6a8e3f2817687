"""Staff work on invoices: draft, edit while draft, send, void."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from strawberry import Info

from domain.audit import audit
from domain.billing_mail import notify_customer_of_invoice
from models import Invoice, InvoiceLine, Organization, PortalSettings
from models.enums import InvoiceStatus
from models.ledger import settle
from models.numbering import INVOICE_COUNTER, next_number
from models.types import utcnow
from resolvers.bills import BillKind, create_bill, revise_bill, with_lines
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.portal_access import invite_with_first_bill
from resolvers.rows import tenant_row
from resolvers.validation import Checks, Problem, changes

NOT_DRAFT = Problem("id", "Only draft invoices can be changed.", "NOT_EDITABLE")


INVOICE = BillKind(Invoice, InvoiceLine, "invoice_id", optional_lines=False)


def _details(checks: Checks, data: Any) -> dict[str, Any]:
    values = changes(
        notes=checks.text("notes", data.notes, 5000),
        internal_notes=checks.text("internalNotes", data.internal_notes, 10000),
        due_date=data.due_date,
    )
    return with_lines(checks, data, INVOICE, values)


@mutation_outcome
async def create_invoice(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = _details(checks, data)
    checks.done()
    return await create_bill(info, data, INVOICE, values)


@mutation_outcome
async def update_invoice(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=False)
    values = _details(checks, data)
    checks.done()
    async with info.context.write() as session:
        invoice = await tenant_row(session, Invoice, info.context.viewer.organization_id, data.id)
        if invoice.status is not InvoiceStatus.DRAFT:
            raise Rejected(NOT_DRAFT)
        await revise_bill(session, invoice, INVOICE, data, values)
    return invoice.id


@mutation_outcome
async def send_invoice(info: Info, data: Any) -> uuid.UUID:
    """DRAFT -> OPEN: the invoice gets its number and dates, and the customer is told."""
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        invoice = await tenant_row(session, Invoice, org_id, data.id)
        if invoice.status is not InvoiceStatus.DRAFT:
            raise Rejected(Problem("id", "This invoice has already been sent.", "NOT_EDITABLE"))
        if invoice.total <= 0:
            raise Rejected(Problem("id", "Add a line item with an amount first.", "EMPTY"))
        org = await session.get(Organization, org_id)
        options = await session.get(PortalSettings, org_id)
        today = info.context.clock.today(org.timezone)
        due_days = options.invoice_due_days if options else 14
        invoice.number = await next_number(session, org_id, INVOICE_COUNTER)
        invoice.status = InvoiceStatus.OPEN
        invoice.issue_date = invoice.issue_date or today
        invoice.due_date = invoice.due_date or invoice.issue_date + timedelta(days=due_days)
        invoice.sent_at = invoice.updated_at = utcnow()
        await settle(session, invoice)  # a deposit taken on its estimate may already count
        invited = await invite_with_first_bill(session, ctx.settings, org_id, invoice.customer_id)
        await notify_customer_of_invoice(session, ctx.settings, org, invoice)
        session.add(
            audit(
                ctx,
                "invoice.sent",
                customer_id=invoice.customer_id,
                subject_type="Invoice",
                subject_id=invoice.id,
                data={"number": invoice.number, "portal_invite": invited},
            )
        )
    return invoice.id


@mutation_outcome
async def void_invoice(info: Info, data: Any) -> uuid.UUID:
    """A void invoice is owed no more. Money received must be refunded first."""
    checks = Checks()
    reason = checks.text("reason", data.reason, 500)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        invoice = await tenant_row(session, Invoice, ctx.viewer.organization_id, data.id)
        if invoice.status is InvoiceStatus.VOID:
            raise Rejected(Problem("id", "This invoice is already void.", "NOT_EDITABLE"))
        if invoice.amount_paid > 0:
            raise Rejected(
                Problem("id", "Refund the payments on this invoice first.", "HAS_PAYMENTS")
            )
        invoice.status = InvoiceStatus.VOID
        invoice.voided_at = invoice.updated_at = utcnow()
        session.add(
            audit(
                ctx,
                "invoice.voided",
                customer_id=invoice.customer_id,
                subject_type="Invoice",
                subject_id=invoice.id,
                data={"reason": reason} if reason else {},
            )
        )
    return invoice.id
