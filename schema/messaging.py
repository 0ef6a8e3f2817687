"""Messages between the business and a customer, and notifications."""

from datetime import datetime

import strawberry

from models import Message as MessageRow
from models import Notification as NotificationRow
from schema.enums import ActorKind, NotificationKind
from schema.fields import object_field
from schema.node import Node, RowType, row_type


@row_type(MessageRow.__table__)
@strawberry.type(description="A message in the conversation between the business and a customer.")
class Message(RowType, Node):
    author_kind: ActorKind = strawberry.field(description="Who wrote it: staff or portal viewer.")
    body: str = strawberry.field(description="The text.")
    created_at: datetime = strawberry.field(description="When it was sent (UTC).")
    read_by_staff_at: datetime | None = strawberry.field(description="When staff read it.")
    read_by_customer_at: datetime | None = strawberry.field(
        description="When the customer read it."
    )

    customer = object_field(
        "customer_id", "Customer", "schema.customers", "The conversation's customer."
    )
    author_contact = object_field(
        "author_contact_id", "Contact", "schema.customers", "The contact who wrote it, if any."
    )


@row_type(NotificationRow.__table__)
@strawberry.type(description="Something a person should be told.")
class Notification(RowType, Node):
    kind: NotificationKind = strawberry.field(description="What it is about.")
    title: str = strawberry.field(description="One-line summary.")
    body: str | None = strawberry.field(description="Details.")
    subject_type: str | None = strawberry.field(description="Type of the record it concerns.")
    read_at: datetime | None = strawberry.field(description="When it was read (UTC).")
    created_at: datetime = strawberry.field(description="When it was raised (UTC).")
