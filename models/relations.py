"""The one-to-many relations the API pages through, each with its fixed order."""

from __future__ import annotations

import sqlalchemy as sa

from models import (
    Appointment,
    AuditEvent,
    Car,
    CarEvent,
    ConditionReport,
    Contact,
    ContactCar,
    Customer,
    Document,
    Estimate,
    EstimateDecision,
    EstimateLine,
    Invoice,
    InvoiceLine,
    Message,
    Payment,
)
from models.clock import db_now
from models.enums import ActorKind, EstimateStatus, InvoiceStatus
from models.loaders import Relation
from models.pagination import Ordering

customers: sa.Table = Customer.__table__  # type: ignore[attr-defined]
contacts: sa.Table = Contact.__table__  # type: ignore[attr-defined]
contact_cars: sa.Table = ContactCar.__table__  # type: ignore[attr-defined]
cars: sa.Table = Car.__table__  # type: ignore[attr-defined]
car_events: sa.Table = CarEvent.__table__  # type: ignore[attr-defined]
condition_reports: sa.Table = ConditionReport.__table__  # type: ignore[attr-defined]
documents: sa.Table = Document.__table__  # type: ignore[attr-defined]
invoices: sa.Table = Invoice.__table__  # type: ignore[attr-defined]
invoice_lines: sa.Table = InvoiceLine.__table__  # type: ignore[attr-defined]
estimates: sa.Table = Estimate.__table__  # type: ignore[attr-defined]
estimate_lines: sa.Table = EstimateLine.__table__  # type: ignore[attr-defined]
estimate_decisions: sa.Table = EstimateDecision.__table__  # type: ignore[attr-defined]
payments: sa.Table = Payment.__table__  # type: ignore[attr-defined]
appointments: sa.Table = Appointment.__table__  # type: ignore[attr-defined]
messages: sa.Table = Message.__table__  # type: ignore[attr-defined]
audit_events: sa.Table = AuditEvent.__table__  # type: ignore[attr-defined]

NEWEST_FIRST = {
    t.name: Ordering.of((t.c.created_at, True), (t.c.id, True))
    for t in (invoices, estimates, payments, documents, messages, audit_events)
}
BY_NAME = Ordering.of(customers.c.name, customers.c.id)
CONTACTS_BY_NAME = Ordering.of(contacts.c.name, contacts.c.id)
CARS_BY_MAKE = Ordering.of(cars.c.make, cars.c.model, cars.c.id)
EVENTS_NEWEST = Ordering.of((car_events.c.occurred_at, True), (car_events.c.id, True))
REPORTS_NEWEST = Ordering.of(
    (condition_reports.c.inspected_at, True), (condition_reports.c.id, True)
)
APPOINTMENTS_BY_START = Ordering.of(appointments.c.starts_at, appointments.c.id)


def _not_archived(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.archived_at.is_(None)]


def _open(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.status.in_([InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID])]


CUSTOMER_CONTACTS = Relation(
    "customer_contacts", contacts, "customer_id", CONTACTS_BY_NAME, _not_archived
)
CUSTOMER_CARS = Relation("customer_cars", cars, "customer_id", CARS_BY_MAKE, _not_archived)
CUSTOMER_INVOICES = Relation("customer_invoices", invoices, "customer_id", NEWEST_FIRST["invoices"])
CUSTOMER_OPEN_INVOICES = Relation(
    "customer_open_invoices", invoices, "customer_id", NEWEST_FIRST["invoices"], _open
)
CUSTOMER_ESTIMATES = Relation(
    "customer_estimates", estimates, "customer_id", NEWEST_FIRST["estimates"]
)
CUSTOMER_DOCUMENTS = Relation(
    "customer_documents", documents, "customer_id", NEWEST_FIRST["documents"], _not_archived
)
CUSTOMER_APPOINTMENTS = Relation(
    "customer_appointments", appointments, "customer_id", APPOINTMENTS_BY_START
)
CUSTOMER_MESSAGES = Relation("customer_messages", messages, "customer_id", NEWEST_FIRST["messages"])
CUSTOMER_PAYMENTS = Relation("customer_payments", payments, "customer_id", NEWEST_FIRST["payments"])
CAR_EVENTS = Relation("car_events", car_events, "car_id", EVENTS_NEWEST)
CAR_REPORTS = Relation("car_reports", condition_reports, "car_id", REPORTS_NEWEST)
CAR_DOCUMENTS = Relation(
    "car_documents", documents, "car_id", NEWEST_FIRST["documents"], _not_archived
)
CAR_APPOINTMENTS = Relation("car_appointments", appointments, "car_id", APPOINTMENTS_BY_START)
INVOICE_LINES = Relation(
    "invoice_lines",
    invoice_lines,
    "invoice_id",
    Ordering.of(invoice_lines.c.position, invoice_lines.c.id),
)
INVOICE_PAYMENTS = Relation("invoice_payments", payments, "invoice_id", NEWEST_FIRST["payments"])
ESTIMATE_LINES = Relation(
    "estimate_lines",
    estimate_lines,
    "estimate_id",
    Ordering.of(estimate_lines.c.position, estimate_lines.c.id),
)
ESTIMATE_DECISIONS = Relation(
    "estimate_decisions",
    estimate_decisions,
    "estimate_id",
    Ordering.of((estimate_decisions.c.version, True), (estimate_decisions.c.id, True)),
)
CONTACT_CARS = Relation(
    "contact_cars", contact_cars, "contact_id", Ordering.of(contact_cars.c.car_id)
)


def _pending(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """Sent and not yet expired: what the customer can still answer."""
    not_expired = sa.or_(table.c.expires_at.is_(None), table.c.expires_at > db_now())
    return [table.c.status == EstimateStatus.SENT, not_expired]


def _upcoming(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.ends_at >= db_now()]


def _unread(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.author_kind == ActorKind.STAFF, table.c.read_by_customer_at.is_(None)]


CUSTOMER_PENDING_ESTIMATES = Relation(
    "customer_pending_estimates", estimates, "customer_id", NEWEST_FIRST["estimates"], _pending
)
CUSTOMER_UPCOMING_APPOINTMENTS = Relation(
    "customer_upcoming_appointments",
    appointments,
    "customer_id",
    APPOINTMENTS_BY_START,
    _upcoming,
)
CUSTOMER_UNREAD_MESSAGES = Relation(
    "customer_unread_messages", messages, "customer_id", NEWEST_FIRST["messages"], _unread
)


def _unread_by_staff(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """Written by the customer's side (the customer or a contact), not yet read by staff."""
    return [table.c.author_kind != ActorKind.STAFF, table.c.read_by_staff_at.is_(None)]


CUSTOMER_UNREAD_FOR_STAFF = Relation(
    "customer_unread_for_staff", messages, "customer_id", NEWEST_FIRST["messages"], _unread_by_staff
)
