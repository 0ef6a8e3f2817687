"""Staff issue credit notes against sent invoices.

A credit note takes the whole invoice, or some of its lines (a quantity of a line, priced
as invoiced, or an amount of its subtotal, with the line's tax), off what the customer owes,
with a reason. It gets its number from its own gap-free sequence. Its total counts in the
invoice's `credited_amount`: what is due shrinks by it, and what goes beyond what was still
due (the invoice was paid) becomes the customer's credit, which their next invoices use
first, or which staff give back with a card refund of the invoice's payment
(domain/payments/refunds.py). The money rules are domain/billing/credit.py's.

The invoice is locked while its earlier credit notes are read, so two credit notes at the
same moment never credit a line, or the invoice, beyond what it charged.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.billing.credit import Credited, InvoicedLine, TooMuch, line_credit, split_credit
from domain.problems import Common, Problem, Rejected
from domain.rows import locked
from domain.work import Work
from models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, Organization
from models.enums import InvoiceStatus
from models.ledger import settle
from models.money import amount_due
from models.numbering import CREDIT_NOTE_COUNTER, next_number
from models.tables import credit_note_lines, credit_notes, invoice_lines
from models.types import utcnow
from models.writes import add_in_order

MAX_REASON = 2000
UNCREDITABLE = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)


@dataclass(frozen=True, slots=True)
class CreditLineInput:
    """One invoice line to credit: a quantity of it, an amount of its subtotal, or (neither)
    all that is left of it."""

    position: int  # the invoice line's position (`lineItems` order, from 0)
    quantity_milli: int | None = None
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedCreditNote:
    credit_note_id: uuid.UUID
    number: int
    total: int
    off_due: int  # what it took off what the invoice still owed
    to_credit: int  # the rest: the customer's credit


async def issue_credit_note(
    work: Work,
    invoice_id: uuid.UUID,
    reason: str,
    lines: Sequence[CreditLineInput] | None = None,
) -> IssuedCreditNote:
    """Credit a sent invoice: the given lines, or (None) all that is left of every line."""
    if not work.viewer.is_staff:
        raise Forbidden()
    reason = (reason or "").strip()
    if not reason:
        raise Rejected(Problem("reason", "Say why the invoice is credited.", Common.REQUIRED))
    if len(reason) > MAX_REASON:
        message = f"At most {MAX_REASON} characters."
        raise Rejected(Problem("reason", message, Common.TOO_LONG))
    if lines is not None and not lines:
        raise Rejected(Problem("lines", "Name at least one line.", BillingCode.EMPTY))
    async with work.write() as session:
        invoice = await locked(session, Invoice, work.viewer.organization_id, invoice_id)
        if invoice.status in UNCREDITABLE:
            message = "Only sent invoices that are not void can be credited."
            raise Rejected(Problem("invoiceId", message, BillingCode.NOT_CREDITABLE))
        credits = await _credits(session, invoice, lines)
        total = sum(credit.total for _, credit in credits)
        if total <= 0:
            message = "Nothing is left of this invoice to credit."
            raise Rejected(Problem("invoiceId", message, BillingCode.EXCEEDS_INVOICE))
        if invoice.credited_amount + total > invoice.total:
            message = "More than is left of the invoice to credit."
            raise Rejected(Problem("lines", message, BillingCode.EXCEEDS_INVOICE))
        issued = await record_credit_note(work, session, invoice, reason, credits)
    return issued


async def record_credit_note(
    work: Work,
    session: AsyncSession,
    invoice: Invoice,
    reason: str,
    credits: Sequence[tuple[InvoiceLine, Credited]],
) -> IssuedCreditNote:
    """In the caller's transaction, with the invoice locked and `credits` checked against
    what is left of its lines: the credit note, its lines, the invoice's credited amount
    and the audit row. Dated the organization's today."""
    total = sum(credit.total for _, credit in credits)
    org = await session.get(Organization, invoice.organization_id)
    assert org is not None  # the invoice's foreign key holds it
    off_due, to_credit = split_credit(amount_due(invoice.model_dump()), total)
    note = CreditNote(
        organization_id=invoice.organization_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        number=await next_number(session, org.id, CREDIT_NOTE_COUNTER),
        reason=reason,
        issue_date=work.clock.today(org.timezone),
        issued_by_staff_id=work.viewer.staff_user_id,
        currency=invoice.currency,
        subtotal=sum(credit.subtotal for _, credit in credits),
        tax_total=sum(credit.tax for _, credit in credits),
        total=total,
    )
    session.add(note)
    await session.flush()
    rows = [
        CreditNoteLine(
            organization_id=invoice.organization_id,
            credit_note_id=note.id,
            invoice_line_id=line.id,
            position=position,
            description=line.description,
            quantity_milli=credit.quantity_milli or None,
            subtotal=credit.subtotal,
            tax=credit.tax,
            total=credit.total,
        )
        for position, (line, credit) in enumerate(credits)
    ]
    await add_in_order(session, rows)
    invoice.credited_amount += total
    invoice.updated_at = utcnow()
    await settle(session, invoice)
    session.add(
        audit(
            work,
            "invoice.credited",
            customer_id=invoice.customer_id,
            subject_type="Invoice",
            subject_id=invoice.id,
            data={
                "credit_note": note.number,
                "total": total,
                "to_customer_credit": to_credit,
                "reason": reason,
            },
        )
    )
    return IssuedCreditNote(note.id, note.number, total, off_due, to_credit)


