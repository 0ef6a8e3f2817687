"""Conversations from the API: the body checked and the IDs decoded, the domain's actions
called (domain/messaging/conversations.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from strawberry import Info

from core.errors import NotFound
from core.ids import decode_id_of
from domain.messaging import conversations
from domain.messaging.conversations import BODY_LIMIT, NOT_IN_CONVERSATION
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, Rejected

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.messaging import (
        MarkConversationReadInput,
        MarkMyMessagesReadInput,
        SendMessageInput,
        SendMyMessageInput,
    )


def _body(value: Any) -> str:
    checks = Checks()
    body = checks.text("body", value, BODY_LIMIT, required=True)
    checks.done()
    return str(body)


def _up_to(gid: str | None) -> uuid.UUID | None:
    try:
        return decode_id_of("Message", gid) if gid else None
    except NotFound as missing:
        raise Rejected(NOT_IN_CONVERSATION) from missing


@mutation_outcome
async def send_message(info: Info, data: SendMessageInput) -> uuid.UUID:
    """Staff write to a customer."""
    customer_id = decode_id_of("Customer", data.customer_id)
    body = _body(data.body)
    attachments: list[object] = list(data.attachments or [])
    return await conversations.send_message(info.context, customer_id, body, attachments)


@mutation_outcome
async def send_my_message(info: Info, data: SendMyMessageInput) -> uuid.UUID:
    """The customer's side writes to the business."""
    conversations.may_write_messages(info.context)  # closed sections refuse before all else
    body = _body(data.body)
    attachments: list[object] = list(data.attachments or [])
    return await conversations.send_my_message(info.context, body, attachments)


@mutation_outcome
async def mark_conversation_read(info: Info, data: MarkConversationReadInput) -> uuid.UUID:
    """Staff have read what the customer's side wrote (up to a message, or all of it)."""
    customer_id = decode_id_of("Customer", data.customer_id)
    up_to = _up_to(data.up_to_message_id)
    return await conversations.mark_conversation_read(info.context, customer_id, up_to)


@mutation_outcome
async def mark_my_messages_read(info: Info, data: MarkMyMessagesReadInput) -> uuid.UUID:
    """The customer's side has read what staff wrote (up to a message, or all of it)."""
    conversations.may_write_messages(info.context)  # closed sections refuse before all else
    up_to = _up_to(data.up_to_message_id)
    return await conversations.mark_my_messages_read(info.context, up_to)
