"""Community events an organization publishes, and who is coming (the tables; how an
event stands is models/attendance.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import RsvpStatus
from models.types import UTCDateTime


class CommunityEvent(TenantRow, table=True):
    __tablename__ = "community_events"
    __table_args__ = (
        sa.Index("ix_community_events_organization_id_starts_at", "organization_id", "starts_at"),
    )

    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    place: str | None = Field(default=None, max_length=300)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    capacity: int | None = Field(default=None, ge=1)
    published_at: datetime | None = utc_field()
    cancelled_at: datetime | None = utc_field()
    reminded_at: datetime | None = utc_field()


class EventRsvp(TenantRow, table=True):
    """One person's answer; a contact answers for themselves, a customer for the account."""

    __tablename__ = "event_rsvps"
    __table_args__ = (sa.UniqueConstraint("event_id", "person_key"),)

    event_id: uuid.UUID = Field(foreign_key="community_events.id", index=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    person_key: str = Field(max_length=40)  # the contact's id, else the customer's
    status: RsvpStatus = enum_field(RsvpStatus, default=RsvpStatus.GOING)
    guests: int = Field(default=0, ge=0, le=20)
