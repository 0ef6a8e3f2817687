"""Invoices, estimates and payments. Money is integer minor units of `currency`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import TenantRow, enum_field, utc_field
from models.enums import (
    DisputeStatus,
    EstimateDecisionKind,
    EstimateStatus,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
)
from models.types import PortableJSON, UTCDateTime, utcnow


class Totals(SQLModel):
    """Totals of a bill, always computed on the server from its lines."""

    currency: str = Field(min_length=3, max_length=3)
    subtotal: int = Field(default=0)
    tax_total: int = Field(default=0)
    total: int = Field(default=0)


class Line(SQLModel):
    """A line item. Quantity is in thousandths so that 1.5 hours is exact (1500)."""

    position: int = Field(default=0)
    kind: LineKind = enum_field(LineKind, default=LineKind.OTHER)
    description: str = Field(max_length=500)
    quantity_milli: int = Field(default=1000)
    unit_price: int = Field(default=0)
    unit_cost: int | None = Field(default=None)  # staff-only: what the business paid
    tax_rate_bp: int = Field(default=0, ge=0)  # basis points: 825 is 8.25 %
    # A discount as asked for (a percentage in basis points, or a fixed amount), and what it
    # took off quantity x price (models/money.py `discount_of`); `subtotal` is after it.
    discount_bp: int | None = Field(default=None)
    discount_fixed: int | None = Field(default=None)
    discount: int = Field(default=0)
    subtotal: int = Field(default=0)
    tax: int = Field(default=0)
    total: int = Field(default=0)


class Invoice(TenantRow, Totals, table=True):
    __tablename__ = "invoices"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "number"),
        sa.Index("ix_invoices_customer_id_status", "customer_id", "status"),
        # Newest first, for the organization and for one customer (NEWEST_FIRST).
        sa.Index(
            "ix_invoices_organization_id_created_at_id", "organization_id", "created_at", "id"
        ),
        sa.Index("ix_invoices_customer_id_created_at_id", "customer_id", "created_at", "id"),
    )

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    car_id: uuid.UUID | None = Field(default=None, foreign_key="cars.id", index=True)
    estimate_id: uuid.UUID | None = Field(default=None, foreign_key="estimates.id")
    number: int | None = Field(default=None)  # given when sent, from a gap-free counter
    status: InvoiceStatus = enum_field(InvoiceStatus, default=InvoiceStatus.DRAFT)
    issue_date: date | None = Field(default=None)
    due_date: date | None = Field(default=None)
    amount_paid: int = Field(default=0)
    # A discount on the whole invoice as asked for (spread over its lines' discounts), and
    # the lines' discounts summed.
    discount_bp: int | None = Field(default=None)
    discount_fixed: int | None = Field(default=None)
    discount_total: int = Field(default=0)
    # Credit notes issued against it (their totals), and the customer's credit used on it
    # when it was issued (domain/billing/credit.py). Both count like payments towards it.
    credited_amount: int = Field(default=0, ge=0)
    credit_applied: int = Field(default=0, ge=0)
    notes: str | None = Field(default=None, max_length=5000)
    internal_notes: str | None = Field(default=None, max_length=10000)
    sent_at: datetime | None = utc_field()
    voided_at: datetime | None = utc_field()


class InvoiceLine(TenantRow, Line, table=True):
    __tablename__ = "invoice_lines"

    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", index=True)


class CreditNote(TenantRow, Totals, table=True):
    """Money taken off a sent invoice by staff, numbered from its own gap-free sequence.
    Its total counts in the invoice's `credited_amount`; what goes beyond what the invoice
    still owed becomes the customer's credit (models/derived.py `customer_balance`)."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "number"),
        sa.Index("ix_credit_notes_invoice_id_created_at", "invoice_id", "created_at"),
    )

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    invoice_id: uuid.UUID = Field(foreign_key="invoices.id")
    number: int
    reason: str = Field(max_length=2000)
    issue_date: date
    issued_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")


class CreditNoteLine(TenantRow, table=True):
    """What a credit note takes off one invoice line: a quantity of it, or an amount."""

    __tablename__ = "credit_note_lines"

    credit_note_id: uuid.UUID = Field(foreign_key="credit_notes.id", index=True)
    invoice_line_id: uuid.UUID = Field(foreign_key="invoice_lines.id", index=True)
    position: int = Field(default=0)
    description: str = Field(max_length=500)
    quantity_milli: int | None = Field(default=None)  # None: an amount, not a quantity
    subtotal: int = Field(default=0)
    tax: int = Field(default=0)
    total: int = Field(default=0)


