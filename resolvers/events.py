"""Community events: the lists staff and portal viewers read, how full an event is, the
viewer's own answer; and the writes from the API (domain/events/community.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from strawberry import UNSET, Info

from core.ids import decode_id_of
from domain.events import community
from domain.events.community import EventDetails
from domain.problems import Common
from models import relations as rel
from models import tables
from models.attendance import Attendance, attendance_of, attendance_statement, person_key
from models.clock import request_now
from models.enums import RsvpStatus
from models.pagination import Listing
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.relations import root_connection
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.events import (
        CreateEventInput,
        EventFields,
        EventInput,
        RsvpEventInput,
        UpdateEventInput,
    )

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
        person = await loaders.get(tables.contacts, rsvp["contact_id"])
    else:
        person = await loaders.get(tables.customers, rsvp["customer_id"])
    return person["name"] if person is not None else None


def _not_over(table: sa.Table) -> sa.ColumnElement[bool]:
    return table.c.ends_at >= request_now()  # the request's one clock (models/clock.py)


async def upcoming(info: Info, make: Any, first: int, after: str | None) -> Listing[Any]:
    """Published events not cancelled and not over, earliest first: what the portal shows."""
    table = tables.community_events
    conditions = [
        table.c.published_at.is_not(None),
        table.c.cancelled_at.is_(None),
        _not_over(table),
    ]
    ordering = rel.COMMUNITY_EVENTS_BY_START
    return await root_connection(info, table, ordering, conditions, make, first, after)


async def staff_list(
    info: Info, make: Any, upcoming_only: bool, first: int, after: str | None
) -> Listing[Any]:
    """Every event, drafts and cancelled ones included, earliest first."""
    table = tables.community_events
    conditions = [_not_over(table)] if upcoming_only else []
    ordering = rel.COMMUNITY_EVENTS_BY_START
    return await root_connection(info, table, ordering, conditions, make, first, after)


# --- writes: the input checked and its IDs decoded (domain/events/community.py) ----------


def _moment(checks: Checks, field: str, value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        checks.fail(field, "Give the time's offset.")
    return value


def _details(checks: Checks, data: EventFields) -> EventDetails:
    capacity = data.capacity
    if isinstance(capacity, int) and capacity < 1:
        checks.fail("capacity", "At least 1, or leave it empty for no limit.")
    starts_at = _moment(checks, "startsAt", data.starts_at)
    ends_at = _moment(checks, "endsAt", data.ends_at)
    for name, value in (("startsAt", starts_at), ("endsAt", ends_at)):
        if value is None or (value is UNSET and checks.creating):
            checks.fail(name, "This field is required.", Common.REQUIRED)
    return EventDetails(
        title=kept(checks.text("title", data.title, 200, required=True)),
        description=kept(checks.text("description", data.description, 5000)),
        place=kept(checks.text("place", data.place, 300)),
        starts_at=kept(starts_at),
        ends_at=kept(ends_at),
        capacity=kept(capacity),
    )


@mutation_outcome
async def create_event(info: Info, data: CreateEventInput) -> uuid.UUID:
    checks = Checks(creating=True)
    details = _details(checks, data)
    checks.problems += community.time_problems(details.starts_at, details.ends_at)
    checks.done()
    return await community.create_event(info.context, details)


@mutation_outcome
async def update_event(info: Info, data: UpdateEventInput) -> uuid.UUID:
    checks = Checks(creating=False)
    details = _details(checks, data)  # answered with what the event itself shows
    event_id = decode_id_of("CommunityEvent", data.id)
    return await community.update_event(info.context, event_id, details, checks.problems)


@mutation_outcome
async def publish_event(info: Info, data: EventInput) -> uuid.UUID:
    """Announce it: portal viewers see it, and those who want social-event emails are
    invited (in the same transaction, through the outbox)."""
    event_id = decode_id_of("CommunityEvent", data.id)
    return await community.publish_event(info.context, event_id)


@mutation_outcome
async def cancel_event(info: Info, data: EventInput) -> uuid.UUID:
    """Call it off: it leaves the portal, and those GOING are told."""
    event_id = decode_id_of("CommunityEvent", data.id)
    return await community.cancel_event(info.context, event_id)


@mutation_outcome
async def rsvp_event(info: Info, data: RsvpEventInput) -> uuid.UUID:
    """The viewer's answer, made or changed. Events the viewer may not see are NOT_FOUND."""
    checks = Checks()
    checks.problems += community.guest_problems(data.guests)
    checks.done()
    event_id = decode_id_of("CommunityEvent", data.event_id)
    status = RsvpStatus(data.status.value)
    return await community.rsvp_event(info.context, event_id, status, data.guests)
