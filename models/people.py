"""People: the business's staff, its customers, and the extra contacts on a customer."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import TenantRow, enum_field, utc_field
from models.enums import ContactRole, PortalScope, PortalStatus, StaffRole, StaffStatus
from models.types import PortableJSON


class StaffUser(TenantRow, table=True):
    __tablename__ = "staff_users"
    __table_args__ = (sa.UniqueConstraint("organization_id", "email"),)

    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    role: StaffRole = enum_field(StaffRole, default=StaffRole.STAFF)
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = Field(default=True)  # may sign in: status ACTIVE, kept in step with it
    status: StaffStatus = enum_field(StaffStatus, default=StaffStatus.ACTIVE)
    email_notifications: bool = Field(default=True)  # staff notifications also by email
    # The kinds of in-app notification not also emailed (NotificationKind values): kinds
    # added later are emailed until the person says otherwise.
    quiet_email_kinds: list[str] = Field(default_factory=list, sa_type=PortableJSON)
    last_sign_in_at: datetime | None = utc_field()


class CommunicationPreferences(SQLModel):
    """Which kinds of email a person wants; sign-in links and receipts always go."""

    wants_invoices: bool = Field(default=True)
    wants_estimates: bool = Field(default=True)
    wants_scheduling: bool = Field(default=True)
    wants_car_updates: bool = Field(default=True)
    wants_contracts: bool = Field(default=True)
    wants_social_events: bool = Field(default=False)
    wants_marketing: bool = Field(default=False)
    # Texts, each kind off until the person turns it on in the portal (never staff: a text
    # needs the person's own consent). They go to `sms_number`, the number the person had
    # when they chose them, and only while it is still their `phone`: a number changed
    # since (by staff or by them) gets nothing until they choose again.
    sms_sign_in: bool = Field(default=False)
    sms_pay_links: bool = Field(default=False)
    sms_reminders: bool = Field(default=False)
    sms_car_ready: bool = Field(default=False)
    sms_number: str | None = Field(default=None, max_length=40)


class PortalAccess(SQLModel):
    """Where a person stands with the customer portal."""

    preferences_confirmed_at: datetime | None = utc_field()  # an onboarding step
    portal_status: PortalStatus = enum_field(PortalStatus, default=PortalStatus.NOT_INVITED)
    portal_invited_at: datetime | None = utc_field()
    portal_activated_at: datetime | None = utc_field()
    portal_revoked_at: datetime | None = utc_field()
    # The address this person's portal access belongs to: the one an invite was sent to,
    # or a link was redeemed from. A new `email` clears it (and the password, sessions and
    # links); only a link sent to the new address and redeemed sets it again. Accounts are
    # joined across organizations by this proven address, never by the editable `email`.
    portal_email: str | None = Field(default=None, max_length=254)
    # Only where the organization lets portal viewers sign in with a password; it belongs
    # to `portal_email`, and dies with it.
    portal_password_hash: str | None = Field(default=None, max_length=255)


class Customer(TenantRow, CommunicationPreferences, PortalAccess, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "email"),
        # The staff list's order (models/relations.py BY_NAME): a page reads the index.
        sa.Index("ix_customers_organization_id_name_id", "organization_id", "name", "id"),
    )

    name: str = Field(max_length=200)
    company: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    internal_notes: str | None = Field(default=None, max_length=10000)
    stripe_customer_id: str | None = Field(default=None, max_length=255)
    autopay_enabled: bool = Field(default=False)
    # Collection paused by staff: no reminders or late fees while set (domain/collections/).
    collection_paused_at: datetime | None = utc_field()
    archived_at: datetime | None = utc_field()


class Contact(TenantRow, CommunicationPreferences, PortalAccess, table=True):
    __tablename__ = "contacts"
    __table_args__ = (sa.UniqueConstraint("customer_id", "email"),)

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=40)
    role: ContactRole = enum_field(ContactRole, default=ContactRole.OTHER)
    can_access_portal: bool = Field(default=False)
    portal_scope: PortalScope = enum_field(PortalScope, default=PortalScope.EVERYTHING)
    # May add, change and remove the customer's other contacts in the portal (staff set it).
    can_manage_contacts: bool = Field(default=False)
    archived_at: datetime | None = utc_field()


class ContactCar(SQLModel, table=True):
    """The cars a contact scoped to `CARS` may see (a driver and the car they drive)."""

    __tablename__ = "contact_cars"

    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    contact_id: uuid.UUID = Field(foreign_key="contacts.id", primary_key=True)
    car_id: uuid.UUID = Field(foreign_key="cars.id", primary_key=True, index=True)
