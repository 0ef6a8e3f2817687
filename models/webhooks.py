"""Outbound webhooks: an organization's endpoints, the events written for them, and one
delivery row per event and endpoint (the outbox the webhook worker delivers).

An endpoint's signing secret is stored as it is: the worker needs it to sign every
delivery, so a hash would not do. The API shows it once (on registration and rotation)
and never again; only the worker reads it back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import WebhookDeliveryStatus
from models.types import PortableJSON, UTCDateTime, utcnow


class WebhookEndpoint(TenantRow, table=True):
    __tablename__ = "webhook_endpoints"

    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    event_types: list[str] = Field(default_factory=list, sa_type=PortableJSON)
    secret: str = Field(max_length=100)
    secret_prefix: str = Field(max_length=16)  # shown in lists to tell secrets apart
    enabled: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, max_length=500)
    disabled_at: datetime | None = utc_field()
    # The first failure since the last success: sustained failure disables the endpoint.
    failing_since: datetime | None = utc_field()
    last_success_at: datetime | None = utc_field()
    created_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")


class WebhookEvent(TenantRow, table=True):
    """Something that happened, as the exact JSON body every delivery of it sends."""

    __tablename__ = "webhook_events"

    event_type: str = Field(max_length=64)
    object_type: str = Field(max_length=64)
    object_id: uuid.UUID
    body: str = Field(sa_type=sa.Text)


class WebhookDelivery(TenantRow, table=True):
    """One event for one endpoint: tried until delivered, or until WEBHOOK_RETRY_HOURS
    after it was made (a redelivery is a new row, with a window of its own)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index(
            "ix_webhook_deliveries_endpoint_id_object_id", "endpoint_id", "object_id", "status"
        ),
    )

    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoints.id")
    event_id: uuid.UUID = Field(foreign_key="webhook_events.id")
    # The event's type and object, copied here: the log shows the type without a join,
    # and deliveries about one object go out in order.
    event_type: str = Field(max_length=64)
    object_id: uuid.UUID
    status: WebhookDeliveryStatus = enum_field(
        WebhookDeliveryStatus, default=WebhookDeliveryStatus.PENDING
    )
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    leased_by: str | None = Field(default=None, max_length=200)
    response_code: int | None = Field(default=None)
    latency_ms: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=2000)
    last_attempt_at: datetime | None = utc_field()
    delivered_at: datetime | None = utc_field()
