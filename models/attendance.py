"""How a community event stands: who answered what, and the places taken."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import RsvpStatus
from models.events import CommunityEvent
from models.loaders import KEYS
from models.tables import event_rsvps


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
    """Answers per event and status, over every customer's RSVPs: only counts leave it,
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
