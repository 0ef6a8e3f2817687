"""Everything printed on an invoice, read in three Core statements under the viewer's scope.

The invoice is narrowed by the same visibility conditions as every GraphQL read of the
invoices table (auth/access.py through `scope`), so a viewer who may not see an invoice
gets None, exactly as for one that does not exist. Its lines and payments carry their
own tables' conditions too, and the car only where the viewer may see that car.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from models import relations as rel
from models.db import ReadScope
from models.enums import InvoiceStatus, PaymentMethod, PaymentStatus
from models.loaders import Scope
from models.money import amount_due
from models.tables import cars, customers, invoices, organizations, payments
from models.tables import invoice_lines as lines

# Money that reached the business, refunded later or not; pending and failed never did.
RECEIVED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


@dataclass(frozen=True, slots=True)
class Issuer:
    name: str
    address: str | None
    email: str | None
    phone: str | None
    brand_color: str | None  # "#1a2b3c"


@dataclass(frozen=True, slots=True)
class BillTo:
    name: str
    company: str | None
    email: str | None
    address_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CarLine:
    description: str  # "1973 Porsche 911"
    license_plate: str | None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity_milli: int
    unit_price: int
    tax_rate_bp: int
    total: int


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
    issuer: Issuer
    bill_to: BillTo
    car: CarLine | None
    lines: tuple[DocumentLine, ...]
    payments: tuple[DocumentPayment, ...]


_STATEMENTS: dict[Hashable, tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]] = {}


def _statements(scope: Scope) -> tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]:
    """The three statements for one shape of viewer, built once (only parameters differ)."""
    found = _STATEMENTS.get(scope.shape)
    if found is None:
        found = _STATEMENTS[scope.shape] = _build(scope)
    return found


def _build(scope: Scope) -> tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]:
    org_id = sa.bindparam("document_org", type_=sa.Uuid())
    invoice_id = sa.bindparam("document_invoice", type_=sa.Uuid())
    head = (
        sa.select(
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
            organizations.c.name.label("org_name"),
            organizations.c.address.label("org_address"),
            organizations.c.email.label("org_email"),
            organizations.c.phone.label("org_phone"),
            organizations.c.brand_color,
            customers.c.name.label("customer_name"),
            customers.c.company,
            customers.c.email.label("customer_email"),
            customers.c.address_line1,
            customers.c.address_line2,
            customers.c.city,
            customers.c.region,
            customers.c.postal_code,
            customers.c.country,
            cars.c.id.label("car_id"),
            cars.c.year,
            cars.c.make,
            cars.c.model,
            cars.c.license_plate,
        )
        .select_from(invoices)
        .join(organizations, organizations.c.id == invoices.c.organization_id)
        .join(customers, customers.c.id == invoices.c.customer_id)
        # The car only where the viewer may see it (a billing-only contact may not).
        .outerjoin(cars, sa.and_(cars.c.id == invoices.c.car_id, *scope.conditions(cars)))
        .where(
            *scope.conditions(invoices),
            invoices.c.organization_id == org_id,
            invoices.c.id == invoice_id,
        )
    )
    items = (
        sa.select(
            lines.c.description,
            lines.c.quantity_milli,
            lines.c.unit_price,
            lines.c.tax_rate_bp,
            lines.c.total,
        )
        .where(
            *scope.conditions(lines),
            lines.c.organization_id == org_id,
            lines.c.invoice_id == invoice_id,
        )
        .order_by(*rel.INVOICE_LINES.ordering.order_by())
    )
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
            payments.c.organization_id == org_id,
            payments.c.invoice_id == invoice_id,
            payments.c.status.in_(RECEIVED),
        )
        .order_by(sa.func.coalesce(payments.c.received_at, payments.c.created_at), payments.c.id)
    )
    return head, items, received


async def load_invoice_document(
    reads: ReadScope, organization_id: uuid.UUID, invoice_id: uuid.UUID, scope: Scope
) -> InvoiceDocument | None:
    """The invoice as printed, or None when it is missing or not the viewer's to see."""
    head, items, received = _statements(scope)
    params = {**scope.params, "document_org": organization_id, "document_invoice": invoice_id}
    found = await reads.rows(head, params)
    if not found:
        return None
    row = found[0]
    line_rows = await reads.rows(items, params)
    payment_rows = await reads.rows(received, params)
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
        issuer=Issuer(
            name=row["org_name"],
            address=row["org_address"],
            email=row["org_email"],
            phone=row["org_phone"],
            brand_color=row["brand_color"],
        ),
        bill_to=BillTo(
            name=row["customer_name"],
            company=row["company"],
            email=row["customer_email"],
            address_lines=_address(row),
        ),
        car=_car(row),
        lines=tuple(
            DocumentLine(
                description=r["description"],
                quantity_milli=r["quantity_milli"],
                unit_price=r["unit_price"],
                tax_rate_bp=r["tax_rate_bp"],
                total=r["total"],
            )
            for r in line_rows
        ),
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


def _address(row: RowMapping) -> tuple[str, ...]:
    town = " ".join(p for p in (row["postal_code"], row["city"]) if p)
    parts = (row["address_line1"], row["address_line2"], town, row["region"], row["country"])
    return tuple(p for p in parts if p)


def _car(row: RowMapping) -> CarLine | None:
    if row["car_id"] is None:
        return None
    name = " ".join(str(p) for p in (row["year"], row["make"], row["model"]) if p)
    return CarLine(description=name, license_plate=row["license_plate"])
