"""Community events an organization publishes, and who is coming."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import RsvpStatus
from models.loaders import KEYS
from models.types import UTCDateTime


class CommunityEvent(TenantRow, table=True):
    __tablename__ = "community_events"
    __table_args__ = (
        sa.Index("ix_community_events_organization_id_starts_at", "organization_id", "starts_at"),
    )

    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    place: str | None = Field(default=None, max_length=300)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    capacity: int | None = Field(default=None, ge=1)
    published_at: datetime | None = utc_field()
    cancelled_at: datetime | None = utc_field()
    reminded_at: datetime | None = utc_field()


class EventRsvp(TenantRow, table=True):
    """One person's answer; a contact answers for themselves, a customer for the account."""

    __tablename__ = "event_rsvps"
    __table_args__ = (sa.UniqueConstraint("event_id", "person_key"),)

    event_id: uuid.UUID = Field(foreign_key="community_events.id", index=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    person_key: str = Field(max_length=40)  # the contact's id, else the customer's
    status: RsvpStatus = enum_field(RsvpStatus, default=RsvpStatus.GOING)
    guests: int = Field(default=0, ge=0, le=20)


community_events: sa.Table = CommunityEvent.__table__  # type: ignore[attr-defined]
event_rsvps: sa.Table = EventRsvp.__table__  # type: ignore[attr-defined]


def person_key(customer_id: uuid.UUID, contact_id: uuid.UUID | None) -> str:
    """Whose answer it is: a contact answers for themselves, a customer for the account."""
    return str(contact_id or customer_id)


@dataclass(frozen=True, slots=True)
class Attendance:
    """How an event stands: answers and the guests that GOING people bring."""

    going: int = 0
    guests: int = 0
    not_going: int = 0

    @property
    def headcount(self) -> int:
        """The places taken: everyone GOING plus their guests."""
        return self.going + self.guests

    def spots_left(self, capacity: int | None) -> int | None:
        return None if capacity is None else max(capacity - self.headcount, 0)


def attendance_statement() -> sa.Select[Any]:
    """Answers per event and status, over every customer's RSVPs: only figures leave it,
    so portal viewers learn how full an event is without seeing who answered. Keyed by
    the loaders' KEYS, narrowed to the viewer's organization."""
    return (
        sa.select(
            event_rsvps.c.event_id,
            event_rsvps.c.status,
            sa.func.count().label("answers"),
            sa.func.coalesce(sa.func.sum(event_rsvps.c.guests), 0).label("guests"),
        )
        .where(
            event_rsvps.c.organization_id == sa.bindparam("scope_org", type_=sa.Uuid()),
            event_rsvps.c.event_id.in_(sa.bindparam(KEYS, expanding=True)),
        )
        .group_by(event_rsvps.c.event_id, event_rsvps.c.status)
    )


def attendance_of(rows: Sequence[Mapping[str, Any]]) -> Attendance:
    """One event's rows of `attendance_statement`."""
    by_status = {RsvpStatus(row["status"]): row for row in rows}
    going, not_going = by_status.get(RsvpStatus.GOING), by_status.get(RsvpStatus.NOT_GOING)
    return Attendance(
        going=going["answers"] if going else 0,
        guests=int(going["guests"]) if going else 0,
        not_going=not_going["answers"] if not_going else 0,
    )


async def attendance(
    session: AsyncSession, event: CommunityEvent, *, except_person: str | None = None
) -> Attendance:
    """How an event stands now, inside a write (the caller holds the event row's lock);
    `except_person` leaves out the answer about to be replaced."""
    stmt = attendance_statement()
    if except_person is not None:
        stmt = stmt.where(event_rsvps.c.person_key != except_person)
    params = {"scope_org": event.organization_id, KEYS: [event.id]}
    return attendance_of((await session.execute(stmt, params)).mappings().all())