class Estimate(TenantRow, Totals, table=True):
    __tablename__ = "estimates"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "number"),
        sa.Index("ix_estimates_customer_id_status", "customer_id", "status"),
        # Newest first, for the organization and for one customer (NEWEST_FIRST).
        sa.Index(
            "ix_estimates_organization_id_created_at_id", "organization_id", "created_at", "id"
        ),
        sa.Index("ix_estimates_customer_id_created_at_id", "customer_id", "created_at", "id"),
    )

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    car_id: uuid.UUID | None = Field(default=None, foreign_key="cars.id", index=True)
    number: int | None = Field(default=None)
    version: int = Field(default=1)
    # A discount on the whole estimate (as on invoices), and the lines' discounts summed.
    discount_bp: int | None = Field(default=None)
    discount_fixed: int | None = Field(default=None)
    discount_total: int = Field(default=0)
    status: EstimateStatus = enum_field(EstimateStatus, default=EstimateStatus.DRAFT)
    valid_until: date | None = Field(default=None)
    notes: str | None = Field(default=None, max_length=5000)
    recommendations: str | None = Field(default=None, max_length=5000)
    internal_notes: str | None = Field(default=None, max_length=10000)
    sent_at: datetime | None = utc_field()
    expires_at: datetime | None = utc_field()  # end of valid_until in the organization's zone
    decided_at: datetime | None = utc_field()


class EstimateLine(TenantRow, Line, table=True):
    __tablename__ = "estimate_lines"

    estimate_id: uuid.UUID = Field(foreign_key="estimates.id", index=True)
    optional: bool = Field(default=False)


class EstimateVersion(TenantRow, table=True):
    """The lines and totals a customer was shown; approvals lock one version."""

    __tablename__ = "estimate_versions"
    __table_args__ = (sa.UniqueConstraint("estimate_id", "version"),)

    estimate_id: uuid.UUID = Field(foreign_key="estimates.id", index=True)
    version: int
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=PortableJSON)


class EstimateDecision(TenantRow, table=True):
    """The customer's final word on one version of an estimate: one per version."""

    __tablename__ = "estimate_decisions"
    __table_args__ = (sa.UniqueConstraint("estimate_id", "version"),)

    estimate_id: uuid.UUID = Field(foreign_key="estimates.id", index=True)
    version: int
    decision: EstimateDecisionKind = enum_field(EstimateDecisionKind)
    approved_line_ids: list[str] = Field(default_factory=list, sa_type=PortableJSON)
    declined_line_ids: list[str] = Field(default_factory=list, sa_type=PortableJSON)
    approved_total: int = Field(default=0)
    deposit_amount: int = Field(default=0)
    reason: str | None = Field(default=None, max_length=2000)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    staff_user_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=PortableJSON)


class Payment(TenantRow, table=True):
    """Money towards an invoice, or a deposit on an approved estimate before it is billed."""

    __tablename__ = "payments"

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id", index=True)
    estimate_id: uuid.UUID | None = Field(default=None, foreign_key="estimates.id", index=True)
    amount: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    method: PaymentMethod = enum_field(PaymentMethod)
    status: PaymentStatus = enum_field(PaymentStatus, default=PaymentStatus.PENDING)
    refunded_amount: int = Field(default=0, ge=0)
    # A card dispute: its share of this payment, and where it stands. Only a LOST dispute
    # takes money off what the invoice has been paid (models/ledger.py).
    disputed_amount: int = Field(default=0, ge=0)
    dispute_status: DisputeStatus | None = enum_field(DisputeStatus, default=None, nullable=True)
    provider_payment_intent_id: str | None = Field(default=None, max_length=255, index=True)
    provider_charge_id: str | None = Field(default=None, max_length=255)
    reference: str | None = Field(default=None, max_length=200)  # cheque number, transfer ref
    received_at: datetime | None = utc_field()
    recorded_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    payer_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")


class Refund(TenantRow, table=True):
    """Money given back from a payment. A card refund is recorded PENDING before Stripe is
    asked (its id is the intent's, and Stripe's idempotency key is made of it) and only
    counts in the payment's `refunded_amount` once SUCCEEDED."""

    __tablename__ = "refunds"

    payment_id: uuid.UUID = Field(foreign_key="payments.id", index=True)
    amount: int = Field(gt=0)
    reason: str | None = Field(default=None, max_length=500)
    provider_refund_id: str | None = Field(default=None, max_length=255, unique=True)
    recorded_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    status: RefundStatus = enum_field(RefundStatus, default=RefundStatus.SUCCEEDED)


class ProviderEvent(SQLModel, table=True):
    """A payment provider's event, recorded once in the transaction that applies it."""

    __tablename__ = "provider_events"

    id: str = Field(primary_key=True, max_length=255)  # Stripe's event id
    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organizations.id", index=True
    )
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # An event about a payment not recorded yet (a refund before its success): kept with
    # the PaymentIntent it waits for and applied when that payment is recorded.
    waiting_for: str | None = Field(default=None, max_length=255, index=True)
    payload: str | None = Field(default=None, sa_type=sa.Text)
