"""Conversations with customers, notifications, and the email outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Row, TenantRow, enum_field, utc_field
from models.enums import ActorKind, Channel, MailKind, NotificationKind, OutboxStatus
from models.files import FileColumns
from models.types import UTCDateTime, utcnow


class Message(TenantRow, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        # Newest first (NEWEST_FIRST): the staff inbox walks the organization's messages in
        # this order and stops once a page of conversations is found, each checked for a
        # newer message of its customer on the second.
        sa.Index(
            "ix_messages_organization_id_created_at_id", "organization_id", "created_at", "id"
        ),
        sa.Index("ix_messages_customer_id_created_at_id", "customer_id", "created_at", "id"),
    )

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    author_kind: ActorKind = enum_field(ActorKind)
    author_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    author_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    body: str = Field(max_length=10000)
    read_by_staff_at: datetime | None = utc_field()
    read_by_customer_at: datetime | None = utc_field()


class MessageAttachment(TenantRow, FileColumns, table=True):
    __tablename__ = "message_attachments"

    message_id: uuid.UUID = Field(foreign_key="messages.id", index=True)


class Notification(TenantRow, table=True):
    __tablename__ = "notifications"

    kind: NotificationKind = enum_field(NotificationKind)
    recipient_staff_id: uuid.UUID | None = Field(
        default=None, foreign_key="staff_users.id", index=True
    )
    recipient_customer_id: uuid.UUID | None = Field(
        default=None, foreign_key="customers.id", index=True
    )
    recipient_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    subject_type: str | None = Field(default=None, max_length=40)
    subject_id: uuid.UUID | None = Field(default=None)
    title: str = Field(max_length=200)
    body: str | None = Field(default=None, max_length=5000)
    read_at: datetime | None = utc_field()


class OutboxEmail(Row, table=True):
    """An email written in the same transaction as its cause, delivered by the sender."""

    __tablename__ = "outbox_emails"

    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organizations.id", index=True
    )
    kind: MailKind = enum_field(MailKind)
    # EMAIL: `to_address` is an email address; SMS: an E.164 number, `body_text` the text
    # and `subject` what staff read in the delivery log. One outbox, one worker, per channel.
    channel: Channel = enum_field(Channel, default=Channel.EMAIL)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str
    body_html: str | None = Field(default=None)
    status: OutboxStatus = enum_field(OutboxStatus, default=OutboxStatus.PENDING, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The process sending it while leased (core/process.py), so that once that process is
    # gone a sender beside it takes the email back at once instead of when the lease ends.
    leased_by: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, max_length=2000)
    sent_at: datetime | None = utc_field()
    magic_link_id: uuid.UUID | None = Field(default=None, foreign_key="magic_links.id")
    # One stored file sent along (a signed contract); the bytes stay in storage/.
    attachment_key: str | None = Field(default=None, max_length=500)
    attachment_filename: str | None = Field(default=None, max_length=255)
    attachment_type: str | None = Field(default=None, max_length=100)
    # Who it is from as people read it: the business's name in From (the address stays
    # MAIL_FROM's) and its own address as Reply-To, so answers reach the business.
    from_name: str | None = Field(default=None, max_length=200)
    reply_to: str | None = Field(default=None, max_length=254)
    # The email this one sends again (`resendEmail`), if any.
    resent_from_id: uuid.UUID | None = Field(default=None, foreign_key="outbox_emails.id")
    # The provider's id of a sent text (Twilio's message SID).
    provider_id: str | None = Field(default=None, max_length=64)


class SmsOptOut(SQLModel, table=True):
    """A number that answered STOP to an organization's texts: none go to it until START.

    Kept per organization and number (not per person): an opt-out belongs to the phone,
    whoever's record carries it now (mail/texts.py, portico/twilio_webhook.py)."""

    __tablename__ = "sms_opt_outs"

    organization_id: uuid.UUID = Field(foreign_key="organizations.id", primary_key=True)
    phone: str = Field(max_length=40, primary_key=True)
    opted_out_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
