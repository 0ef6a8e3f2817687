"""Recurring billing: an organization's plans, and customers' subscriptions to them.

Money is integer minor units of `currency`; dates are the organization's local days
(domain/billing/proration.py says how periods, bill dates and proration follow from them).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import TenantRow, enum_field, new_id, utc_field
from models.enums import BillingTiming
from models.types import UTCDateTime, utcnow


class BillingPlan(TenantRow, table=True):
    """A price the business charges every `interval_months` months (1 monthly, 3 quarterly,
    12 yearly), billed in advance (rent) or in arrears."""

    __tablename__ = "billing_plans"
    __table_args__ = (
        sa.Index("ix_billing_plans_organization_id_name_id", "organization_id", "name", "id"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("interval_months >= 1", name="interval_at_least_a_month"),
        sa.CheckConstraint("tax_rate_bp BETWEEN 0 AND 10000", name="tax_rate_percent"),
    )

    name: str = Field(max_length=200)
    amount: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    tax_rate_bp: int = Field(default=0, ge=0, le=10_000)  # basis points, as line items
    interval_months: int = Field(default=1, ge=1)
    timing: BillingTiming = enum_field(BillingTiming, default=BillingTiming.IN_ADVANCE)
    archived_at: datetime | None = utc_field()


class BillingSubscription(TenantRow, table=True):
    """A customer billed on a plan (or at their own price) from `start_date` until before
    `end_date`, on `anchor_day` of the month (clamped to short months)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        # Newest first, for a customer and for a car.
        sa.Index("ix_subscriptions_customer_id_created_at_id", "customer_id", "created_at", "id"),
        sa.Index("ix_subscriptions_car_id_created_at_id", "car_id", "created_at", "id"),
        sa.CheckConstraint("quantity >= 1", name="quantity_at_least_one"),
        sa.CheckConstraint("anchor_day BETWEEN 1 AND 31", name="anchor_day_of_month"),
        sa.CheckConstraint(
            "custom_unit_price IS NULL OR custom_unit_price >= 0", name="price_not_negative"
        ),
        sa.CheckConstraint("end_date IS NULL OR end_date > start_date", name="ends_after_start"),
        sa.CheckConstraint("payment_terms_days >= 0", name="terms_not_negative"),
    )

    customer_id: uuid.UUID = Field(foreign_key="customers.id")
    plan_id: uuid.UUID = Field(foreign_key="billing_plans.id", index=True)
    car_id: uuid.UUID | None = Field(default=None, foreign_key="cars.id")
    storage_label: str | None = Field(default=None, max_length=100)  # bay or space
    quantity: int = Field(default=1, ge=1)
    custom_unit_price: int | None = Field(default=None, ge=0)  # the plan's amount when None
    currency: str = Field(min_length=3, max_length=3)  # the plan's
    start_date: date
    end_date: date | None = Field(default=None)  # first day no longer covered
    anchor_day: int = Field(ge=1, le=31)
    payment_terms_days: int = Field(default=14, ge=0, le=365)
    autopay: bool = Field(default=False)
    paused_at: datetime | None = utc_field()


class SubscriptionPeriod(SQLModel, table=True):
    """One period of a subscription, settled: the invoice issued for it, written in the
    same transaction as that invoice. (subscription_id, period_start) is unique, so
    however many schedulers run at once, and whatever they survive, a period is billed
    once. `invoice_id` is None for a period that was not billed: paused through its bill
    date, or costing nothing."""

    __tablename__ = "subscription_periods"
    __table_args__ = (sa.UniqueConstraint("subscription_id", "period_start"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    subscription_id: uuid.UUID = Field(foreign_key="subscriptions.id")
    period_start: date
    period_end: date  # the first day after the period
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id", unique=True)
    # What the period is charged by (None on periods settled before these were kept: the
    # invoice line tells), so that a change within it (an end, a price or quantity) is
    # settled by the same proration rule (domain/billing/proration.py `PeriodCharge`): the
    # price and quantity from `terms_from` (None: the period's start), what its days
    # before that cost (`fixed`), the days of its full period, and what it is charged in
    # all now (`charged`, subtotal before tax: its invoice's line and its adjustments).
    unit_price: int | None = None
    quantity: int | None = None
    days_in_period: int | None = None
    terms_from: date | None = None
    fixed: int = Field(default=0)
    charged: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SubscriptionAdjustment(SQLModel, table=True):
    """A period billed in advance charged again after a change within it: a credit note
    against one of its invoices (`amount` < 0: an end before its end, a lower price or
    quantity) or an invoice of the difference (`amount` > 0), in the transaction of the
    change. Amounts are subtotals before tax, minor units."""

    __tablename__ = "subscription_adjustments"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    subscription_id: uuid.UUID = Field(foreign_key="subscriptions.id", index=True)
    period_id: uuid.UUID = Field(foreign_key="subscription_periods.id", index=True)
    made_on: date  # the local day of the change
    amount: int
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id")
    credit_note_id: uuid.UUID | None = Field(default=None, foreign_key="credit_notes.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
