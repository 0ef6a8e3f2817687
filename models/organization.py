"""The tenant: a business, its portal settings and its per-organization counters."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Row, enum_field
from models.enums import CheckOutEnd, SignInMethod


class Organization(Row, table=True):
    __tablename__ = "organizations"

    name: str = Field(max_length=200)
    slug: str = Field(max_length=80, unique=True)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    logo_url: str | None = Field(default=None, max_length=500)
    brand_color: str | None = Field(default=None, max_length=7)
    accent_color: str | None = Field(default=None, max_length=7)
    timezone: str = Field(default="UTC", max_length=64)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    stripe_account_id: str | None = Field(default=None, max_length=255)
    stripe_charges_enabled: bool = Field(default=False)
    # When a car checked out of storage stops being billed (domain/cars/cars.py).
    check_out_ends_subscriptions: CheckOutEnd = enum_field(
        CheckOutEnd, default=CheckOutEnd.PERIOD_END
    )


class PortalSettings(SQLModel, table=True):
    """What the organization's customer portal offers (OWNER only)."""

    __tablename__ = "portal_settings"

    organization_id: uuid.UUID = Field(foreign_key="organizations.id", primary_key=True)
    enabled: bool = Field(default=True)
    show_cars: bool = Field(default=True)
    show_invoices: bool = Field(default=True)
    show_estimates: bool = Field(default=True)
    show_documents: bool = Field(default=True)
    show_appointments: bool = Field(default=True)
    show_messages: bool = Field(default=True)
    show_profile: bool = Field(default=True)
    allow_online_payment: bool = Field(default=True)
    allow_partial_payment: bool = Field(default=False)
    minimum_partial_amount: int = Field(default=0, ge=0)
    allow_estimate_approval: bool = Field(default=True)
    allow_profile_updates: bool = Field(default=True)
    estimate_deposit_bp: int = Field(default=0, ge=0, le=10_000)  # deposit on approval
    hosted_checkout: bool = Field(default=False)  # pay on Stripe's page, not in the portal
    invoice_due_days: int = Field(default=14, ge=0, le=365)  # due date when none is given
    auto_invite_with_first_bill: bool = Field(default=False)
    allow_document_uploads: bool = Field(default=False)  # portal viewers upload their papers
    allow_appointment_requests: bool = Field(default=False)
    show_telematics: bool = Field(default=False)  # latest readings of connected cars
    allow_autopay: bool = Field(default=False)  # charge saved cards on due dates
    sign_in_method: SignInMethod = enum_field(SignInMethod, default=SignInMethod.MAGIC_LINK)
    # Appointment reminders: `reminder_days_before` days before the appointment's local
    # date, at `reminder_hour` o'clock in the organization's time zone.
    send_appointment_reminders: bool = Field(default=True)
    reminder_days_before: int = Field(default=1, ge=0, le=14)
    reminder_hour: int = Field(default=9, ge=0, le=23)
    # News of a car (status, reports, photos, jobs) within this many minutes goes as one email.
    car_update_minutes: int = Field(default=15, ge=0, le=1440)
    # Portal viewers cancel or move their appointments themselves, until this many hours
    # before the start.
    allow_appointment_changes: bool = Field(default=False)
    appointment_change_cutoff_hours: int = Field(default=24, ge=0, le=720)


class Counter(SQLModel, table=True):
    """Gap-free per-organization sequences (invoice and estimate numbers)."""

    __tablename__ = "counters"
    __table_args__ = (sa.PrimaryKeyConstraint("organization_id", "name"),)

    organization_id: uuid.UUID = Field(foreign_key="organizations.id")
    name: str = Field(max_length=40)
    last_value: int = Field(default=0)
