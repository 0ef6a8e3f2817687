"""Staff work on invoices: draft, edit while draft, send, void."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.audit import audit
from domain.billing.bills import (
    draft_bill,
    draft_to_send,
    revise_bill,
)
from domain.billing.codes import BillingCode
from domain.billing.credit import use_credit
from domain.billing.late_fee_lines import attach_pending_late_fees
from domain.billing.lines import BillDiscount, LineInput
from domain.billing_mail import notify_customer_of_invoice
from domain.edits import KEEP, Edit, changes
from domain.portal.portal_access import invite_with_first_bill
from domain.problems import Problem, Rejected
from domain.rows import locked
from domain.webhooks.events import emit
from domain.work import Work
from models import Invoice, Organization, PortalSettings
from models.enums import InvoiceStatus
from models.ledger import settle
from models.numbering import INVOICE_COUNTER, next_number
from models.types import utcnow

NOT_DRAFT = Problem("id", "Only draft invoices can be changed.", BillingCode.NOT_EDITABLE)
DEFAULT_DUE_DAYS = 14  # payment terms where the organization has set none


@dataclass(frozen=True)
class InvoiceDetails:
    """What staff set on a draft invoice; KEEP leaves a field as it is (or unset, on a new one).
    Text is given cleaned: trimmed, empty as None."""

    car_id: Edit[uuid.UUID | None] = KEEP
    due_date: Edit[date | None] = KEEP
    notes: Edit[str | None] = KEEP
    internal_notes: Edit[str | None] = KEEP
    lines: Edit[Sequence[LineInput]] = KEEP  # all the lines, in order
    discount: Edit[BillDiscount] = KEEP  # on the whole invoice; BillDiscount() removes it

    def columns(self) -> dict[str, Any]:
        return changes(notes=self.notes, internal_notes=self.internal_notes, due_date=self.due_date)


async def create_invoice(
    work: Work, customer_id: uuid.UUID, details: InvoiceDetails, currency: str | None = None
) -> uuid.UUID:
    """A draft invoice for a customer, in the organization's currency unless another is given."""
    return await draft_bill(work, Invoice, customer_id, details, currency)


async def update_invoice(work: Work, invoice_id: uuid.UUID, details: InvoiceDetails) -> uuid.UUID:
    """Change a draft; a sent invoice no longer changes."""
    async with work.write() as session:
        invoice = await locked(session, Invoice, work.viewer.organization_id, invoice_id)
        if invoice.status is not InvoiceStatus.DRAFT:
            raise Rejected(NOT_DRAFT)
        await revise_bill(session, invoice, details)
    return invoice.id


async def send_invoice(work: Work, invoice_id: uuid.UUID) -> uuid.UUID:
    """DRAFT -> OPEN: the invoice gets its number and dates, and the customer is told."""
    async with work.write() as session:
        not_draft = "This invoice has already been sent."
        invoice, org = await draft_to_send(session, work, Invoice, invoice_id, not_draft=not_draft)
        invited = await issue_invoice(
            session, work.settings, org, invoice, work.clock.today(org.timezone)
        )
        session.add(
            audit(
                work,
                "invoice.sent",
                customer_id=invoice.customer_id,
                subject_type="Invoice",
                subject_id=invoice.id,
                data={"number": invoice.number, "portal_invite": invited},
            )
        )
    return invoice.id


async def issue_invoice(
    session: AsyncSession, settings: Settings, org: Organization, invoice: Invoice, today: date
) -> bool:
    """Send a locked draft in the caller's transaction, by the one set of rules for staff
    and the recurring billing scheduler alike: its number from the organization's gap-free
    sequence, its issue date (`today` unless set) and due date (the organization's terms
    unless set), what it is already paid, the customer's credit used first, the first-bill
    portal invite, and the email by the customer's preferences (through the outbox, so it
    commits with the invoice or not at all). The customer's late fees waiting for their next
    invoice are added to it as lines first (domain/billing/late_fee_lines.py). True when a
    portal invite went with it."""
    options = await session.get(PortalSettings, org.id)
    due_days = options.invoice_due_days if options else DEFAULT_DUE_DAYS
    invoice.number = await next_number(session, org.id, INVOICE_COUNTER)
    invoice.status = InvoiceStatus.OPEN
    issued = invoice.issue_date = invoice.issue_date or today
    invoice.due_date = invoice.due_date or issued + timedelta(days=due_days)
    invoice.sent_at = invoice.updated_at = utcnow()
    await attach_pending_late_fees(session, invoice)
    await emit(session, "invoice.sent", invoice)
    was = invoice.status
    await settle(session, invoice)  # a deposit taken on its estimate may already count
    await use_credit(session, invoice)  # the customer's credit goes first
    if invoice.status is InvoiceStatus.PAID and was is not InvoiceStatus.PAID:
        await emit(session, "invoice.paid", invoice)
    invited = await invite_with_first_bill(session, settings, org.id, invoice.customer_id)
    await notify_customer_of_invoice(session, settings, org, invoice)
    return invited


async def void_invoice(work: Work, invoice_id: uuid.UUID, reason: str | None) -> uuid.UUID:
    """A void invoice is owed no more. Money received must be refunded first."""
    async with work.write() as session:
        invoice = await locked(session, Invoice, work.viewer.organization_id, invoice_id)
        if invoice.status is InvoiceStatus.VOID:
            message = "This invoice is already void."
            raise Rejected(Problem("id", message, BillingCode.NOT_EDITABLE))
        if invoice.amount_paid > 0:
            message = "Refund the payments on this invoice first."
            raise Rejected(Problem("id", message, BillingCode.HAS_PAYMENTS))
        if invoice.credited_amount > 0:
            # Its credit notes stand (numbered, and maybe the customer's credit by now).
            message = "This invoice has credit notes; credit what is left of it instead."
            raise Rejected(Problem("id", message, BillingCode.NOT_EDITABLE))
        invoice.status = InvoiceStatus.VOID
        invoice.credit_applied = 0  # the customer's credit it used is theirs again
        invoice.voided_at = invoice.updated_at = utcnow()
        await emit(session, "invoice.voided", invoice)
        session.add(
            audit(
                work,
                "invoice.voided",
                customer_id=invoice.customer_id,
                subject_type="Invoice",
                subject_id=invoice.id,
                data={"reason": reason} if reason else {},
            )
        )
    return invoice.id
