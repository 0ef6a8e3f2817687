"""Collections (dunning): an organization's reminder schedule, late-fee rule and monthly
statements, and the exactly-once records of the reminders sent, the late fees charged and
the monthly statements emailed.

Dates are the organization's local days; money is integer minor units of the invoice's
currency. The rules that read these live in domain/collections/.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_field, new_id
from models.enums import LateFeeKind, LateFeeTarget
from models.types import UTCDateTime, utcnow

DEFAULT_REMINDER_OFFSETS = "-3,0,7,14"  # days from the due date: 3 before, on it, 7 and 14 after


class CollectionSettings(SQLModel, table=True):
    """How the organization chases unpaid invoices. No row means the defaults."""

    __tablename__ = "collection_settings"
    __table_args__ = (
        sa.CheckConstraint("late_fee_amount >= 0", name="fee_amount_not_negative"),
        sa.CheckConstraint("late_fee_bp BETWEEN 0 AND 10000", name="fee_percent"),
        sa.CheckConstraint("late_fee_after_days >= 1", name="fee_after_a_day"),
        sa.CheckConstraint(
            "late_fee_every_days IS NULL OR late_fee_every_days >= 1", name="fee_period_a_day"
        ),
        sa.CheckConstraint("statement_day BETWEEN 1 AND 28", name="statement_day"),
    )

    organization_id: uuid.UUID = Field(foreign_key="organizations.id", primary_key=True)
    reminders_enabled: bool = Field(default=True)
    # Days relative to the due date, comma-separated, ascending (negative: before it).
    reminder_offsets: str = Field(default=DEFAULT_REMINDER_OFFSETS, max_length=200)
    late_fee_kind: LateFeeKind = enum_field(LateFeeKind, default=LateFeeKind.NONE)
    late_fee_amount: int = Field(default=0, ge=0)  # FIXED: minor units of the invoice's currency
    late_fee_bp: int = Field(default=0, ge=0, le=10_000)  # PERCENT: basis points of the overdue
    late_fee_after_days: int = Field(default=30, ge=1)  # days overdue before the first fee
    late_fee_every_days: int | None = Field(default=None, ge=1)  # None: once per invoice
    late_fee_compounds: bool = Field(default=False)  # earlier fees count in the base
    late_fee_target: LateFeeTarget = enum_field(LateFeeTarget, default=LateFeeTarget.OWN_INVOICE)
    # Email each customer with activity or a balance last month's statement, on this day of
    # the month (1-28, so that every month has it) in the organization's zone.
    monthly_statements: bool = Field(default=False)
    statement_day: int = Field(default=1, ge=1, le=28)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class InvoiceReminder(SQLModel, table=True):
    """A reminder queued for an invoice at one step of the schedule, written in the
    transaction that puts its emails in the outbox: (invoice_id, step) is unique, so however
    many collectors run at once, a step is sent once."""

    __tablename__ = "invoice_reminders"
    __table_args__ = (sa.UniqueConstraint("invoice_id", "step"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    invoice_id: uuid.UUID = Field(foreign_key="invoices.id")
    step: int  # days from the due date
    step_date: date  # the local day the step fell on
    recipients: int = Field(default=0)  # emails queued (0: nobody wants invoice emails)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class LateFee(SQLModel, table=True):
    """A late fee charged on an overdue invoice for one period (1 for a once-only fee):
    (invoice_id, period) is unique. It is carried by its own invoice, or by a line of the
    customer's next invoice (`fee_invoice_id` and `fee_line_id` are None until that one is
    issued)."""

    __tablename__ = "late_fees"
    __table_args__ = (
        sa.UniqueConstraint("invoice_id", "period"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    invoice_id: uuid.UUID = Field(foreign_key="invoices.id")  # the overdue one
    period: int = Field(ge=1)
    amount: int
    currency: str = Field(min_length=3, max_length=3)
    base: int  # the overdue amount it was computed on
    charged_on: date  # the local day
    fee_invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id", index=True)
    fee_line_id: uuid.UUID | None = Field(default=None, foreign_key="invoice_lines.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class MonthlyStatement(SQLModel, table=True):
    """A customer's statement of one calendar month, settled by the monthly statements job
    in the transaction that puts its emails in the outbox: (customer_id, month) is unique,
    so however many jobs run at once, a month's statement is emailed once. `recipients` is
    0 when nothing was sent: no activity and no balance, or nobody gets invoice emails."""

    __tablename__ = "monthly_statements"
    __table_args__ = (sa.UniqueConstraint("customer_id", "month"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id")
    month: date  # its first day (local)
    currency: str = Field(min_length=3, max_length=3)
    closing: int  # the closing balance on the month's last day, minor units
    entries: int  # movements within the month
    recipients: int = Field(default=0)  # emails queued
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
