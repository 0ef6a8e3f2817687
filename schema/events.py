"""Community events the organization publishes, and the answers to them."""

from datetime import datetime

import strawberry
from strawberry import Info

from auth.permissions import staff_only
from models import relations as rel
from models import tables
from resolvers import events
from schema.enums import RsvpStatus
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, row_type


@row_type(tables.community_events)
@strawberry.type(description="A cars-and-coffee morning, an open day: an event customers attend.")
class CommunityEvent(RowType, Node):
    title: str = strawberry.field(description="What the event is called.")
    description: str | None = strawberry.field(description="What to expect.")
    place: str | None = strawberry.field(description="Where it takes place.")
    starts_at: datetime = strawberry.field(description="Start (UTC).")
    ends_at: datetime = strawberry.field(description="End (UTC).")
    capacity: int | None = strawberry.field(
        description="How many people may come, guests included; null for no limit."
    )
    published_at: datetime | None = strawberry.field(
        description="When it was announced to customers (UTC); null while a draft."
    )
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled (UTC).")
    reminded_at: datetime | None = strawberry.field(
        description="When attendees were reminded (UTC).", extensions=staff_only()
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @strawberry.field(description="Places still free (null for no limit).")
    async def spots_left(self, info: Info) -> int | None:
        taken = await events.attendance(info, self.pk)
        return taken.spots_left(self.row["capacity"])

    @strawberry.field(
        description="The signed-in portal viewer's own answer: a contact's for themselves, "
        "a customer's for the account; null when they have not answered (and for staff)."
    )
    async def my_rsvp(self, info: Info) -> "EventRsvp | None":
        row = await events.my_rsvp(info, self.pk)
        return EventRsvp.from_row(row) if row is not None else None

    @strawberry.field(description="How many people answered GOING.", extensions=staff_only())
    async def going_count(self, info: Info) -> int:
        return (await events.attendance(info, self.pk)).going

    @strawberry.field(
        description="How many guests the people GOING bring along.", extensions=staff_only()
    )
    async def guest_count(self, info: Info) -> int:
        return (await events.attendance(info, self.pk)).guests

    @strawberry.field(description="How many people answered NOT_GOING.", extensions=staff_only())
    async def not_going_count(self, info: Info) -> int:
        return (await events.attendance(info, self.pk)).not_going

    attendees = connection_field(
        rel.EVENT_RSVPS,
        "EventRsvp",
        __name__,
        "Everyone who answered, first answers first.",
        extensions=staff_only(),
    )


@row_type(tables.event_rsvps)
@strawberry.type(description="One person's answer to an event: a contact's, or the customer's.")
class EventRsvp(RowType, Node):
    status: RsvpStatus = strawberry.field(description="Going or not.")
    guests: int = strawberry.field(description="How many people they bring along (0 to 20).")
    created_at: datetime = strawberry.field(description="When they first answered (UTC).")
    updated_at: datetime = strawberry.field(description="When they last answered (UTC).")

    event = object_field("event_id", "CommunityEvent", __name__, "The event.")
    customer = object_field("customer_id", "Customer", "schema.customers", "The account.")
    contact = object_field(
        "contact_id", "Contact", "schema.customers", "The contact who answered, if one did."
    )

    @strawberry.field(description="Who answered: the contact's name, else the customer's.")
    async def name(self, info: Info) -> str | None:
        return await events.answered_by(info, self.row)
