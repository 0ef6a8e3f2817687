"""Staff work on invoices: draft, edit while draft, send, void."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, Info

from models import Car, Customer, Invoice, InvoiceLine, Organization, PortalSettings
from models.calendar import local_today
from models.enums import InvoiceStatus
from models.ledger import settle
from models.numbering import INVOICE, next_number
from models.types import utcnow
from models.writes import apply, get_for_update
from portico.errors import NotFound
from resolvers.audit import audit
from resolvers.bill_lines import line_values, replace_lines
from resolvers.billing_mail import notify_customer_of_invoice
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.portal_access import invite_with_first_bill
from resolvers.validation import Checks, Problem, changes
from schema.ids import decode_id_of

NOT_DRAFT = Problem("id", "Only draft invoices can be changed.", "NOT_EDITABLE")


async def tenant_row(session: AsyncSession, model: type[Any], org: uuid.UUID, gid: str) -> Any:
    row = await get_for_update(session, model, org, decode_id_of(model.__name__, gid))
    if row is None:
        raise NotFound()
    return row


def _details(checks: Checks, data: Any) -> dict[str, Any]:
    values = changes(
        notes=checks.text("notes", data.notes, 5000),
        internal_notes=checks.text("internalNotes", data.internal_notes, 10000),
        due_date=data.due_date,
    )
    if data.line_items is not UNSET and data.line_items is not None:
        values["lines"] = line_values(checks, data.line_items, optional_allowed=False)
    return values


async def car_of(session: AsyncSession, org: uuid.UUID, customer_id: uuid.UUID, gid: Any) -> Any:
    """The car a bill concerns: None to clear, UNSET to keep; it must be the customer's."""
    if gid is UNSET or gid is None:
        return gid
    car = await tenant_row(session, Car, org, gid)
    if car.customer_id != customer_id:
        raise Rejected(Problem("carId", "This car belongs to another customer.", "INVALID"))
    return car.id


@mutation_outcome
async def create_invoice(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = _details(checks, data)
    currency = checks.currency("currency", data.currency) if data.currency else None
    checks.done()
    org_id = info.context.viewer.organization_id
    async with info.context.write() as session:
        customer = await tenant_row(session, Customer, org_id, data.customer_id)
        org = await session.get(Organization, org_id)
        car_id = await car_of(session, org_id, customer.id, data.car_id)
        lines = values.pop("lines", [])
        invoice = Invoice(
            organization_id=org_id,
            customer_id=customer.id,
            car_id=None if car_id is UNSET else car_id,
            currency=currency or org.currency,
            **values,
        )
        session.add(invoice)
        await session.flush()
        await replace_lines(session, InvoiceLine, "invoice_id", invoice, lines)
        session.add(
            audit(
                info.context,
                "invoice.created",
                customer_id=customer.id,
                subject_type="Invoice",
                subject_id=invoice.id,
            )
        )
    return invoice.id


@mutation_outcome
async def update_invoice(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=False)
    values = _details(checks, data)
    checks.done()
    org_id = info.context.viewer.organization_id
    async with info.context.write() as session:
        invoice = await tenant_row(session, Invoice, org_id, data.id)
        if invoice.status is not InvoiceStatus.DRAFT:
            raise Rejected(NOT_DRAFT)
        car_id = await car_of(session, org_id, invoice.customer_id, data.car_id)
        if car_id is not UNSET:
            values["car_id"] = car_id
        lines = values.pop("lines", None)
        if lines is not None:
            await replace_lines(session, InvoiceLine, "invoice_id", invoice, lines)
            invoice.updated_at = utcnow()
        apply(invoice, values)
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
        today = local_today(org.timezone)
        due_days = options.invoice_due_days if options else 14
        invoice.number = await next_number(session, org_id, INVOICE)
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
