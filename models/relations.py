"""The one-to-many relations the API pages through, each with its fixed order."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.clock import request_now
from models.derived import estimate_status_in
from models.enums import ActorKind, ContractStatus, EstimateStatus, InvoiceStatus, JobStatus
from models.loaders import Relation
from models.pagination import Ordering
from models.tables import (
    access_logs,
    appointments,
    audit_events,
    billing_plans,
    bulk_invite_items,
    bulk_invites,
    car_events,
    car_photos,
    cars,
    community_events,
    condition_reports,
    contact_cars,
    contacts,
    contracts,
    credit_note_lines,
    credit_notes,
    customers,
    data_imports,
    documents,
    estimate_decisions,
    estimate_lines,
    estimates,
    event_rsvps,
    integration_keys,
    invoice_lines,
    invoice_reminders,
    invoices,
    job_photos,
    jobs,
    late_fees,
    message_attachments,
    messages,
    notifications,
    onboarding_steps,
    outbox_emails,
    payments,
    staff_users,
    subscriptions,
    webhook_deliveries,
    webhook_endpoints,
)
from models.tables import maintenance_schedules as schedules
from models.tables import payment_methods as saved_methods
from models.tables import telematics_readings as readings

NEWEST_FIRST = {
    t.name: Ordering.of((t.c.created_at, True), (t.c.id, True))
    for t in (
        invoices,
        estimates,
        payments,
        documents,
        messages,
        audit_events,
        contracts,
        outbox_emails,
    )
}
BY_NAME = Ordering.of(customers.c.name, customers.c.id)
STAFF_BY_NAME = Ordering.of(staff_users.c.name, staff_users.c.id)
CONTACTS_BY_NAME = Ordering.of(contacts.c.name, contacts.c.id)
CARS_BY_MAKE = Ordering.of(cars.c.make, cars.c.model, cars.c.id)
EVENTS_NEWEST = Ordering.of((car_events.c.occurred_at, True), (car_events.c.id, True))
REPORTS_NEWEST = Ordering.of(
    (condition_reports.c.inspected_at, True), (condition_reports.c.id, True)
)
APPOINTMENTS_BY_START = Ordering.of(appointments.c.starts_at, appointments.c.id)


def archived_filter(table: sa.Table, include_archived: bool) -> list[sa.ColumnElement[bool]]:
    """`includeArchived: false` (the default) of a root list: archived rows left out."""
    return [] if include_archived else [table.c.archived_at.is_(None)]


def appointment_filter(
    starts_after: Any = None, starts_before: Any = None, statuses: Any = None
) -> list[sa.ColumnElement[bool]]:
    """`appointments(startsAfter, startsBefore, status)` as conditions: values, or the
    planner's parameters in their place."""
    conditions: list[sa.ColumnElement[bool]] = []
    if starts_after is not None:
        conditions.append(appointments.c.starts_at >= starts_after)
    if starts_before is not None:
        conditions.append(appointments.c.starts_at < starts_before)
    if statuses:
        conditions.append(appointments.c.status.in_(statuses))
    return conditions


def conversation_filter(unread_only: bool) -> list[sa.ColumnElement[bool]]:
    """Staff's conversations: each customer's newest message (one row per customer),
    optionally only where staff have unread messages from the customer's side."""
    newer = messages.alias("newer")
    later = sa.exists().where(
        newer.c.customer_id == messages.c.customer_id,
        sa.or_(
            newer.c.created_at > messages.c.created_at,
            sa.and_(newer.c.created_at == messages.c.created_at, newer.c.id > messages.c.id),
        ),
    )
    conditions: list[sa.ColumnElement[bool]] = [~later]
    if unread_only:
        unread = messages.alias("unread")
        conditions.append(
            sa.exists().where(
                unread.c.customer_id == messages.c.customer_id,
                *CUSTOMER_UNREAD_FOR_STAFF.where(unread),  # type: ignore[arg-type]
            )
        )
    return conditions


