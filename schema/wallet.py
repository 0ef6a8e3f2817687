"""Cards saved on the organization's Stripe account."""

from datetime import datetime

import strawberry

from models import tables
from schema.node import Node, RowType, row_type


@row_type(tables.payment_methods)
@strawberry.type(description="A card saved for later: only what tells it apart is kept.")
class SavedPaymentMethod(RowType, Node):
    brand: str = strawberry.field(description="Card brand, e.g. visa.")
    last4: str = strawberry.field(description="Last four digits.")
    exp_month: int = strawberry.field(description="Expiry month, 1-12.")
    exp_year: int = strawberry.field(description="Expiry year.")
    is_default: bool = strawberry.field(description="Used for autopay and offered first.")
    created_at: datetime = strawberry.field(description="When it was saved (UTC).")
