"""Mutations on community events: staff plan, publish and cancel; portal viewers answer."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import portal_only, staff_only
from domain.events.codes import EventCode
from resolvers import events
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.enums import RsvpStatus
from schema.error_codes import code_field, error_codes
from schema.events import CommunityEvent
from schema.payloads import payload

EventErrorCode = error_codes("EventErrorCode", EventCode, "Why a mutation on an event was refused.")


@strawberry.type(description="A problem with the input of a mutation on an event.")
class EventError(UserError):
    code: Enum = code_field(EventErrorCode)


@strawberry.input(description="Details of an event. Omitted fields keep their value.")
class EventFields:
    title: str | None = strawberry.field(default=UNSET, description="What it is called.")
    description: str | None = strawberry.field(default=UNSET, description="What to expect.")
    place: str | None = strawberry.field(default=UNSET, description="Where it takes place.")
    starts_at: datetime | None = strawberry.field(
        default=UNSET, description="Start, with its offset."
    )
    ends_at: datetime | None = strawberry.field(
        default=UNSET, description="End, with its offset; after the start."
    )
    capacity: int | None = strawberry.field(
        default=UNSET, description="Places, guests included (at least 1); null for no limit."
    )


@strawberry.input(description="A new event, as a draft until it is published.")
class CreateEventInput(EventFields):
    pass


@strawberry.input(description="Changes to an event that is not cancelled.")
class UpdateEventInput(EventFields):
    id: strawberry.ID = strawberry.field(description="The event's global ID.")


@strawberry.input(description="An event to act on.")
class EventInput:
    id: strawberry.ID = strawberry.field(description="The event's global ID.")


@strawberry.input(description="The portal viewer's answer to an event.")
class RsvpEventInput:
    event_id: strawberry.ID = strawberry.field(description="The event's global ID.")
    status: RsvpStatus = strawberry.field(description="GOING or NOT_GOING.")
    guests: int = strawberry.field(
        default=0, description="People they bring along when GOING (0 to 20)."
    )


@strawberry.type(description="The result of an event mutation.")
class EventPayload:
    event: CommunityEvent | None = strawberry.field(description="The event, when it worked.")
    user_errors: list[EventError] = strawberry.field(description="Problems with the input.")


async def _event(info: Info, outcome: Outcome) -> EventPayload:
    return await payload(
        info,
        EventPayload,
        outcome,
        type_name="CommunityEvent",
        object_field="event",
        error_cls=EventError,
        codes=EventErrorCode,
    )


@strawberry.type
class EventMutations:
    @strawberry.mutation(
        description="Plan an event (a draft until it is published).", extensions=staff_only()
    )
    async def create_event(
        self, info: Info, input: Annotated[CreateEventInput, INPUT]
    ) -> EventPayload:
        return await _event(info, await events.create_event(info, input))

    @strawberry.mutation(
        description="Change an event that is not cancelled; the capacity cannot drop below "
        "those already coming.",
        extensions=staff_only(),
    )
    async def update_event(
        self, info: Info, input: Annotated[UpdateEventInput, INPUT]
    ) -> EventPayload:
        return await _event(info, await events.update_event(info, input))

    @strawberry.mutation(
        description="Show the event in the portal and email an invitation to every customer "
        "and contact who wants social-event emails.",
        extensions=staff_only(),
    )
    async def publish_event(self, info: Info, input: Annotated[EventInput, INPUT]) -> EventPayload:
        return await _event(info, await events.publish_event(info, input))

    @strawberry.mutation(
        description="Call the event off: it leaves the portal, and those who answered GOING "
        "(and want social-event emails) are told.",
        extensions=staff_only(),
    )
    async def cancel_event(self, info: Info, input: Annotated[EventInput, INPUT]) -> EventPayload:
        return await _event(info, await events.cancel_event(info, input))

    @strawberry.mutation(
        description="Answer an event, or change the answer: a contact answers for themselves, "
        "a customer for the account. GOING people and their guests never exceed the capacity.",
        extensions=portal_only(),
    )
    async def rsvp_event(self, info: Info, input: Annotated[RsvpEventInput, INPUT]) -> EventPayload:
        return await _event(info, await events.rsvp_event(info, input))
