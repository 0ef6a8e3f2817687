"""Mutations on conversations: write a message, mark a side's messages read."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import Info
from strawberry.file_uploads import Upload

from auth.permissions import portal_only, portal_section, staff_only
from domain.messaging.codes import DeliveryCode, MessageCode
from domain.uploads.codes import UploadCode
from resolvers import deliveries
from resolvers import messages as actions
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.customers import Customer
from schema.error_codes import code_field, error_codes_of
from schema.messaging import EmailDelivery, Message
from schema.payloads import payload

MessageErrorCode = error_codes_of(
    "MessageErrorCode", (MessageCode, UploadCode), "Why a message mutation was refused."
)


@strawberry.type(description="A problem with a message mutation's input.")
class MessageError(UserError):
    code: Enum = code_field(MessageErrorCode)


EmailErrorCode = error_codes_of(
    "EmailErrorCode", (DeliveryCode,), "Why an email could not be sent again."
)


@strawberry.type(description="A problem with sending an email again.")
class EmailError(UserError):
    code: Enum = code_field(EmailErrorCode)


@strawberry.input(description="An email of the delivery log to send again.")
class ResendEmailInput:
    id: strawberry.ID = strawberry.field(description="The email's (EmailDelivery) global ID.")


@strawberry.type(description="The result of sending an email again.")
class ResendEmailPayload:
    email_delivery: EmailDelivery | None = strawberry.field(
        description="The new email, queued (the original stays in the log as it was)."
    )
    user_errors: list[EmailError] = strawberry.field(description="Why it was not sent again.")


BODY = "The text, 1 to 10000 characters once trimmed."
UP_TO = (
    "Mark messages up to and including this one (the newest the reader was shown); "
    "all of them without it."
)


ATTACHMENTS = (
    "Up to 5 files (PDF, JPEG, PNG, HEIC, WebP) sent as multipart uploads with the message."
)


@strawberry.input(description="A message from staff to a customer.")
class SendMessageInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    body: str = strawberry.field(description=BODY)
    attachments: list[Upload] | None = strawberry.field(default=None, description=ATTACHMENTS)


@strawberry.input(description="A message from the portal viewer to the business.")
class SendMyMessageInput:
    body: str = strawberry.field(description=BODY)
    attachments: list[Upload] | None = strawberry.field(default=None, description=ATTACHMENTS)


@strawberry.input(description="Staff have read a customer's conversation.")
class MarkConversationReadInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    up_to_message_id: strawberry.ID | None = strawberry.field(default=None, description=UP_TO)


@strawberry.input(description="The portal viewer has read the business's messages.")
class MarkMyMessagesReadInput:
    up_to_message_id: strawberry.ID | None = strawberry.field(default=None, description=UP_TO)


@strawberry.type(description="The result of sending a message.")
class MessagePayload:
    message: Message | None = strawberry.field(description="The message, when it was sent.")
    user_errors: list[MessageError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of marking messages read.")
class ConversationReadPayload:
    customer: Customer | None = strawberry.field(
        description="The customer whose conversation it is, with its unread counts."
    )
    user_errors: list[MessageError] = strawberry.field(description="Problems with the input.")


async def message_payload(info: Info, outcome: Outcome) -> MessagePayload:
    return await payload(
        info,
        MessagePayload,
        outcome,
        type_name="Message",
        object_field="message",
        error_cls=MessageError,
        codes=MessageErrorCode,
    )


async def read_payload(info: Info, outcome: Outcome) -> ConversationReadPayload:
    return await payload(
        info,
        ConversationReadPayload,
        outcome,
        type_name="Customer",
        object_field="customer",
        error_cls=MessageError,
        codes=MessageErrorCode,
    )


@strawberry.type
class MessagingMutations:
    @strawberry.mutation(
        description="Send an email of the delivery log again, as a new email to the same "
        "address (staff only; not sign-in links, nor an email still queued).",
        extensions=staff_only(),
    )
    async def resend_email(
        self, info: Info, input: Annotated[ResendEmailInput, INPUT]
    ) -> ResendEmailPayload:
        return await payload(
            info,
            ResendEmailPayload,
            await deliveries.resend(info, input.id),
            type_name="EmailDelivery",
            object_field="email_delivery",
            error_cls=EmailError,
            codes=EmailErrorCode,
        )

    @strawberry.mutation(
        description="Write to a customer. The people who read the conversation in the portal "
        "get a short email without the text, for the first message they have not read.",
        extensions=staff_only(),
    )
    async def send_message(
        self, info: Info, input: Annotated[SendMessageInput, INPUT]
    ) -> MessagePayload:
        return await message_payload(info, await actions.send_message(info, input))

    @strawberry.mutation(
        description="Write to the business (portal viewers). Staff are notified of the first "
        "message they have not read.",
        extensions=[*portal_only(), *portal_section("messages")],
    )
    async def send_my_message(
        self, info: Info, input: Annotated[SendMyMessageInput, INPUT]
    ) -> MessagePayload:
        return await message_payload(info, await actions.send_my_message(info, input))

    @strawberry.mutation(
        description="Mark what the customer's side wrote in a conversation as read by staff.",
        extensions=staff_only(),
    )
    async def mark_conversation_read(
        self, info: Info, input: Annotated[MarkConversationReadInput, INPUT]
    ) -> ConversationReadPayload:
        return await read_payload(info, await actions.mark_conversation_read(info, input))

    @strawberry.mutation(
        description="Mark the business's messages as read by the customer (portal viewers).",
        extensions=[*portal_only(), *portal_section("messages")],
    )
    async def mark_my_messages_read(
        self, info: Info, input: Annotated[MarkMyMessagesReadInput, INPUT]
    ) -> ConversationReadPayload:
        return await read_payload(info, await actions.mark_my_messages_read(info, input))
