"""Messages between the business and a customer, conversations, and notifications."""

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.engine import RowMapping
from strawberry import Info

from auth.downloads import MESSAGE_ATTACHMENT
from auth.permissions import staff_only
from models import relations as rel
from models import tables
from resolvers import lists, live
from resolvers.access_log import link
from resolvers.relations import children_of
from schema.connections import Connection, connection
from schema.enums import ActorKind, Channel, DeliveryState, MailKind, NotificationKind
from schema.fields import AFTER, FIRST, object_field
from schema.node import Node, RowType, load_row, row_type

if TYPE_CHECKING:
    from schema.customers import Customer


@row_type(tables.message_attachments, node=False)
@strawberry.type(description="A file sent with a message.")
class MessageAttachment(RowType):
    filename: str = strawberry.field(description="The name it was sent with.")
    content_type: str = strawberry.field(description="MIME type, e.g. application/pdf.")
    size_bytes: int = strawberry.field(description="File size in bytes.")

    @strawberry.field(
        description="A link to the file, valid for a few minutes; it checks the viewer again "
        "when opened."
    )
    async def url(self, info: Info) -> str:
        return await link(info, MESSAGE_ATTACHMENT, self.pk)


@row_type(tables.messages)
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
    author_staff = object_field(
        "author_staff_id",
        "StaffUser",
        "schema.organization",
        "The staff member who wrote it (null for portal viewers, who do not see staff).",
    )

    @strawberry.field(description="Files sent with the message.")
    async def attachments(self, info: Info) -> list[MessageAttachment]:
        return await children_of(info, rel.MESSAGE_ATTACHMENTS, self.pk, MessageAttachment.from_row)


@strawberry.type(description="A customer's conversation with the business, as staff list them.")
class Conversation:
    latest: strawberry.Private[RowMapping]

    @strawberry.field(description="The customer the conversation is with.")
    async def customer(
        self, info: Info
    ) -> Annotated["Customer", strawberry.lazy("schema.customers")] | None:
        return await load_row(info, "Customer", self.latest["customer_id"])

    @strawberry.field(description="The newest message, from either side.")
    def latest_message(self) -> Message:
        return Message.from_row(self.latest)

    @strawberry.field(description="Messages from the customer's side that staff have not read.")
    async def unread_count(self, info: Info) -> int:
        unread = info.context.loaders.count(rel.CUSTOMER_UNREAD_FOR_STAFF)
        return await unread.load(self.latest["customer_id"])


UNREAD_ONLY = strawberry.argument(
    description="Only conversations with messages from the customer's side staff have not read."
)


@row_type(tables.outbox_emails)
@strawberry.type(
    description="An email Portico sent or will send for the organization, as the delivery log "
    "shows it to staff (never its body: it may carry a sign-in or pay link)."
)
class EmailDelivery(RowType, Node):
    channel: Channel = strawberry.field(description="EMAIL, or SMS for a text.")
    to_address: str = strawberry.field(
        description="The recipient's address; for a text, their number (E.164)."
    )
    kind: MailKind = strawberry.field(description="What the email or text is about.")
    subject: str = strawberry.field(
        description="The subject line; for a text, what it is (a text has no subject)."
    )
    attempts: int = strawberry.field(description="How many times sending was tried.")
    last_error: str | None = strawberry.field(
        description="Why the last try failed (the mail server's or text provider's words), "
        "if one did."
    )
    created_at: datetime = strawberry.field(description="When it was queued (UTC).")
    sent_at: datetime | None = strawberry.field(description="When it was sent (UTC).")

    @strawberry.field(description="Queued, failed (tried again), sent or dead.")
    def state(self) -> DeliveryState:
        return DeliveryState(self.row["delivery_state"])  # models/derived.py


@strawberry.type(description="Conversations with customers.")
class MessagingQueries:
    @strawberry.field(
        description="Every customer's conversation, by its newest message, newest first.",
        extensions=staff_only(),
    )
    async def conversations(
        self,
        info: Info,
        unread_only: Annotated[bool, UNREAD_ONLY] = False,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Conversation]:
        return connection(await lists.conversations(info, _conversation, unread_only, first, after))

    @strawberry.field(
        description="The delivery log: the organization's emails and texts, newest first, "
        "with their channel, recipient, kind, state and last error (staff only).",
        extensions=staff_only(),
    )
    async def email_deliveries(
        self,
        info: Info,
        state: Annotated[
            DeliveryState | None, strawberry.argument(description="Only emails in this state.")
        ] = None,
        kind: Annotated[
            MailKind | None, strawberry.argument(description="Only emails of this kind.")
        ] = None,
        recipient: Annotated[
            str | None,
            strawberry.argument(
                description="Only emails to this address (any letter case), or texts to "
                "this number as E.164."
            ),
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
        channel: Annotated[
            Channel | None, strawberry.argument(description="Only emails, or only texts.")
        ] = None,
    ) -> Connection[EmailDelivery]:
        return connection(
            await lists.email_deliveries(
                info, EmailDelivery.from_row, state, kind, recipient, first, after, channel
            )
        )


def _conversation(row: RowMapping) -> Conversation:
    return Conversation(latest=row)


CUSTOMER_TO_WATCH = strawberry.argument(
    description="Staff: only this customer's conversation (all of the organization's without "
    "it). Portal viewers always get their own and may pass only their own customer's ID."
)


@strawberry.type(description="Live updates, over WebSocket with the graphql-transport-ws protocol.")
class Subscription:
    @strawberry.subscription(
        description="Each new message, as it is posted, in the conversations the viewer may "
        "read. Ends with UNAUTHENTICATED when the session ends."
    )
    async def message_added(
        self,
        info: Info,
        customer_id: Annotated[strawberry.ID | None, CUSTOMER_TO_WATCH] = None,
    ) -> AsyncGenerator[Message, None]:
        async for row in live.message_added(info, customer_id):
            yield Message.from_row(row)


@row_type(tables.notifications)
@strawberry.type(description="Something a person should be told.")
class Notification(RowType, Node):
    kind: NotificationKind = strawberry.field(description="What it is about.")
    title: str = strawberry.field(description="One-line summary.")
    body: str | None = strawberry.field(description="Details.")
    subject_type: str | None = strawberry.field(description="Type of the record it concerns.")
    read_at: datetime | None = strawberry.field(description="When it was read (UTC).")
    created_at: datetime = strawberry.field(description="When it was raised (UTC).")