def audit_filter(action: Any = None, customer_id: Any = None) -> list[sa.ColumnElement[bool]]:
    """`auditEvents(action, customerId)` as conditions (values or parameters)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if action is not None:
        conditions.append(audit_events.c.action == action)
    if customer_id is not None:
        conditions.append(audit_events.c.customer_id == customer_id)
    return conditions


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
# Collections (staff only): an invoice's reminders sent and late fees charged, in order.
INVOICE_REMINDERS = Relation(
    "invoice_reminders",
    invoice_reminders,
    "invoice_id",
    Ordering.of(invoice_reminders.c.step, invoice_reminders.c.id),
)
INVOICE_LATE_FEES = Relation(
    "invoice_late_fees", late_fees, "invoice_id", Ordering.of(late_fees.c.period, late_fees.c.id)
)
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
INVOICE_CREDIT_NOTES = Relation(
    "invoice_credit_notes",
    credit_notes,
    "invoice_id",
    Ordering.of(credit_notes.c.number, credit_notes.c.id),
)
CREDIT_NOTE_LINES = Relation(
    "credit_note_lines",
    credit_note_lines,
    "credit_note_id",
    Ordering.of(credit_note_lines.c.position, credit_note_lines.c.id),
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
ORGANIZATION_INTEGRATION_KEYS = Relation(
    "organization_integration_keys",
    integration_keys,
    "organization_id",
    Ordering.of(integration_keys.c.created_at, integration_keys.c.id),
)
ORGANIZATION_ONBOARDING_STEPS = Relation(
    "organization_onboarding_steps",
    onboarding_steps,
    "organization_id",
    Ordering.of(onboarding_steps.c.position, onboarding_steps.c.id),
)
ORGANIZATION_WEBHOOK_ENDPOINTS = Relation(
    "organization_webhook_endpoints",
    webhook_endpoints,
    "organization_id",
    Ordering.of(webhook_endpoints.c.created_at, webhook_endpoints.c.id),
)
WEBHOOK_ENDPOINT_DELIVERIES = Relation(
    "webhook_endpoint_deliveries",
    webhook_deliveries,
    "endpoint_id",
    Ordering.of((webhook_deliveries.c.created_at, True), (webhook_deliveries.c.id, True)),
)
CONTACT_CARS = Relation(
    "contact_cars", contact_cars, "contact_id", Ordering.of(contact_cars.c.car_id)
)


def _pending(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """Sent and not yet expired: what the customer can still answer."""
    return [estimate_status_in(table, [EstimateStatus.SENT])]


def _upcoming(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.ends_at >= request_now()]


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


JOBS_NEWEST = Ordering.of((jobs.c.created_at, True), (jobs.c.id, True))
JOBS_LAST_COMPLETED = Ordering.of((jobs.c.completed_at, True), (jobs.c.id, True))


def _completed(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.status == JobStatus.COMPLETED]


CAR_JOBS = Relation("car_jobs", jobs, "car_id", JOBS_NEWEST)
CUSTOMER_JOBS = Relation("customer_jobs", jobs, "customer_id", JOBS_NEWEST)
# A car's maintenance history is its completed jobs.
CAR_MAINTENANCE_HISTORY = Relation(
    "car_maintenance_history", jobs, "car_id", JOBS_NEWEST, _completed
)
CAR_SCHEDULES = Relation(
    "car_schedules", schedules, "car_id", Ordering.of(schedules.c.name, schedules.c.id)
)
CAR_READINGS = Relation(
    "car_readings",
    readings,
    "car_id",
    Ordering.of((readings.c.recorded_at, True), (readings.c.id, True)),
)


def _to_sign(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.status == ContractStatus.SENT]


CUSTOMER_CONTRACTS = Relation(
    "customer_contracts", contracts, "customer_id", NEWEST_FIRST["contracts"]
)
CUSTOMER_CONTRACTS_TO_SIGN = Relation(
    "customer_contracts_to_sign", contracts, "customer_id", NEWEST_FIRST["contracts"], _to_sign
)


def _not_removed(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.removed_at.is_(None)]


CUSTOMER_PAYMENT_METHODS = Relation(
    "customer_payment_methods",
    saved_methods,
    "customer_id",
    Ordering.of(
        (saved_methods.c.is_default, True),
        (saved_methods.c.created_at, True),
        (saved_methods.c.id, True),
    ),
    _not_removed,
)


def _past(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.ends_at < request_now()]


APPOINTMENTS_LATEST_FIRST = Ordering.of((appointments.c.starts_at, True), (appointments.c.id, True))
CUSTOMER_PAST_APPOINTMENTS = Relation(
    "customer_past_appointments",
    appointments,
    "customer_id",
    APPOINTMENTS_LATEST_FIRST,
    _past,
)
NOTIFICATIONS_NEWEST = Ordering.of((notifications.c.created_at, True), (notifications.c.id, True))
# --- files: car photos and the portal's access log ------------------------------------

PHOTO_ORDER = Ordering.of(car_photos.c.position, car_photos.c.id)
ACCESS_NEWEST = Ordering.of((access_logs.c.created_at, True), (access_logs.c.id, True))


def _about_documents(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.subject_type == "Document"]


CAR_PHOTOS = Relation("car_photos", car_photos, "car_id", PHOTO_ORDER)
REPORT_PHOTOS = Relation("report_photos", car_photos, "condition_report_id", PHOTO_ORDER)
DOCUMENT_ACCESS = Relation(
    "document_access", access_logs, "subject_id", ACCESS_NEWEST, _about_documents
)
CUSTOMER_ACCESS = Relation("customer_access", access_logs, "customer_id", ACCESS_NEWEST)


JOB_PHOTOS = Relation(
    "job_photos",
    job_photos,
    "job_id",
    Ordering.of(job_photos.c.position, job_photos.c.id),
)


COMMUNITY_EVENTS_BY_START = Ordering.of(community_events.c.starts_at, community_events.c.id)
# Everyone who answered, first answers first (the viewer's scope decides whose answers).
EVENT_RSVPS = Relation(
    "event_rsvps",
    event_rsvps,
    "event_id",
    Ordering.of(event_rsvps.c.created_at, event_rsvps.c.id),
)


def _unread_by_staff(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """Written by the customer's side (the customer or a contact), not yet read by staff."""
    return [table.c.author_kind != ActorKind.STAFF, table.c.read_by_staff_at.is_(None)]


