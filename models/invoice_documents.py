"""Everything printed on an invoice, read in three Core statements under the viewer's scope.

The invoice is narrowed by the same visibility conditions as every GraphQL read of the
invoices table (auth/access.py through `scope`), so a viewer who may not see an invoice
gets None, exactly as for one that does not exist. Its lines and payments carry their
own tables' conditions too, and the car only where the viewer may see that car. What an
estimate prints alike (issuer, customer, car, lines) is models/bill_documents.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from models import relations as rel
from models.bill_documents import (
    ORG,
    ROW,
    BillTo,
    CarLine,
    DocumentLine,
    Issuer,
    bill_head,
    bill_lines,
    lines_of,
    parties_of,
    statements_for,
)
from models.db import ReadScope
from models.enums import InvoiceStatus, PaymentMethod, PaymentStatus
from models.loaders import Scope
from models.money import amount_due
from models.tables import invoices, payments

__all__ = [
    "BillTo",
    "CarLine",
    "DocumentLine",
    "DocumentPayment",
    "InvoiceDocument",
    "Issuer",
    "load_invoice_document",
]

# Money that reached the business, refunded later or not; pending and failed never did.
RECEIVED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


@dataclass(frozen=True, slots=True)
class DocumentPayment:
    received_on: date | None
    method: PaymentMethod
    amount: int
    refunded_amount: int


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    invoice_id: uuid.UUID
    number: int | None
    status: InvoiceStatus
    issue_date: date | None
    due_date: date | None
    notes: str | None
    currency: str
    subtotal: int
    tax_total: int
    total: int
    amount_paid: int
    amount_due: int
    credited_amount: int  # by credit notes
    credit_applied: int  # the customer's credit used on it
    issuer: Issuer
    bill_to: BillTo
    car: CarLine | None
    lines: tuple[DocumentLine, ...]
    payments: tuple[DocumentPayment, ...]


Statements = tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]
_STATEMENTS: dict[Hashable, Statements] = {}


def _build(scope: Scope) -> Statements:
    columns = [
        invoices.c.id,
        invoices.c.number,
        invoices.c.status,
        invoices.c.issue_date,
        invoices.c.due_date,
        invoices.c.notes,
        invoices.c.currency,
        invoices.c.subtotal,
        invoices.c.tax_total,
        invoices.c.total,
        invoices.c.amount_paid,
        invoices.c.credited_amount,
        invoices.c.credit_applied,
    ]
    head = bill_head(invoices, columns, scope)
    items = bill_lines(rel.INVOICE_LINES, scope)
    received = (
        sa.select(
            payments.c.received_at,
            payments.c.created_at,
            payments.c.method,
            payments.c.amount,
            payments.c.refunded_amount,
        )
        .where(
            *scope.conditions(payments),
            payments.c.organization_id == sa.bindparam(ORG, type_=sa.Uuid()),
            payments.c.invoice_id == sa.bindparam(ROW, type_=sa.Uuid()),
            payments.c.status.in_(RECEIVED),
        )
        .order_by(sa.func.coalesce(payments.c.received_at, payments.c.created_at), payments.c.id)
    )
    return head, items, received


async def load_invoice_document(
    reads: ReadScope, organization_id: uuid.UUID, invoice_id: uuid.UUID, scope: Scope
) -> InvoiceDocument | None:
    """The invoice as printed, or None when it is missing or not the viewer's to see."""
    head, items, received = statements_for(_STATEMENTS, scope, _build)
    params = {**scope.params, ORG: organization_id, ROW: invoice_id}
    found = await reads.rows(head, params)
    if not found:
        return None
    row = found[0]
    line_rows = await reads.rows(items, params)
    payment_rows = await reads.rows(received, params)
    parties = parties_of(row)
    return InvoiceDocument(
        invoice_id=row["id"],
        number=row["number"],
        status=row["status"],
        issue_date=row["issue_date"],
        due_date=row["due_date"],
        notes=row["notes"],
        currency=row["currency"],
        subtotal=row["subtotal"],
        tax_total=row["tax_total"],
        total=row["total"],
        amount_paid=row["amount_paid"],
        amount_due=amount_due(row),
        credited_amount=row["credited_amount"],
        credit_applied=row["credit_applied"],
        issuer=parties.issuer,
        bill_to=parties.bill_to,
        car=parties.car,
        lines=lines_of(line_rows),
        payments=tuple(
            DocumentPayment(
                received_on=(r["received_at"] or r["created_at"]).date(),
                method=r["method"],
                amount=r["amount"],
                refunded_amount=r["refunded_amount"],
            )
            for r in payment_rows
        ),
    )
