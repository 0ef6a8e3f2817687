"""Events for webhooks, written in the transaction of their cause.

`emit(session, "invoice.paid", invoice)` writes the event's body once (so every delivery
and redelivery sends the same bytes, with the same event id) and one delivery row for each
enabled endpoint of the organization that asked for that type; where none did, nothing is
written. The body carries global ids only, never a row id, a hash or a secret.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from core.ids import encode_id
from models import Invoice
from models.base import table_of
from models.enums import InvoiceStatus
from models.ledger import settle
from models.tables import webhook_endpoints as endpoints
from models.types import utcnow
from models.webhooks import WebhookDelivery, WebhookEvent

EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "car.status_changed",
    "invoice.sent",
    "invoice.paid",
    "invoice.voided",
    "payment.succeeded",
    "payment.refunded",
    "estimate.approved",
    "estimate.declined",
    "appointment.created",
    "appointment.changed",
    "appointment.cancelled",
    "contract.signed",
    "message.received",
)

# The API's type for each table an event's object, or a column of it, may name.
TYPE_OF_TABLE = {
    "appointments": "Appointment",
    "cars": "Car",
    "contacts": "Contact",
    "contracts": "Contract",
    "customers": "Customer",
    "documents": "Document",
    "estimates": "Estimate",
    "invoices": "Invoice",
    "jobs": "Job",
    "messages": "Message",
    "payments": "Payment",
    "staff_users": "StaffUser",
}
# Columns no integrator gets: credentials, a signer's address and browser, and the
# organization (said once, at the top).
_WITHHELD = ("hash", "secret", "token", "password", "payload", "organization_id", "user_agent")

_last_stamp = datetime.min.replace(tzinfo=UTC)


def _stamp() -> datetime:
    """Now, and later than any stamp this process gave before: two events of one object in
    one transaction keep their order."""
    global _last_stamp
    now = utcnow()
    _last_stamp = max(now, _last_stamp + timedelta(microseconds=1))
    return _last_stamp


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def object_of(table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """The row as an integrator sees it: camelCase keys, ids as global ids."""
    out: dict[str, Any] = {"id": encode_id(TYPE_OF_TABLE[table.name], values["id"])}
    for column in table.columns:
        name = column.name
        if name == "id" or name.endswith("_ip") or any(word in name for word in _WITHHELD):
            continue
        value = values.get(name)
        targets = [fk.column.table.name for fk in column.foreign_keys]
        if targets:  # a row of another table: its global id, where the API names that type
            type_name = TYPE_OF_TABLE.get(targets[0])
            if type_name is not None:
                out[_camel(name)] = encode_id(type_name, value) if value is not None else None
            continue
        if isinstance(value, uuid.UUID):
            continue  # a row id of no table the API names
        out[_camel(name)] = _value(value)  # a provider's id (Stripe's) is a plain value
    return out


# Every write that emits an event reads these: built once (no expression building per
# mutation, and SQLAlchemy finds the compiled form by the statement's memoized cache key).
_ENABLED_ENDPOINTS = sa.select(endpoints.c.id, endpoints.c.event_types).where(
    endpoints.c.organization_id == sa.bindparam("organization_id"),
    endpoints.c.enabled.is_(True),
)


async def emit(session: AsyncSession, event_type: str, row: SQLModel) -> uuid.UUID | None:
    """The event about `row` (a table model with `organization_id`), in the caller's
    transaction; its id, or None where no endpoint wants it."""
    table = table_of(type(row))
    values = {column.name: getattr(row, column.name) for column in table.columns}
    return await emit_values(session, event_type, table, values)


async def emit_values(
    session: AsyncSession, event_type: str, table: sa.Table, values: Mapping[str, Any]
) -> uuid.UUID | None:
    """`emit` for a row read as a mapping (an action working with Core statements)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type}")
    organization_id = values["organization_id"]
    rows = await session.execute(_ENABLED_ENDPOINTS, {"organization_id": organization_id})
    wanting = [row.id for row in rows if event_type in (row.event_types or [])]
    if not wanting:
        return None
    at = _stamp()
    event_id = uuid.uuid4()
    text = event_body(event_id, event_type, at, table, values)
    object_type = TYPE_OF_TABLE[table.name]
    session.add(
        WebhookEvent(
            id=event_id,
            organization_id=organization_id,
            event_type=event_type,
            object_type=object_type,
            object_id=values["id"],
            body=text,
            created_at=at,
            updated_at=at,
        )
    )
    await session.flush()
    for endpoint_id in wanting:
        session.add(
            new_delivery(organization_id, endpoint_id, event_id, event_type, values["id"], at)
        )
    return event_id


def event_body(
    event_id: uuid.UUID,
    event_type: str,
    at: datetime,
    table: sa.Table,
    values: Mapping[str, Any],
) -> str:
    """The JSON every delivery of the event sends, byte for byte."""
    body = {
        "id": encode_id("WebhookEvent", event_id),
        "type": event_type,
        "createdAt": _value(at),
        "organization": {"id": encode_id("Organization", values["organization_id"])},
        "data": {"object": object_of(table, values)},
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def new_delivery(
    organization_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    event_id: uuid.UUID,
    event_type: str,
    object_id: uuid.UUID,
    at: datetime,
) -> WebhookDelivery:
    """A delivery due at once."""
    return WebhookDelivery(
        organization_id=organization_id,
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type=event_type,
        object_id=object_id,
        next_attempt_at=at,
        created_at=at,
        updated_at=at,
    )


async def settle_told(session: AsyncSession, invoice: Invoice) -> None:
    """`models.ledger.settle`, with invoice.paid when it makes the invoice PAID."""
    was = invoice.status
    await settle(session, invoice)
    if invoice.status is InvoiceStatus.PAID and was is not InvoiceStatus.PAID:
        await emit(session, "invoice.paid", invoice)
