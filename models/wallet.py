"""Cards saved for later on the organization's Stripe account, and autopay charges.

Portico keeps only Stripe's ids and what a person needs to recognise a card.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import AutopayStatus


class SavedPaymentMethod(TenantRow, table=True):
    __tablename__ = "payment_methods"
    __table_args__ = (sa.UniqueConstraint("organization_id", "stripe_payment_method_id"),)

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    stripe_payment_method_id: str = Field(max_length=255)
    brand: str = Field(max_length=40)
    last4: str = Field(max_length=4)
    exp_month: int
    exp_year: int
    is_default: bool = Field(default=False)
    removed_at: datetime | None = utc_field()


class AutopayCharge(TenantRow, table=True):
    """One automatic charge of one invoice: the unique invoice makes it at most once."""

    __tablename__ = "autopay_charges"

    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", unique=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    payment_method_id: uuid.UUID = Field(foreign_key="payment_methods.id")
    amount: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    status: AutopayStatus = enum_field(AutopayStatus, default=AutopayStatus.PENDING)
    charged_on: date
    provider_payment_intent_id: str | None = Field(default=None, max_length=255)
    error_code: str | None = Field(default=None, max_length=100)
