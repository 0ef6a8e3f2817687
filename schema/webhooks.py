"""Outbound webhooks: the OWNER's endpoints and their delivery log."""

from datetime import datetime

import strawberry

from auth.permissions import owner_only
from core.ids import encode_id
from models import relations as rel
from models import tables
from models.enums import WebhookDeliveryStatus
from schema.fields import connection_field
from schema.node import Node, RowType, row_type


@row_type(tables.webhook_endpoints)
@strawberry.type(
    description="Where the organization's events are posted, signed with the endpoint's "
    "secret (OWNER only)."
)
class WebhookEndpoint(RowType, Node):
    url: str = strawberry.field(description="The https URL events are posted to.")
    description: str = strawberry.field(description="What the endpoint is for.")
    event_types: list[str] = strawberry.field(
        description="The event types it receives, e.g. invoice.paid."
    )
    secret_prefix: str = strawberry.field(
        description="The signing secret's visible start, to tell secrets apart (the whole "
        "secret is shown once, when made or rotated)."
    )
    enabled: bool = strawberry.field(description="Whether events are delivered to it.")
    disabled_reason: str | None = strawberry.field(description="Why it was disabled.")
    disabled_at: datetime | None = strawberry.field(description="When it was disabled (UTC).")
    failing_since: datetime | None = strawberry.field(
        description="The first failed delivery since the last success (UTC)."
    )
    last_success_at: datetime | None = strawberry.field(
        description="The last delivery it answered with 2xx (UTC)."
    )
    created_at: datetime = strawberry.field(description="When it was registered (UTC).")
    deliveries = connection_field(
        rel.WEBHOOK_ENDPOINT_DELIVERIES,
        "WebhookDelivery",
        "schema.webhooks",
        "The delivery log, newest first.",
        extensions=owner_only(),
    )


@row_type(tables.webhook_deliveries)
@strawberry.type(description="One event sent to one endpoint, with its tries (OWNER only).")
class WebhookDelivery(RowType, Node):
    event_type: str = strawberry.field(description="The event's type, e.g. invoice.paid.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="How many tries were made.")
    response_code: int | None = strawberry.field(
        description="The HTTP status of the last answer; null when there was none."
    )
    latency_ms: int | None = strawberry.field(
        description="How long the last answer took, in milliseconds."
    )
    last_error: str | None = strawberry.field(description="Why the last try failed.")
    last_attempt_at: datetime | None = strawberry.field(description="The last try (UTC).")
    next_attempt_at: datetime = strawberry.field(
        description="When a pending delivery is tried next (UTC)."
    )
    delivered_at: datetime | None = strawberry.field(description="When it succeeded (UTC).")
    created_at: datetime = strawberry.field(description="When it was queued (UTC).")

    @strawberry.field(
        description="The event's id, the same in every delivery and redelivery of it: "
        "the body's `id` and the Portico-Event-Id header."
    )
    def event_id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("WebhookEvent", self.row["event_id"]))
