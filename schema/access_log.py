"""The portal's access log: who saw or opened which file, for staff."""

from datetime import datetime

import strawberry

from core.ids import encode_id
from models import tables
from schema.enums import AccessAction
from schema.fields import object_field
from schema.node import RowType, row_type


@row_type(tables.access_logs, node=False)
@strawberry.type(
    description="A portal viewer saw a file's link (VIEW) or opened it (DOWNLOAD). Staff and "
    "staff previews are never recorded."
)
class AccessLogEntry(RowType):
    action: AccessAction = strawberry.field(description="VIEW or DOWNLOAD.")
    subject_type: str = strawberry.field(
        description="What was seen: Document, Invoice or Estimate."
    )
    ip: str | None = strawberry.field(description="The viewer's IP address.")
    user_agent: str | None = strawberry.field(description="The viewer's browser.")
    created_at: datetime = strawberry.field(description="When it happened (UTC).")

    customer = object_field("customer_id", "Customer", "schema.customers", "Whose portal.")
    contact = object_field(
        "contact_id", "Contact", "schema.customers", "The contact who did it; null: the customer."
    )

    @strawberry.field(
        description="Global ID of what was seen (a Document, an Invoice or an Estimate)."
    )
    def subject_id(self) -> strawberry.ID:
        return strawberry.ID(encode_id(self.row["subject_type"], self.row["subject_id"]))