async def _credits(
    session: AsyncSession, invoice: Invoice, asked: Sequence[CreditLineInput] | None
) -> list[tuple[InvoiceLine, Credited]]:
    """Each line credited, with what it takes off, checked against what earlier credit
    notes of the invoice took."""
    found = await session.execute(
        sa.select(InvoiceLine)
        .where(invoice_lines.c.invoice_id == invoice.id)
        .order_by(invoice_lines.c.position, invoice_lines.c.id)
    )
    lines = {line.position: line for line in found.scalars()}
    before = await credited_before(session, invoice.id)
    if asked is None:  # the whole invoice: what is left of every line
        return [
            (line, line_credit(invoiced_line(line), before[line.id]))
            for line in lines.values()
            if line.subtotal - before[line.id].subtotal > 0 or line.tax - before[line.id].tax > 0
        ]
    problems: list[Problem] = []
    result: list[tuple[InvoiceLine, Credited]] = []
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(asked):
        line = lines.get(item.position)
        if line is None:
            message = "No line of this invoice has this position."
            problems.append(Problem(f"lines.{index}.position", message, Common.INVALID))
            continue
        if line.id in seen:
            message = "This line is named twice."
            problems.append(Problem(f"lines.{index}.position", message, Common.INVALID))
            continue
        seen.add(line.id)
        try:
            credit = line_credit(
                invoiced_line(line),
                before[line.id],
                quantity_milli=item.quantity_milli,
                amount=item.amount,
            )
        except TooMuch as error:
            field = "amount" if item.amount is not None else "quantity"
            message = f"More than was invoiced on this line: {error}."
            problems.append(Problem(f"lines.{index}.{field}", message, BillingCode.EXCEEDS_INVOICE))
            continue
        except ValueError as error:
            problems.append(Problem(f"lines.{index}", f"{error}.", Common.INVALID))
            continue
        result.append((line, credit))
    if problems:
        raise Rejected(*problems)
    return result


def invoiced_line(line: InvoiceLine) -> InvoicedLine:
    return InvoicedLine(
        line.quantity_milli, line.unit_price, line.tax_rate_bp, line.subtotal, line.tax
    )


async def credited_before(
    session: AsyncSession, invoice_id: uuid.UUID
) -> dict[uuid.UUID, Credited]:
    found = await session.execute(
        sa.select(
            credit_note_lines.c.invoice_line_id,
            sa.func.coalesce(sa.func.sum(credit_note_lines.c.quantity_milli), 0),
            sa.func.sum(credit_note_lines.c.subtotal),
            sa.func.sum(credit_note_lines.c.tax),
        )
        .join(credit_notes, credit_notes.c.id == credit_note_lines.c.credit_note_id)
        .where(credit_notes.c.invoice_id == invoice_id)
        .group_by(credit_note_lines.c.invoice_line_id)
    )
    credited: dict[uuid.UUID, Credited] = defaultdict(Credited)
    for line_id, quantity, subtotal, tax in found.all():
        credited[line_id] = Credited(int(quantity), int(subtotal), int(tax))
    return credited
