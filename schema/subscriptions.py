"""Recurring billing: the organization's plans and customers' subscriptions to them."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import staff_only
from domain.billing.proration import next_bill_date
from domain.subscriptions.plans import interval_named
from models import relations as rel
from models import tables
from models.enums import BillingTiming as Timing
from resolvers import lists
from schema.billing import plain_decimal
from schema.common import Money, money
from schema.connections import Connection, connection
from schema.enums import BillingInterval, BillingTiming, SubscriptionStatus
from schema.fields import AFTER, FIRST, connection_field, object_field
from schema.node import Node, RowType, load_row, row_type


@row_type(tables.billing_plans)
@strawberry.type(
    description="A price the business charges every few months (rent of a space, a "
    "membership), billed in advance or in arrears; customers are put on it by subscriptions."
)
class BillingPlan(RowType, Node):
    name: str = strawberry.field(description="What the plan is called, e.g. Indoor storage.")
    currency: str = strawberry.field(description="ISO 4217 currency code; never changes.")
    interval_months: int = strawberry.field(description="Months between bills (at least 1).")
    timing: BillingTiming = strawberry.field(description="Billed in advance or in arrears.")
    archived_at: datetime | None = strawberry.field(
        description="When it was archived (UTC); archived plans take no new subscriptions."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    subscriptions = connection_field(
        rel.PLAN_SUBSCRIPTIONS,
        "BillingSubscription",
        __name__,
        "Subscriptions on this plan, newest first (staff only).",
        extensions=staff_only(),
    )

    @strawberry.field(description="Price of one unit for one period, before tax.")
    def amount(self) -> Money:
        return Money(amount=self.row["amount"], currency=self.row["currency"])

    @strawberry.field(description="Tax rate in percent, e.g. 8.25, as on invoice lines.")
    def tax_rate(self) -> Decimal:
        return plain_decimal(self.row["tax_rate_bp"], 100)

    @strawberry.field(
        description="The interval by name; null when `intervalMonths` is none of them."
    )
    def interval(self) -> BillingInterval | None:
        return interval_named(self.row["interval_months"])


@row_type(tables.subscriptions)
@strawberry.type(
    description="A customer billed on a plan every period, optionally for one of their cars "
    "and a storage space. Periods run from anchor day to anchor day in the organization's "
    "time zone; partial first and last periods are prorated by day."
)
class BillingSubscription(RowType, Node):
    quantity: int = strawberry.field(description="Units billed each period (at least 1).")
    currency: str = strawberry.field(description="ISO 4217 currency code (the plan's).")
    storage_label: str | None = strawberry.field(description="The storage space or bay, e.g. B-14.")
    start_date: date = strawberry.field(description="First day covered.")
    end_date: date | None = strawberry.field(
        description="First day no longer covered; null while it runs on."
    )
    anchor_day: int = strawberry.field(
        description="Day of the month periods start on (1-31; the last day of shorter months)."
    )
    payment_terms_days: int = strawberry.field(description="Days from a bill until it is due.")
    autopay: bool = strawberry.field(description="Bills are charged to the card on file.")
    paused_at: datetime | None = strawberry.field(
        description="Since when it is paused (UTC); null unless paused."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    customer = object_field("customer_id", "Customer", "schema.customers", "Who is billed.")
    plan = object_field("plan_id", "BillingPlan", __name__, "The plan it bills.")
    car = object_field("car_id", "Car", "schema.cars", "The car it is for, if any.")

    @strawberry.field(description="Active, paused, or ended (on the organization's day).")
    def status(self) -> SubscriptionStatus:
        # Selected with the row (models/derived.py), like every value derived from rows.
        return SubscriptionStatus(self.row["status"])

    @strawberry.field(description="Price of one unit per period: its own, else the plan's.")
    def unit_price(self) -> Money:
        return Money(amount=self.row["unit_price_amount"], currency=self.row["currency"])

    @strawberry.field(description="Its own price overriding the plan's; null when none.")
    def custom_unit_price(self) -> Money | None:
        return money(self.row["custom_unit_price"], self.row["currency"])

    @strawberry.field(
        description="The next day a period is billed, today included, in the organization's "
        "time zone: a period's first day in advance, the day after its last in arrears. Null "
        "while paused or when nothing is left to bill."
    )
    async def next_bill_date(self, info: Info) -> date | None:
        if self.row["paused_at"] is not None:
            return None
        plan = await load_row(info, "BillingPlan", self.row["plan_id"])
        if plan is None:
            return None
        return next_bill_date(
            self.row["organization_today"],
            self.row["start_date"],
            self.row["anchor_day"],
            plan.row["interval_months"],
            Timing(plan.row["timing"]),
            self.row["end_date"],
        )


ARCHIVED = strawberry.argument(description="Include archived plans.")


@strawberry.type(description="Recurring billing's lists.")
class SubscriptionQueries:
    @strawberry.field(
        description="The organization's billing plans, by name.", extensions=staff_only()
    )
    async def billing_plans(
        self,
        info: Info,
        include_archived: Annotated[bool, ARCHIVED] = False,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[BillingPlan]:
        return connection(
            await lists.billing_plans(info, BillingPlan.from_row, include_archived, first, after)
        )
