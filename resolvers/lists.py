"""Staff root lists: filters turned into conditions, paged by keyset."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from strawberry import Info

from models import derived, tables
from models import relations as rel
from models.derived import status_filter
from models.enums import (
    AppointmentStatus,
    CarStatus,
    Channel,
    DeliveryState,
    MailKind,
    StaffStatus,
)
from models.pagination import Listing
from models.search import car_search, customer_search
from resolvers.relations import root_connection


async def customers(
    info: Info,
    make: Any,
    search: str | None,
    include_archived: bool,
    first: int,
    after: str | None,
    extra: list[sa.ColumnElement[bool]] | None = None,
) -> Listing[Any]:
    table = tables.customers
    conditions = [*customer_search(table, search), *rel.archived_filter(table, include_archived)]
    conditions += extra or []
    return await root_connection(info, table, rel.BY_NAME, conditions, make, first, after)


async def cars(
    info: Info,
    make: Any,
    search: str | None,
    status: CarStatus | None,
    include_archived: bool,
    first: int,
    after: str | None,
) -> Listing[Any]:
    table = tables.cars
    conditions = [*car_search(table, search), *rel.archived_filter(table, include_archived)]
    if status is not None:
        conditions.append(table.c.status == status)
    return await root_connection(info, table, rel.CARS_BY_MAKE, conditions, make, first, after)


async def by_status(
    info: Info,
    table: sa.Table,
    make: Any,
    status: list[Any] | None,
    first: int,
    after: str | None,
) -> Listing[Any]:
    """Invoices, estimates or contracts, newest first, optionally of some statuses only."""
    conditions = status_filter(table, status)
    ordering = rel.NEWEST_FIRST[table.name]
    return await root_connection(info, table, ordering, conditions, make, first, after)


async def appointments(
    info: Info,
    make: Any,
    starts_after: datetime | None,
    starts_before: datetime | None,
    status: list[AppointmentStatus] | None,
    first: int,
    after: str | None,
) -> Listing[Any]:
    conditions = rel.appointment_filter(starts_after, starts_before, status)
    ordering = rel.APPOINTMENTS_BY_START
    return await root_connection(
        info, tables.appointments, ordering, conditions, make, first, after
    )


async def audit_events(
    info: Info,
    make: Any,
    action: str | None,
    customer_id: uuid.UUID | None,
    first: int,
    after: str | None,
) -> Listing[Any]:
    conditions = rel.audit_filter(action or None, customer_id)
    ordering = rel.NEWEST_FIRST["audit_events"]
    return await root_connection(
        info, tables.audit_events, ordering, conditions, make, first, after
    )


async def conversations(
    info: Info, make: Any, unread_only: bool, first: int, after: str | None
) -> Listing[Any]:
    """Each customer's newest message, newest first: one row per conversation."""
    table = tables.messages
    conditions = rel.conversation_filter(unread_only)
    ordering = rel.NEWEST_FIRST["messages"]
    return await root_connection(info, table, ordering, conditions, make, first, after)


async def billing_plans(
    info: Info, make: Any, include_archived: bool, first: int, after: str | None
) -> Listing[Any]:
    table = tables.billing_plans
    conditions = rel.archived_filter(table, include_archived)
    return await root_connection(info, table, rel.PLANS_BY_NAME, conditions, make, first, after)


def delivery_filter(
    state: DeliveryState | None,
    kind: MailKind | None,
    recipient: str | None,
    channel: Channel | None = None,
) -> list[sa.ColumnElement[bool]]:
    """The delivery log's filters (the planner writes the same: planner/plan.py)."""
    table = tables.outbox_emails
    conditions: list[sa.ColumnElement[bool]] = []
    if state is not None:
        conditions.append(derived.delivery_state(table) == state.value)
    if kind is not None:
        conditions.append(table.c.kind == kind)
    if channel is not None:
        conditions.append(table.c.channel == channel)
    if recipient:
        conditions.append(sa.func.lower(table.c.to_address) == recipient.strip().lower())
    return conditions


async def email_deliveries(
    info: Info,
    make: Any,
    state: DeliveryState | None,
    kind: MailKind | None,
    recipient: str | None,
    first: int,
    after: str | None,
    channel: Channel | None = None,
) -> Listing[Any]:
    """The organization's emails and texts, newest first, filtered."""
    table = tables.outbox_emails
    conditions = delivery_filter(state, kind, recipient, channel)
    ordering = rel.NEWEST_FIRST["outbox_emails"]
    return await root_connection(info, table, ordering, conditions, make, first, after)


async def staff_users(
    info: Info, make: Any, status: StaffStatus | None, first: int, after: str | None
) -> Listing[Any]:
    """The organization's staff by name, of one status if given."""
    table = tables.staff_users
    conditions = [] if status is None else [table.c.status == status]
    return await root_connection(info, table, rel.STAFF_BY_NAME, conditions, make, first, after)
