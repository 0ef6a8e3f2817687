"""Community events: staff plan, publish and cancel them; portal viewers answer.

Places are counted under the event's row lock: every answer locks the event first, so
the people GOING plus their guests never exceed its capacity, however many answer at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from strawberry import UNSET, Info

from auth.access import row_scope
from core.errors import NotFound
from core.ids import decode_id_of
from domain.audit import audit
from models import CommunityEvent, EventRsvp, Organization
from models import relations as rel
from models.attendance import Attendance, attendance_of, attendance_statement, person_key
from models.attendance import attendance as attendance_now
from models.clock import request_now
from models.enums import RsvpStatus
from models.types import utcnow
from models.writes import apply, visible_for_update
from resolvers.event_mail import send_cancellations, send_invitations
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.relations import root_connection
from resolvers.rows import tenant_row
from resolvers.validation import Checks, Problem, changes
from schema.connections import Connection

MAX_GUESTS = 20

# --- reads ------------------------------------------------------------------------------


async def attendance(info: Info, event_id: uuid.UUID) -> Attendance:
    """How full an event is, batched across the events of a response."""
    loader = info.context.loaders.aggregates("event_attendance", attendance_statement)
    return attendance_of(await loader.load(event_id))


async def my_rsvp(info: Info, event_id: uuid.UUID) -> RowMapping | None:
    viewer = info.context.viewer
    if not viewer.is_portal or viewer.customer_id is None:
        return None
    mine = person_key(viewer.customer_id, viewer.contact_id)
    answers = await info.context.loaders.children(rel.EVENT_RSVPS).load(event_id)
    return next((row for row in answers if row["person_key"] == mine), None)


async def answered_by(info: Info, rsvp: RowMapping) -> str | None:
    loaders = info.context.loaders
    if rsvp["contact_id"] is not None:
        person = await loaders.get(rel.contacts, rsvp["contact_id"])
    else:
        person = await loaders.get(rel.customers, rsvp["customer_id"])
    return person["name"] if person is not None else None


def _not_over(table: sa.Table) -> sa.ColumnElement[bool]:
    return table.c.ends_at >= request_now()  # the request's one clock (models/clock.py)


async def upcoming(info: Info, make: Any, first: int, after: str | None) -> Connection[Any]:
    """Published events not cancelled and not over, earliest first: what the portal shows."""
    table = rel.community_events
    conditions = [
        table.c.published_at.is_not(None),
        table.c.cancelled_at.is_(None),
        _not_over(table),
    ]
    ordering = rel.COMMUNITY_EVENTS_BY_START
    return await root_connection(info, table, ordering, conditions, make, first, after)


async def staff_list(
    info: Info, make: Any, upcoming_only: bool, first: int, after: str | None
) -> Connection[Any]:
    """Every event, drafts and cancelled ones included, earliest first."""
    table = rel.community_events
    conditions = [_not_over(table)] if upcoming_only else []
    ordering = rel.COMMUNITY_EVENTS_BY_START
    return await root_connection(info, table, ordering, conditions, make, first, after)


# --- staff ------------------------------------------------------------------------------


def _moment(checks: Checks, field: str, value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        checks.fail(field, "Give the time's offset.")
    return value


def _values(checks: Checks, data: Any) -> dict[str, Any]:
    capacity = data.capacity
    if isinstance(capacity, int) and capacity < 1:
        checks.fail("capacity", "At least 1, or leave it empty for no limit.")
    starts_at = _moment(checks, "startsAt", data.starts_at)
    ends_at = _moment(checks, "endsAt", data.ends_at)
    for name, value in (("startsAt", starts_at), ("endsAt", ends_at)):
        if value is None or (value is UNSET and checks.creating):
            checks.fail(name, "This field is required.", "REQUIRED")
    return changes(
        title=checks.text("title", data.title, 200, required=True),
        description=checks.text("description", data.description, 5000),
        place=checks.text("place", data.place, 300),
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
    )


def _check_times(checks: Checks, starts_at: Any, ends_at: Any) -> None:
    aware = [isinstance(t, datetime) and t.tzinfo is not None for t in (starts_at, ends_at)]
    if all(aware) and ends_at <= starts_at:
        checks.fail("endsAt", "The end must come after the start.")


@mutation_outcome
async def create_event(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = _values(checks, data)
    _check_times(checks, values.get("starts_at"), values.get("ends_at"))
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        event = CommunityEvent(organization_id=ctx.viewer.organization_id, **values)
        session.add(event)
        session.add(audit(ctx, "event.created", subject_type="CommunityEvent", subject_id=event.id))
    return event.id


@mutation_outcome
async def update_event(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=False)
    values = _values(checks, data)  # checked with the row's own times below, all at once
    ctx = info.context
    async with ctx.write() as session:
        event = await tenant_row(session, CommunityEvent, ctx.viewer.organization_id, data.id)
        if event.cancelled_at is not None:
            raise Rejected(Problem("id", "A cancelled event cannot change.", "NOT_EDITABLE"))
        starts_at = values.get("starts_at", event.starts_at)
        _check_times(checks, starts_at, values.get("ends_at", event.ends_at))
        capacity = values.get("capacity", event.capacity)
        if capacity is not None:
            taken = (await attendance_now(session, event)).headcount
            if capacity < taken:
                checks.fail("capacity", f"{taken} people are already coming.")
        checks.done()
        if starts_at != event.starts_at:
            values["reminded_at"] = None  # a moved event is reminded of again
        apply(event, values)
    return event.id


@mutation_outcome
async def publish_event(info: Info, data: Any) -> uuid.UUID:
    """Announce it: portal viewers see it, and those who want social-event emails are
    invited (in the same transaction, through the outbox)."""
    ctx = info.context
    async with ctx.write() as session:
        event = await tenant_row(session, CommunityEvent, ctx.viewer.organization_id, data.id)
        if event.published_at is not None or event.cancelled_at is not None:
            raise Rejected(Problem("id", "This event was already published.", "NOT_EDITABLE"))
        if event.ends_at <= utcnow():
            raise Rejected(Problem("id", "This event is over.", "EVENT_OVER"))
        apply(event, {"published_at": utcnow()})
        org = await session.get(Organization, event.organization_id)
        assert org is not None
        invited = await send_invitations(session, ctx.settings, org, event)
        session.add(
            audit(
                ctx,
                "event.published",
                subject_type="CommunityEvent",
                subject_id=event.id,
                data={"invited": invited},
            )
        )
    return event.id


@mutation_outcome
async def cancel_event(info: Info, data: Any) -> uuid.UUID:
    """Call it off: it leaves the portal, and those GOING are told."""
    ctx = info.context
    async with ctx.write() as session:
        event = await tenant_row(session, CommunityEvent, ctx.viewer.organization_id, data.id)
        if event.cancelled_at is not None:
            raise Rejected(Problem("id", "This event is already cancelled.", "NOT_EDITABLE"))
        if event.ends_at <= utcnow():
            raise Rejected(Problem("id", "This event is over.", "EVENT_OVER"))
        apply(event, {"cancelled_at": utcnow()})
        told = 0
        if event.published_at is not None:
            org = await session.get(Organization, event.organization_id)
            assert org is not None
            told = await send_cancellations(session, org, event)
        session.add(
            audit(
                ctx,
                "event.cancelled",
                subject_type="CommunityEvent",
                subject_id=event.id,
                data={"told": told},
            )
        )
    return event.id


# --- portal -----------------------------------------------------------------------------


@mutation_outcome
async def rsvp_event(info: Info, data: Any) -> uuid.UUID:
    """The viewer's answer, made or changed. Events the viewer may not see are NOT_FOUND."""
    checks = Checks()
    guests = data.guests
    if not 0 <= guests <= MAX_GUESTS:
        checks.fail("guests", f"Bring between 0 and {MAX_GUESTS} guests.")
    checks.done()
    ctx = info.context
    viewer = ctx.viewer
    if viewer.customer_id is None:
        raise NotFound()
    status = RsvpStatus(data.status.value)
    if status is RsvpStatus.NOT_GOING:
        guests = 0
    mine = person_key(viewer.customer_id, viewer.contact_id)
    event_id = decode_id_of("CommunityEvent", data.event_id)
    async with ctx.write() as session:
        # The lock every answer to this event queues on (SQLite: the write lock).
        found = await visible_for_update(session, CommunityEvent, row_scope(viewer), [event_id])
        if not found:
            raise NotFound(row=("CommunityEvent", event_id))
        event = found[0]
        if event.ends_at <= utcnow():
            raise Rejected(Problem("eventId", "This event is over.", "EVENT_OVER"))
        if status is RsvpStatus.GOING and event.capacity is not None:
            others = (await attendance_now(session, event, except_person=mine)).headcount
            left = max(event.capacity - others, 0)
            if 1 + guests > left:
                raise Rejected(Problem("guests", f"Only {left} places are left.", "FULL"))
        rsvp = (
            await session.execute(
                sa.select(EventRsvp).where(
                    EventRsvp.event_id == event.id, EventRsvp.person_key == mine
                )
            )
        ).scalar_one_or_none()
        if rsvp is None:
            session.add(
                EventRsvp(
                    organization_id=event.organization_id,
                    event_id=event.id,
                    customer_id=viewer.customer_id,
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
                ctx,
                "event.rsvp",
                subject_type="CommunityEvent",
                subject_id=event.id,
                data={"status": status.value, "guests": guests},
            )
        )
    return event.id
