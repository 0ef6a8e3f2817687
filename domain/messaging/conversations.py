"""Conversations: one per customer, between the business's staff and the customer's side.

Staff write with `sendMessage`; the customer's side (the customer, or a contact whose portal
access covers messages) writes with `sendMyMessage`. Read state is kept per side: staff
mark what the customer's side wrote as read, the customer's side what staff wrote.

Who is told of a new message:

- From the customer's side: every active staff member gets a MESSAGE_NEW notification, and
  an email where they want staff emails (`notify_staff`).
- From staff: the people who can read the conversation in the portal get a short "You have
  a new message" email, kind MESSAGES: the customer and the contacts with portal access
  covering messages (not revoked, not archived, with an address), while the portal and its
  messages section are on. No communication preference covers it and none turns it off,
  as with sign-in links: it is the business answering the person, and it carries no text
  of the message, only a link, so a shared or forwarded mailbox learns nothing from it.

Either way, only the first message of an unread run is announced: while the other side
has not read the conversation, further messages add no notification and no email.

Every message is published to live subscribers (resolvers/live.py) once its transaction
has committed.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import require_write
from core.broker import Broker
from core.errors import NotFound
from core.settings import Settings
from domain.messaging.codes import MessageCode
from domain.notifications import notify_staff
from domain.problems import Problem, Rejected
from domain.uploads.received import Purpose, Received, kept_all, receive_file
from domain.webhooks.events import emit
from domain.work import Actor, Work
from mail.outbox import enqueue, one_line
from mail.recipients import Recipient
from mail.templates import branded
from models import Customer, Message, MessageAttachment, Organization, PortalSettings
from models import relations as rel
from models.enums import ActorKind, MailKind, NotificationKind, PortalScope, PortalStatus
from models.loaders import Relation
from models.tables import contacts, messages
from models.types import utcnow
from models.writes import add_in_order, get_for_update
from storage import Storage

log = logging.getLogger("portico.messages")

BODY_LIMIT = 10_000
PREVIEW_LENGTH = 500  # of a customer's message, in the staff notification
MAX_ATTACHMENTS = 5


class Conversing(Work, Protocol):
    """A unit of work that can also tell live subscribers (a request's context can)."""

    @property
    def broker(self) -> Broker | None: ...


def messages_topic(organization_id: uuid.UUID) -> str:
    """The broker topic of an organization's new messages."""
    return f"messages.{organization_id.hex}"


def may_write_messages(actor: Actor) -> None:
    """A portal viewer may write in, and mark, their conversation only where their access
    covers messages. (Previews never get here: schema/preview.py refuses their mutations.)"""
    require_write(actor.viewer, "messages")


async def _has_unread(session: AsyncSession, customer_id: uuid.UUID, unread: Relation) -> bool:
    found = await session.execute(
        sa.select(messages.c.id)
        .where(messages.c.customer_id == customer_id, *unread.where(messages))
        .limit(1)
    )
    return found.first() is not None


async def _locked_customer(
    session: AsyncSession, organization_id: uuid.UUID | None, customer_id: uuid.UUID | None
) -> Customer:
    # The lock orders concurrent messages of one conversation, so exactly one of them
    # starts an unread run (and is announced).
    customer = None
    if customer_id is not None:
        customer = await get_for_update(session, Customer, organization_id, customer_id)
    if customer is None:
        raise NotFound(row=("Customer", customer_id) if customer_id else None)
    return customer


async def _attachments(work: Work, uploads: list[object]) -> list[tuple[Storage, Received]]:
    """Store each attached file (photos and documents); any refusal stores none."""
    if not uploads:
        return []
    if len(uploads) > MAX_ATTACHMENTS:
        message = f"At most {MAX_ATTACHMENTS} files."
        raise Rejected(Problem("attachments", message, MessageCode.TOO_MANY_FILES))
    stored: list[tuple[Storage, Received]] = []
    try:
        for upload in uploads:
            stored.append(
                await receive_file(work, upload, Purpose.DOCUMENT, "attachments", "attachments")
            )
    except Rejected:
        for storage, received in stored:
            await storage.delete(received.stored.key)
        raise
    return stored


def _attach(message: Message, files: list[tuple[Storage, Received]]) -> list[MessageAttachment]:
    return [
        MessageAttachment(
            organization_id=message.organization_id,
            message_id=message.id,
            **received.columns(),
        )
        for _, received in files
    ]


async def send_message(
    work: Conversing, customer_id: uuid.UUID, body: str, attachments: list[object]
) -> uuid.UUID:
    """Staff write to a customer (the body trimmed, 1 to BODY_LIMIT characters)."""
    files = await _attachments(work, attachments)
    async with kept_all(files), work.write() as session:
        customer = await _locked_customer(session, work.viewer.organization_id, customer_id)
        announce = not await _has_unread(session, customer.id, rel.CUSTOMER_UNREAD_MESSAGES)
        message = Message(
            organization_id=customer.organization_id,
            customer_id=customer.id,
            author_kind=ActorKind.STAFF,
            author_staff_id=work.viewer.staff_user_id,
            body=body,
        )
        await add_in_order(session, [message, *_attach(message, files)])
        if announce:
            await _tell_customer_side(session, work.settings, customer)
    await publish(work, message)
    return message.id


async def send_my_message(work: Conversing, body: str, attachments: list[object]) -> uuid.UUID:
    """The customer's side writes to the business (the body trimmed, 1 to BODY_LIMIT
    characters)."""
    viewer = work.viewer
    may_write_messages(work)
    files = await _attachments(work, attachments)
    async with kept_all(files), work.write() as session:
        customer = await _locked_customer(session, viewer.organization_id, viewer.customer_id)
        announce = not await _has_unread(session, customer.id, rel.CUSTOMER_UNREAD_FOR_STAFF)
        message = Message(
            organization_id=customer.organization_id,
            customer_id=customer.id,
            author_kind=ActorKind.CONTACT if viewer.contact_id else ActorKind.CUSTOMER,
            author_contact_id=viewer.contact_id,
            body=body,
        )
        await add_in_order(session, [message, *_attach(message, files)])
        await emit(session, "message.received", message)
        if announce:
            org = await session.get(Organization, customer.organization_id)
            assert org is not None
            await notify_staff(
                session,
                org,
                NotificationKind.MESSAGE_NEW,
                f"New message from {one_line(customer.name)}",
                body[:PREVIEW_LENGTH],
                subject_type="Message",
                subject_id=message.id,
            )
    await publish(work, message)
    return message.id


NOT_IN_CONVERSATION = Problem(
    "upToMessageId",
    "That message is not in this conversation.",
    MessageCode.NOT_IN_CONVERSATION,
)


async def mark_conversation_read(
    work: Work, customer_id: uuid.UUID, up_to: uuid.UUID | None
) -> uuid.UUID:
    """Staff have read what the customer's side wrote (up to a message, or all of it)."""
    async with work.write() as session:
        customer = await _locked_customer(session, work.viewer.organization_id, customer_id)
        await _mark_read(session, customer, rel.CUSTOMER_UNREAD_FOR_STAFF, up_to, staff=True)
    return customer.id


async def mark_my_messages_read(work: Work, up_to: uuid.UUID | None) -> uuid.UUID:
    """The customer's side has read what staff wrote (up to a message, or all of it)."""
    viewer = work.viewer
    may_write_messages(work)
    async with work.write() as session:
        customer = await _locked_customer(session, viewer.organization_id, viewer.customer_id)
        await _mark_read(session, customer, rel.CUSTOMER_UNREAD_MESSAGES, up_to, staff=False)
    return customer.id


async def _mark_read(
    session: AsyncSession,
    customer: Customer,
    unread: Relation,
    up_to: uuid.UUID | None,
    *,
    staff: bool,
) -> None:
    conditions = [
        messages.c.organization_id == customer.organization_id,
        messages.c.customer_id == customer.id,
        *unread.where(messages),
    ]
    if up_to is not None:
        found = await session.execute(
            sa.select(messages.c.created_at).where(
                messages.c.id == up_to,
                messages.c.organization_id == customer.organization_id,
                messages.c.customer_id == customer.id,
            )
        )
        last = found.scalar_one_or_none()
        if last is None:
            raise Rejected(NOT_IN_CONVERSATION)
        conditions.append(messages.c.created_at <= last)
    now = utcnow()
    column = "read_by_staff_at" if staff else "read_by_customer_at"
    await session.execute(
        sa.update(messages).where(*conditions).values({column: now, "updated_at": now})
    )


async def _customer_side_readers(session: AsyncSession, customer: Customer) -> list[Recipient]:
    """Who can read the conversation in the portal, one entry per address."""
    options = await session.get(PortalSettings, customer.organization_id)
    if options is None or not (options.enabled and options.show_messages):
        return []
    if customer.archived_at is not None:
        return []
    found = await session.execute(
        sa.select(contacts.c.name, contacts.c.email).where(
            contacts.c.customer_id == customer.id,
            contacts.c.archived_at.is_(None),
            contacts.c.can_access_portal.is_(True),
            contacts.c.portal_status != PortalStatus.REVOKED,
            contacts.c.portal_scope == PortalScope.EVERYTHING,  # billing or car scopes: no
            contacts.c.email.is_not(None),
        )
    )
    people: list[tuple[str, str]] = []
    if customer.email and customer.portal_status is not PortalStatus.REVOKED:
        people.append((customer.name, customer.email))
    people += [(name, email) for name, email in found.all()]
    seen: set[str] = set()
    readers = []
    for name, email in people:
        if email.lower() not in seen:
            seen.add(email.lower())
            readers.append(Recipient(name=name, email=email))
    return readers


async def _tell_customer_side(
    session: AsyncSession, settings: Settings, customer: Customer
) -> None:
    org = await session.get(Organization, customer.organization_id)
    assert org is not None
    subject = f"New message from {one_line(org.name)}"
    for person in await _customer_side_readers(session, customer):
        text, html = branded(
            org.model_dump(),
            subject=subject,
            heading="You have a new message",
            paragraphs=[
                f"Hello {one_line(person.name)},",
                f"{org.name} has sent you a message. Read it and reply in your customer portal.",
            ],
            button=("Read message", f"{settings.portal_base}/messages"),
        )
        await enqueue(
            session,
            kind=MailKind.MESSAGES,
            to=person.email,
            subject=subject[:300],
            text=text,
            html=html,
            organization_id=org.id,
        )


async def publish(work: Conversing, message: Message) -> None:
    """Tell live subscribers; called after the commit. Ids only: each subscriber reads the
    message through its own visibility."""
    if work.broker is None:
        return
    payload = json.dumps({"id": str(message.id), "customer": str(message.customer_id)})
    try:
        await work.broker.publish(messages_topic(message.organization_id), payload)
    except Exception:  # the message is saved; a client that missed it re-reads on reconnect
        log.exception("could not publish message %s", message.id)
