"""What each export holds, and its rows read in keyset batches.

Each kind is one table of the organization, its columns in a fixed order (the header row
names them) and the date its range applies to. Rows are read `BATCH` at a time, ordered by
(created_at, id) and resumed after the last row sent, each batch one statement on a
connection taken for it alone: memory stays at one batch whatever the export's size, and
no connection or transaction is held while the client reads slowly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from auth.access import row_scope
from auth.exports import EXPORT_KINDS
from auth.viewer import Viewer
from core.ids import encode_id
from domain.audit import audit
from domain.exports.csv_rows import encode
from domain.work import Actor
from models.calendar import end_of_day
from models.clock import Clock
from models.db import Database
from models.derived import amount_due, is_overdue
from models.tables import cars, customers, invoices, organizations, payments
from models.types import UTCDateTime

BATCH = 250


def gid(type_name: str) -> Callable[[Any], str | None]:
    return lambda value: encode_id(type_name, value) if value is not None else None


@dataclass(frozen=True)
class Column:
    header: str
    expression: sa.ColumnElement[Any]
    shown: Callable[[Any], Any] = lambda value: value


@dataclass(frozen=True)
class Kind:
    table: sa.Table
    columns: tuple[Column, ...]
    # What the date range applies to: a UTC timestamp (compared with the range's instants
    # in the organization's zone) or a date already local to the organization.
    dated_by: sa.ColumnElement[Any]
    dated_is_local_date: bool = False

    @property
    def header(self) -> list[str]:
        return [column.header for column in self.columns]


def _c(header: str, expression: Any, shown: Callable[[Any], Any] | None = None) -> Column:
    return Column(header, expression, shown) if shown else Column(header, expression)


KINDS: dict[str, Kind] = {
    "customers": Kind(
        customers,
        (
            _c("id", customers.c.id, gid("Customer")),
            _c("name", customers.c.name),
            _c("company", customers.c.company),
            _c("email", customers.c.email),
            _c("phone", customers.c.phone),
            _c("address_line1", customers.c.address_line1),
            _c("address_line2", customers.c.address_line2),
            _c("city", customers.c.city),
            _c("region", customers.c.region),
            _c("postal_code", customers.c.postal_code),
            _c("country", customers.c.country),
            _c("portal_status", customers.c.portal_status),
            _c("archived_at", customers.c.archived_at),
            _c("created_at", customers.c.created_at),
        ),
        customers.c.created_at,
    ),
    "cars": Kind(
        cars,
        (
            _c("id", cars.c.id, gid("Car")),
            _c("customer_id", cars.c.customer_id, gid("Customer")),
            _c("make", cars.c.make),
            _c("model", cars.c.model),
            _c("year", cars.c.year),
            _c("vin", cars.c.vin),
            _c("license_plate", cars.c.license_plate),
            _c("color", cars.c.color),
            _c("status", cars.c.status),
            _c("mileage", cars.c.mileage),
            _c("archived_at", cars.c.archived_at),
            _c("created_at", cars.c.created_at),
        ),
        cars.c.created_at,
    ),
    "invoices": Kind(
        invoices,
        (
            _c("id", invoices.c.id, gid("Invoice")),
            _c("number", invoices.c.number),
            _c("customer_id", invoices.c.customer_id, gid("Customer")),
            _c("car_id", invoices.c.car_id, gid("Car")),
            _c("status", invoices.c.status),
            _c("issue_date", invoices.c.issue_date),
            _c("due_date", invoices.c.due_date),
            _c("currency", invoices.c.currency),
            _c("subtotal", invoices.c.subtotal),
            _c("discount_total", invoices.c.discount_total),
            _c("tax_total", invoices.c.tax_total),
            _c("total", invoices.c.total),
            _c("amount_paid", invoices.c.amount_paid),
            _c("credited_amount", invoices.c.credited_amount),
            _c("credit_applied", invoices.c.credit_applied),
            # The API's `amountDue` and `isOverdue`: the same SQL (models/derived.py).
            _c("amount_due", amount_due(invoices)),
            _c("is_overdue", is_overdue(invoices), bool),
            _c("notes", invoices.c.notes),
            _c("sent_at", invoices.c.sent_at),
            _c("voided_at", invoices.c.voided_at),
            _c("created_at", invoices.c.created_at),
        ),
        invoices.c.issue_date,
        dated_is_local_date=True,
    ),
    "payments": Kind(
        payments,
        (
            _c("id", payments.c.id, gid("Payment")),
            _c("customer_id", payments.c.customer_id, gid("Customer")),
            _c("invoice_id", payments.c.invoice_id, gid("Invoice")),
            _c("estimate_id", payments.c.estimate_id, gid("Estimate")),
            _c("amount", payments.c.amount),
            _c("currency", payments.c.currency),
            _c("method", payments.c.method),
            _c("status", payments.c.status),
            _c("refunded_amount", payments.c.refunded_amount),
            _c("disputed_amount", payments.c.disputed_amount),
            _c("dispute_status", payments.c.dispute_status),
            _c("reference", payments.c.reference),
            _c("received_at", payments.c.received_at),
            _c("created_at", payments.c.created_at),
        ),
        sa.func.coalesce(payments.c.received_at, payments.c.created_at),
    ),
}


@dataclass(frozen=True)
class DateRange:
    """Days of the organization, both ends included; either may be open."""

    first: date | None = None
    last: date | None = None

    def conditions(self, kind: Kind, timezone: str) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if kind.dated_is_local_date:
            if self.first is not None:
                found.append(kind.dated_by >= self.first)
            if self.last is not None:
                found.append(kind.dated_by <= self.last)
            return found
        if self.first is not None:
            start = datetime.combine(self.first, time(), tzinfo=ZoneInfo(timezone))
            found.append(kind.dated_by >= sa.literal(start.astimezone(UTC), UTCDateTime()))
        if self.last is not None:
            end = end_of_day(self.last, timezone)
            found.append(kind.dated_by < sa.literal(end, UTCDateTime()))
        return found

    def described(self) -> dict[str, str | None]:
        return {
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
        }


assert tuple(KINDS) == EXPORT_KINDS, "every export kind needs an entry in KINDS"


async def organization_zone(db: Database, organization_id: uuid.UUID) -> str:
    async with db.admitted(organization_id), db.connect() as conn:
        zone = await conn.scalar(
            sa.select(organizations.c.timezone).where(organizations.c.id == organization_id)
        )
    return str(zone or "UTC")


@dataclass
class Tally:
    """Rows sent so far."""

    rows: int = 0


async def csv_chunks(
    db: Database,
    viewer: Viewer,
    kind: Kind,
    dates: DateRange,
    timezone: str,
    clock: Clock,
    tally: Tally | None = None,
) -> AsyncIterator[bytes]:
    """The header line, then one chunk of CSV per batch of rows (counted in `tally`)."""
    tally = tally or Tally()
    yield encode([kind.header])
    table = kind.table
    # The viewer's own scope (their organization, auth/access.py) narrows every statement.
    scope = row_scope(viewer)
    key = (table.c.created_at, table.c.id)
    base = (
        sa.select(*(c.expression.label(f"c{i}") for i, c in enumerate(kind.columns)), *key)
        .where(*scope.conditions(table), *dates.conditions(kind, timezone))
        .order_by(*key)
        .limit(BATCH)
    )
    params = {**scope.params, **clock.params}
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        statement = base if after is None else base.where(sa.tuple_(*key) > _key_of(*after))
        batch = await _read(db, viewer.organization_id, statement, params)
        if not batch:
            return
        yield encode(_shown(kind, row) for row in batch)
        tally.rows += len(batch)
        if len(batch) < BATCH:
            return
        last = batch[-1]
        after = (last["created_at"], last["id"])


def _key_of(created_at: datetime, row_id: uuid.UUID) -> sa.Tuple:
    return sa.tuple_(sa.literal(created_at, UTCDateTime()), sa.literal(row_id, sa.Uuid()))


def _shown(kind: Kind, row: RowMapping) -> list[Any]:
    return [column.shown(row[f"c{i}"]) for i, column in enumerate(kind.columns)]


async def _read(
    db: Database, tenant: uuid.UUID | None, statement: sa.Select[Any], params: dict[str, Any]
) -> Sequence[RowMapping]:
    async with db.admitted(tenant), db.connect() as conn:
        result = await conn.execute(statement, params)
        rows: Sequence[RowMapping] = result.mappings().all()
        return rows


async def record_export(
    db: Database, actor: Actor, kind_name: str, dates: DateRange, rows: int | None = None
) -> None:
    """An audit row in a transaction of its own: `export.downloaded` before the first row
    is sent (no export goes unrecorded), `export.completed` with the rows sent once the last
    has gone (an export the client broke off has none). No transaction stays open while the
    export streams."""
    data: dict[str, Any] = {"kind": kind_name, **dates.described()}
    action = "export.downloaded" if rows is None else "export.completed"
    if rows is not None:
        data["rows"] = rows
    async with db.write() as session:
        session.add(audit(actor, action, data=data))