CUSTOMER_UNREAD_FOR_STAFF = Relation(
    "customer_unread_for_staff", messages, "customer_id", NEWEST_FIRST["messages"], _unread_by_staff
)


MESSAGE_ATTACHMENTS = Relation(
    "message_attachments",
    message_attachments,
    "message_id",
    Ordering.of(message_attachments.c.created_at, message_attachments.c.id),
)


# --- recurring billing: plans and subscriptions ----------------------------------------

SUBSCRIPTIONS_NEWEST = Ordering.of((subscriptions.c.created_at, True), (subscriptions.c.id, True))
PLANS_BY_NAME = Ordering.of(billing_plans.c.name, billing_plans.c.id)
CUSTOMER_SUBSCRIPTIONS = Relation(
    "customer_subscriptions", subscriptions, "customer_id", SUBSCRIPTIONS_NEWEST
)
CAR_SUBSCRIPTIONS = Relation("car_subscriptions", subscriptions, "car_id", SUBSCRIPTIONS_NEWEST)
PLAN_SUBSCRIPTIONS = Relation("plan_subscriptions", subscriptions, "plan_id", SUBSCRIPTIONS_NEWEST)

ORGANIZATION_DATA_IMPORTS = Relation(
    "organization_data_imports",
    data_imports,
    "organization_id",
    Ordering.of((data_imports.c.created_at, True), (data_imports.c.id, True)),
)
ORGANIZATION_BULK_INVITES = Relation(
    "organization_bulk_invites",
    bulk_invites,
    "organization_id",
    Ordering.of((bulk_invites.c.created_at, True), (bulk_invites.c.id, True)),
)
BULK_INVITE_ITEMS = Relation(
    "bulk_invite_items",
    bulk_invite_items,
    "bulk_invite_id",
    Ordering.of(bulk_invite_items.c.created_at, bulk_invite_items.c.id),
)
