"""Integration keys: how an organization's telematics provider posts readings."""

from datetime import datetime

import strawberry

from models import tables
from schema.node import Node, RowType, row_type


@row_type(tables.integration_keys)
@strawberry.type(description="An API key of the organization's, for one integration.")
class IntegrationKey(RowType, Node):
    name: str = strawberry.field(description="What the key is for, e.g. Fleet tracker.")
    prefix: str = strawberry.field(description="The key's visible start, to tell keys apart.")
    scope: str = strawberry.field(description="What the key may do: telematics:write.")
    created_at: datetime = strawberry.field(description="When it was made (UTC).")
    last_used_at: datetime | None = strawberry.field(description="Last use (UTC).")
    revoked_at: datetime | None = strawberry.field(description="When it stopped working.")
