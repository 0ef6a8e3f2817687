"""Community events: staff plan, publish and cancel them; portal viewers answer.

Places are counted under the event's row lock: every answer locks the event first, so
the people GOING plus their guests never exceed its capacity, however many answer at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from auth.access import row_scope
from core.errors import NotFound
from domain.audit import audit
from domain.edits import KEEP, Edit, changes
from domain.events.announcements import send_cancellations, send_invitations
from domain.events.codes import EventCode
from domain.problems import Problem, Rejected
from domain.rows import customer_of, locked, organization_of
from domain.work import Work
from models import CommunityEvent, EventRsvp, Organization
from models.attendance import attendance, person_key
from models.enums import RsvpStatus
from models.types import utcnow
from models.writes import apply, visible_for_update

MAX_GUESTS = 20


@dataclass(frozen=True)
class EventDetails:
    """An event's own fields, as checked at the edge; KEEP leaves one as it is."""

    title: Edit[str] = KEEP
    description: Edit[str | None] = KEEP
    place: Edit[str | None] = KEEP
    starts_at: Edit[datetime] = KEEP
    ends_at: Edit[datetime] = KEEP
    capacity: Edit[int | None] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(**{name: getattr(self, name) for name in self.__dataclass_fields__})


def time_problems(starts_at: object, ends_at: object) -> list[Problem]:
    """The end after the start, when both are known with their offsets."""
    aware = [isinstance(t, datetime) and t.tzinfo is not None for t in (starts_at, ends_at)]
    if all(aware) and ends_at <= starts_at:  # type: ignore[operator]
        return [Problem("endsAt", "The end must come after the start.")]
    return []


def _over(event_id_field: str) -> Rejected:
    return Rejected(Problem(event_id_field, "This event is over.", EventCode.EVENT_OVER))


def _not_editable(message: str) -> Rejected:
    return Rejected(Problem("id", message, EventCode.NOT_EDITABLE))


async def create_event(work: Work, details: EventDetails) -> uuid.UUID:
    """A draft event of the organization, until it is published."""
    if problems := time_problems(details.starts_at, details.ends_at):
        raise Rejected(*problems)
    async with work.write() as session:
        event = CommunityEvent(organization_id=organization_of(work), **details.values())
        session.add(event)
        session.add(
            audit(work, "event.created", subject_type="CommunityEvent", subject_id=event.id)
        )
    return event.id


async def update_event(
    work: Work,
    event_id: uuid.UUID,
    details: EventDetails,
    input_problems: Sequence[Problem] = (),
) -> uuid.UUID:
    """Change an event that is not cancelled; its capacity cannot drop below those already
    coming, and a moved event is reminded of again. Problems the edge found in the input
    are answered together with those found against the event (its times, who is coming)."""
    values = details.values()
    async with work.write() as session:
        event = await locked(session, CommunityEvent, work.viewer.organization_id, event_id)
        if event.cancelled_at is not None:
            raise _not_editable("A cancelled event cannot change.")
        starts_at = values.get("starts_at", event.starts_at)
        problems = [
            *input_problems,
            *time_problems(starts_at, values.get("ends_at", event.ends_at)),
        ]
        capacity = values.get("capacity", event.capacity)
        if capacity is not None:
            taken = (await attendance(session, event)).headcount
            if capacity < taken:
                problems.append(Problem("capacity", f"{taken} people are already coming."))
        if problems:
            raise Rejected(*problems)
        if starts_at != event.starts_at:
            values["reminded_at"] = None  # a moved event is reminded of again
        apply(event, values)
    return event.id


async def publish_event(work: Work, event_id: uuid.UUID) -> uuid.UUID:
    """Announce it: portal viewers see it, and those who want social-event emails are
    invited (in the same transaction, through the outbox)."""
    async with work.write() as session:
        event = await locked(session, CommunityEvent, work.viewer.organization_id, event_id)
        if event.published_at is not None or event.cancelled_at is not None:
            raise _not_editable("This event was already published.")
        if event.ends_at <= utcnow():
            raise _over("id")
        apply(event, {"published_at": utcnow()})
        org = await session.get(Organization, event.organization_id)
        assert org is not None  # the event's foreign key holds it
        invited = await send_invitations(session, work.settings, org, event)
        session.add(
            audit(
                work,
                "event.published",
                subject_type="CommunityEvent",
                subject_id=event.id,
                data={"invited": invited},
            )
        )
    return event.id


async def cancel_event(work: Work, event_id: uuid.UUID) -> uuid.UUID:
    """Call it off: it leaves the portal, and those GOING are told."""
    async with work.write() as session:
        event = await locked(session, CommunityEvent, work.viewer.organization_id, event_id)
        if event.cancelled_at is not None:
            raise _not_editable("This event is already cancelled.")
        if event.ends_at <= utcnow():
            raise _over("id")
        apply(event, {"cancelled_at": utcnow()})
        told = 0
        if event.published_at is not None:
            org = await session.get(Organization, event.organization_id)
            assert org is not None  # the event's foreign key holds it
            told = await send_cancellations(session, org, event)
        session.add(
            audit(
                work,
                "event.cancelled",
                subject_type="CommunityEvent",
                subject_id=event.id,
                data={"told": told},
            )
        )
    return event.id


def guest_problems(guests: int) -> list[Problem]:
    if not 0 <= guests <= MAX_GUESTS:
        return [Problem("guests", f"Bring between 0 and {MAX_GUESTS} guests.")]
    return []


async def rsvp_event(work: Work, event_id: uuid.UUID, status: RsvpStatus, guests: int) -> uuid.UUID:
    """The viewer's answer, made or changed: a contact answers for themselves, a customer
    for the account. Events the viewer may not see are NOT_FOUND."""
    if problems := guest_problems(guests):
        raise Rejected(*problems)
    viewer = work.viewer
    if viewer.customer_id is None:
        raise NotFound()
    customer_id = customer_of(work)
    if status is RsvpStatus.NOT_GOING:
        guests = 0
    mine = person_key(customer_id, viewer.contact_id)
    async with work.write() as session:
        # The lock every answer to this event queues on (SQLite: the write lock).
        found = await visible_for_update(session, CommunityEvent, row_scope(viewer), [event_id])
        if not found:
            raise NotFound(row=("CommunityEvent", event_id))
        event = found[0]
        if event.ends_at <= utcnow():
            raise _over("eventId")
        if status is RsvpStatus.GOING and event.capacity is not None:
            others = (await attendance(session, event, except_person=mine)).headcount
            left = max(event.capacity - others, 0)
            if 1 + guests > left:
                raise Rejected(Problem("guests", f"Only {left} places are left.", EventCode.FULL))
        rsvp = (
            await session.execute(
                sa.select(EventRsvp).where(
                    col(EventRsvp.event_id) == event.id, col(EventRsvp.person_key) == mine
                )
            )
        ).scalar_one_or_none()
        if rsvp is None:
            session.add(
                EventRsvp(
                    organization_id=event.organization_id,
                    event_id=event.id,
                    customer_id=customer_id,
                    contact_id=viewer.contact_id,
                    person_key=mine,
                    status=status,
                    guests=guests,
                )
            )
        else:
            apply(rsvp, {"status": status, "guests": guests})
        session.add(
            audit(
                work,
                "event.rsvp",
                subject_type="CommunityEvent",
                subject_id=event.id,
                data={"status": status.value, "guests": guests},
            )
        )
    return event.id
