"""The organization (tenant), its portal settings, its staff and its audit log."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import sqlalchemy as sa
import strawberry
from strawberry import Info
from strawberry.scalars import JSON

from auth.permissions import importers_only, owner_only, staff_only
from domain.staff.notification_emails import emailed_kinds
from models import relations as rel
from models import tables
from models.tables import portal_settings as portal_settings_table
from resolvers.relations import children_of
from schema.enums import (
    ActorKind,
    CheckOutEnd,
    NotificationKind,
    SignInMethod,
    StaffRole,
    StaffStatus,
)
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, row_type

if TYPE_CHECKING:
    from schema.collections import CollectionSettings
    from schema.integrations import IntegrationKey
    from schema.onboarding import OnboardingStepDefinition
    from schema.webhooks import WebhookEndpoint


@row_type(portal_settings_table, node=False)
@strawberry.type(description="What the organization's customer portal offers.")
class PortalSettings(RowType):
    enabled: bool = strawberry.field(description="The portal is open to customers.")
    show_cars: bool = strawberry.field(description="Customers see their cars.")
    show_invoices: bool = strawberry.field(description="Customers see invoices and payments.")
    show_estimates: bool = strawberry.field(description="Customers see estimates.")
    show_documents: bool = strawberry.field(description="Customers see documents and contracts.")
    show_appointments: bool = strawberry.field(description="Customers see appointments.")
    show_messages: bool = strawberry.field(description="Customers can message the business.")
    show_profile: bool = strawberry.field(description="Customers see their profile.")
    show_telematics: bool = strawberry.field(
        description="Customers see their cars' latest telematics readings."
    )
    allow_online_payment: bool = strawberry.field(description="Invoices can be paid online.")
    allow_partial_payment: bool = strawberry.field(description="Customers may pay in part.")
    minimum_partial_amount: int = strawberry.field(
        description="Smallest partial payment, in minor units."
    )
    allow_estimate_approval: bool = strawberry.field(
        description="Customers may approve or decline estimates."
    )
    allow_profile_updates: bool = strawberry.field(description="Customers may edit their profile.")
    allow_appointment_requests: bool = strawberry.field(
        description="Customers may ask for appointments in the portal."
    )
    auto_invite_with_first_bill: bool = strawberry.field(
        description="Send portal access with the first invoice or estimate."
    )
    sign_in_method: SignInMethod = strawberry.field(description="Magic link or password.")
    hosted_checkout: bool = strawberry.field(
        description="Customers pay on Stripe's hosted page rather than in the portal."
    )
    allow_document_uploads: bool = strawberry.field(
        description="Customers may upload their own papers (insurance card, registration)."
    )
    allow_autopay: bool = strawberry.field(
        description="Customers may turn on autopay of open invoices on their due date."
    )
    invoice_due_days: int = strawberry.field(
        description="Payment terms in days, for invoices sent without a due date."
    )
    send_appointment_reminders: bool = strawberry.field(
        description="Customers are emailed a reminder before each appointment."
    )
    reminder_days_before: int = strawberry.field(
        description="Days before the appointment's date its reminder goes (0: that day)."
    )
    reminder_hour: int = strawberry.field(
        description="Hour of the day, in the organization's time zone, reminders go."
    )
    allow_appointment_changes: bool = strawberry.field(
        description="Customers may cancel or move their own appointments in the portal."
    )
    appointment_change_cutoff_hours: int = strawberry.field(
        description="Customers may change an appointment until this many hours before it starts."
    )
    car_update_minutes: int = strawberry.field(
        description="News of a car (status, condition reports, photos, jobs) within this many "
        "minutes of the first reaches each person as one email."
    )

    @strawberry.field(description="Deposit taken when an estimate is approved, in percent.")
    def estimate_deposit_percent(self) -> Decimal:
        return Decimal(self.row["estimate_deposit_bp"]) / 100


@row_type(tables.organizations)
@strawberry.type(description="The business: a storage facility, a repair shop, a detailer.")
class Organization(RowType, Node):
    name: str = strawberry.field(description="Business name.")
    slug: str = strawberry.field(description="Short unique name, used in portal addresses.")
    email: str | None = strawberry.field(description="Contact email.")
    phone: str | None = strawberry.field(description="Contact phone.")
    address: str | None = strawberry.field(description="Postal address.")
    logo_url: str | None = strawberry.field(description="Logo shown in the portal and emails.")
    brand_color: str | None = strawberry.field(description="Primary colour, #rrggbb.")
    accent_color: str | None = strawberry.field(description="Accent colour, #rrggbb.")
    timezone: str = strawberry.field(description="IANA time zone, e.g. America/Chicago.")
    currency: str = strawberry.field(description="Default ISO 4217 currency.")
    check_out_ends_subscriptions: CheckOutEnd = strawberry.field(
        description="When the subscriptions of a car checked out of storage end: at the end "
        "of the period running (PERIOD_END, the default) or that day (CHECK_OUT_DAY).",
        extensions=staff_only(),
    )

    @strawberry.field(description="Online payments are set up (Stripe account with charges).")
    def payments_enabled(self) -> bool:
        return bool(self.row["payments_enabled"])  # selected with the row (models/derived.py)

    @strawberry.field(
        description="The onboarding checklist new portal customers see, in order.",
        extensions=staff_only(),
    )
    async def onboarding_steps(
        self, info: Info
    ) -> list[Annotated["OnboardingStepDefinition", strawberry.lazy("schema.onboarding")]]:
        from schema.onboarding import OnboardingStepDefinition

        steps = rel.ORGANIZATION_ONBOARDING_STEPS
        return await children_of(info, steps, self.pk, OnboardingStepDefinition.from_row)

    @strawberry.field(
        description="Keys of the organization's integrations (OWNER only).",
        extensions=owner_only(),
    )
    async def integration_keys(
        self, info: Info
    ) -> list[Annotated["IntegrationKey", strawberry.lazy("schema.integrations")]]:
        from schema.integrations import IntegrationKey

        keys = rel.ORGANIZATION_INTEGRATION_KEYS
        return await children_of(info, keys, self.pk, IntegrationKey.from_row)

    @strawberry.field(
        description="How the organization chases unpaid invoices (reminder schedule, late "
        "fees) and whether it emails monthly statements.",
        extensions=staff_only(),
    )
    async def collection_settings(
        self, info: Info
    ) -> Annotated["CollectionSettings", strawberry.lazy("schema.collections")]:
        from resolvers.collections import organization_settings
        from schema.collections import CollectionSettings

        return CollectionSettings.of(await organization_settings(info, self.pk))

    @strawberry.field(
        description="Where the organization's events are posted (OWNER only).",
        extensions=owner_only(),
    )
    async def webhook_endpoints(
        self, info: Info
    ) -> list[Annotated["WebhookEndpoint", strawberry.lazy("schema.webhooks")]]:
        from schema.webhooks import WebhookEndpoint

        endpoints = rel.ORGANIZATION_WEBHOOK_ENDPOINTS
        return await children_of(info, endpoints, self.pk, WebhookEndpoint.from_row)

    data_imports = connection_field(
        rel.ORGANIZATION_DATA_IMPORTS,
        "DataImport",
        "schema.imports",
        "The import history: every CSV import, dry run or commit, newest first (OWNER and ADMIN).",
        extensions=importers_only(),
    )
    bulk_invites = connection_field(
        rel.ORGANIZATION_BULK_INVITES,
        "BulkInvite",
        "schema.imports",
        "Bulk portal invites, newest first, with their progress (OWNER and ADMIN).",
        extensions=importers_only(),
    )

    @strawberry.field(description="What the customer portal offers.", extensions=staff_only())
    async def portal_settings(self, info: Info) -> PortalSettings | None:
        stmt = sa.select(portal_settings_table).where(
            portal_settings_table.c.organization_id == self.pk
        )
        rows = await info.context.reader.rows(stmt)
        return PortalSettings.from_row(rows[0]) if rows else None


@row_type(tables.staff_users)
@strawberry.type(description="A person who works for the business.")
class StaffUser(RowType, Node):
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="Sign-in email address.")
    role: StaffRole = strawberry.field(description="Owner, admin or staff.")
    is_active: bool = strawberry.field(description="May sign in.")
    status: StaffStatus = strawberry.field(
        description="Invited (no password chosen yet), active, or deactivated."
    )
    last_sign_in_at: datetime | None = strawberry.field(description="Last sign-in (UTC).")
    created_at: datetime = strawberry.field(description="When the account was made (UTC).")

    @strawberry.field(
        description="The kinds of in-app notification this person also gets by email "
        "(updateMyNotificationEmails)."
    )
    def emailed_notification_kinds(self) -> list[NotificationKind]:
        return emailed_kinds(self.row["email_notifications"], self.row["quiet_email_kinds"] or [])


@row_type(tables.audit_events)
@strawberry.type(description="Who did what, when and from where. Audit entries never change.")
class AuditEvent(RowType, Node):
    action: str = strawberry.field(description="What was done, e.g. portal.sign_in.")
    actor_kind: ActorKind = strawberry.field(description="Staff, customer, contact or system.")
    subject_type: str | None = strawberry.field(description="Type of the record acted on.")
    ip: str | None = strawberry.field(description="Client address.", extensions=staff_only())
    user_agent: str | None = strawberry.field(description="Client software.")
    data: JSON = strawberry.field(description="Details of the action.")
    created_at: datetime = strawberry.field(description="When (UTC).")

    actor_staff = object_field("actor_staff_id", "StaffUser", __name__, "Staff who acted.")
    actor_contact = object_field(
        "actor_contact_id", "Contact", "schema.customers", "Contact who acted."
    )
    customer = object_field("customer_id", "Customer", "schema.customers", "Customer concerned.")
