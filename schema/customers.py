"""Customers and their contacts."""

import asyncio
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Info

from auth.permissions import opens_table, portal_section, staff_only
from models import relations as rel
from models import tables
from resolvers.customers import balance_row
from schema.common import Money
from schema.enums import ContactRole, PortalScope, PortalStatus
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, load_row, row_type

if TYPE_CHECKING:
    from schema.cars import Car
    from schema.onboarding import Onboarding
    from schema.statements import CustomerStatement


@strawberry.type(description="Which kinds of email a person wants to receive.")
class CommunicationPreferences:
    invoices: bool = strawberry.field(description="Invoices, payment requests and receipts.")
    estimates: bool = strawberry.field(description="Estimates and quotes.")
    scheduling: bool = strawberry.field(description="Appointment and event reminders.")
    car_updates: bool = strawberry.field(
        description="Car status changes, photo sessions, condition reports."
    )
    contracts: bool = strawberry.field(description="Documents to sign and agreement notices.")
    social_events: bool = strawberry.field(description="Invitations to community events.")
    marketing: bool = strawberry.field(description="Promotions and newsletters.")

    @classmethod
    def of(cls, row: Any) -> "CommunicationPreferences":
        return cls(
            invoices=row["wants_invoices"],
            estimates=row["wants_estimates"],
            scheduling=row["wants_scheduling"],
            car_updates=row["wants_car_updates"],
            contracts=row["wants_contracts"],
            social_events=row["wants_social_events"],
            marketing=row["wants_marketing"],
        )


@strawberry.type(
    description="What a customer owes now, in the organization's currency. Invoices in "
    "another currency are not counted (amounts in two currencies do not add up, and "
    "nothing converts them): each shows its own amountDue."
)
class CustomerBalance:
    owed: Money = strawberry.field(
        description="Still due on issued invoices (not drafts, not void): each invoice's "
        "total less what was paid towards it, net of refunds and of disputes lost."
    )
    overdue: Money = strawberry.field(
        description="The part of `owed` on invoices past their due date in the "
        "organization's time zone."
    )
    credit: Money = strawberry.field(
        description="Money held for the customer towards future bills: credit notes beyond "
        "what their invoices still owed, not yet used by a later invoice."
    )

    @classmethod
    def of(cls, row: Any) -> "CustomerBalance":
        currency = row["balance_currency"]
        return cls(
            owed=Money(amount=int(row["balance_owed"]), currency=currency),
            overdue=Money(amount=int(row["balance_overdue"]), currency=currency),
            credit=Money(amount=int(row["balance_credit"]), currency=currency),
        )


@row_type(tables.customers)
@strawberry.type(description="A person or company the business serves.")
class Customer(RowType, Node):
    name: str = strawberry.field(description="Full name of the person or account.")
    company: str | None = strawberry.field(description="Company name, for business accounts.")
    email: str | None = strawberry.field(description="Email address; the portal sign-in address.")
    phone: str | None = strawberry.field(description="Phone number.")
    address_line1: str | None = strawberry.field(description="Street address.")
    address_line2: str | None = strawberry.field(description="Apartment, suite, unit.")
    city: str | None = strawberry.field(description="City.")
    region: str | None = strawberry.field(description="State, province or region.")
    postal_code: str | None = strawberry.field(description="Postal code.")
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    internal_notes: str | None = strawberry.field(
        description="Notes for staff only; never shown in the portal.", extensions=staff_only()
    )
    portal_status: PortalStatus = strawberry.field(description="Portal access state.")
    collection_paused_at: datetime | None = strawberry.field(
        description="When staff paused collection (no reminders or late fees); null when not "
        "paused (staff only).",
        extensions=staff_only(),
    )
    autopay_enabled: bool = strawberry.field(
        description="Open invoices are charged to the default card on their due date."
    )

    @strawberry.field(description="Progress through the organization's onboarding checklist.")
    def onboarding(self) -> Annotated["Onboarding", strawberry.lazy("schema.onboarding")]:
        from schema.onboarding import onboarding_of

        return onboarding_of(self.pk)

    portal_invited_at: datetime | None = strawberry.field(
        description="When the last portal invite was sent (UTC)."
    )
    portal_activated_at: datetime | None = strawberry.field(
        description="When the customer first signed in to the portal (UTC)."
    )
    archived_at: datetime | None = strawberry.field(
        description="When the customer was archived (UTC); archived customers are hidden."
    )
    created_at: datetime = strawberry.field(description="When the record was created (UTC).")
    updated_at: datetime = strawberry.field(description="When the record last changed (UTC).")

    @strawberry.field(description="Which kinds of email the customer wants.")
    def communication_preferences(self) -> CommunicationPreferences:
        return CommunicationPreferences.of(self.row)

    @strawberry.field(
        description="What the customer owes now, and how much of it is overdue, over the "
        "invoices the viewer may see; null where the portal's invoices section is off, or "
        "the contact's scope does not cover billing (with its error), so the rest of the "
        "customer still answers.",
        extensions=opens_table("invoices"),
    )
    async def balance(self, info: Info) -> CustomerBalance | None:
        return CustomerBalance.of(await balance_row(info, self.pk))

    @strawberry.field(
        description="The customer's statement from `from` to `to` (days of the organization, "
        "both included, at most five years), over the invoices the viewer may see, as the "
        "balance. A range the wrong way round or too long is refused with INVALID_INPUT "
        "(its `reason` STATEMENT_RANGE).",
        extensions=opens_table("invoices"),
    )
    async def statement(
        self,
        info: Info,
        start: Annotated[date, strawberry.argument(name="from", description="The first day.")],
        end: Annotated[date, strawberry.argument(name="to", description="The last day.")],
    ) -> Annotated["CustomerStatement", strawberry.lazy("schema.statements")] | None:
        from resolvers.statements import customer_statement
        from schema.statements import CustomerStatement

        found = await customer_statement(info, self.row["organization_id"], self.pk, start, end)
        return CustomerStatement.of(found, self.pk)

    contacts = connection_field(
        rel.CUSTOMER_CONTACTS,
        "Contact",
        __name__,
        "Extra people on this account.",
        extensions=staff_only(),
    )
    cars = connection_field(
        rel.CUSTOMER_CARS,
        "Car",
        "schema.cars",
        "The customer's cars.",
        extensions=portal_section("cars"),
    )
    invoices = connection_field(
        rel.CUSTOMER_INVOICES,
        "Invoice",
        "schema.billing",
        "The customer's invoices, newest first.",
        extensions=portal_section("invoices"),
    )
    open_invoices = connection_field(
        rel.CUSTOMER_OPEN_INVOICES,
        "Invoice",
        "schema.billing",
        "Invoices with money still due (open or partially paid), newest first.",
        extensions=portal_section("invoices"),
    )
    estimates = connection_field(
        rel.CUSTOMER_ESTIMATES,
        "Estimate",
        "schema.billing",
        "The customer's estimates, newest first.",
        extensions=portal_section("estimates"),
    )
    pending_estimates = connection_field(
        rel.CUSTOMER_PENDING_ESTIMATES,
        "Estimate",
        "schema.billing",
        "Estimates sent and awaiting a decision, newest first.",
        extensions=portal_section("estimates"),
    )
    subscriptions = connection_field(
        rel.CUSTOMER_SUBSCRIPTIONS,
        "BillingSubscription",
        "schema.subscriptions",
        "The customer's recurring billing (storage rent, memberships), newest first.",
        extensions=portal_section("invoices"),
    )
    payment_methods = connection_field(
        rel.CUSTOMER_PAYMENT_METHODS,
        "SavedPaymentMethod",
        "schema.wallet",
        "Cards saved for later, the default first.",
        extensions=portal_section("invoices"),
    )
    contracts = connection_field(
        rel.CUSTOMER_CONTRACTS,
        "Contract",
        "schema.documents",
        "Contracts sent to the customer, newest first.",
        extensions=portal_section("documents"),
    )
    contracts_to_sign = connection_field(
        rel.CUSTOMER_CONTRACTS_TO_SIGN,
        "Contract",
        "schema.documents",
        "Contracts waiting for the customer's signature.",
        extensions=portal_section("documents"),
    )
    jobs = connection_field(
        rel.CUSTOMER_JOBS,
        "Job",
        "schema.jobs",
        "Work orders on the customer's cars, newest first.",
        extensions=portal_section("cars"),
    )
    upcoming_appointments = connection_field(
        rel.CUSTOMER_UPCOMING_APPOINTMENTS,
        "Appointment",
        "schema.schedule",
        "Appointments not yet over, earliest first.",
        extensions=portal_section("appointments"),
    )
    past_appointments = connection_field(
        rel.CUSTOMER_PAST_APPOINTMENTS,
        "Appointment",
        "schema.schedule",
        "Appointments that are over, latest first.",
        extensions=portal_section("appointments"),
    )
    unread_messages = connection_field(
        rel.CUSTOMER_UNREAD_MESSAGES,
        "Message",
        "schema.messaging",
        "Messages from the business the customer has not read, newest first.",
        extensions=portal_section("messages"),
    )

    @strawberry.field(
        description="How many messages from the customer's side staff have not read.",
        extensions=staff_only(),
    )
    async def unread_message_count_for_staff(self, info: Info) -> int:
        return await info.context.loaders.count(rel.CUSTOMER_UNREAD_FOR_STAFF).load(self.pk)

    payments = connection_field(
        rel.CUSTOMER_PAYMENTS,
        "Payment",
        "schema.billing",
        "Payments by or for the customer.",
        extensions=portal_section("invoices"),
    )
    documents = connection_field(
        rel.CUSTOMER_DOCUMENTS,
        "Document",
        "schema.documents",
        "Documents linked to the customer.",
        extensions=portal_section("documents"),
    )
    appointments = connection_field(
        rel.CUSTOMER_APPOINTMENTS,
        "Appointment",
        "schema.schedule",
        "The customer's appointments, earliest first.",
        extensions=portal_section("appointments"),
    )
    messages = connection_field(
        rel.CUSTOMER_MESSAGES,
        "Message",
        "schema.messaging",
        "The conversation, newest first.",
        extensions=portal_section("messages"),
    )
    access_log = connection_field(
        rel.CUSTOMER_ACCESS,
        "AccessLogEntry",
        "schema.access_log",
        "What the customer and their contacts saw or opened in the portal, newest first "
        "(staff only).",
        extensions=staff_only(),
    )


@row_type(tables.contacts)
@strawberry.type(description="An extra person on a customer account: spouse, assistant, driver.")
class Contact(RowType, Node):
    name: str = strawberry.field(description="Full name.")
    email: str | None = strawberry.field(description="Email address; needed for portal access.")
    phone: str | None = strawberry.field(description="Phone number.")
    role: ContactRole = strawberry.field(description="Relation to the customer.")
    can_access_portal: bool = strawberry.field(description="May sign in to the portal.")
    portal_scope: PortalScope = strawberry.field(description="What their portal access covers.")
    can_manage_contacts: bool = strawberry.field(
        description="May add, change and remove the customer's other contacts in the portal."
    )
    portal_status: PortalStatus = strawberry.field(description="Portal access state.")
    portal_invited_at: datetime | None = strawberry.field(
        description="When the last portal invite was sent (UTC)."
    )
    archived_at: datetime | None = strawberry.field(description="When archived (UTC).")
    created_at: datetime = strawberry.field(description="When the record was created (UTC).")

    @strawberry.field(description="Which kinds of email the contact wants.")
    def communication_preferences(self) -> CommunicationPreferences:
        return CommunicationPreferences.of(self.row)

    customer = object_field("customer_id", "Customer", __name__, "The account this contact is on.")

    @strawberry.field(
        description="With portal scope CARS: the cars this contact sees.", extensions=staff_only()
    )
    async def cars(self, info: Info) -> list[Annotated["Car", strawberry.lazy("schema.cars")]]:
        links = await info.context.loaders.children(rel.CONTACT_CARS).load(self.pk)
        found = await asyncio.gather(*(load_row(info, "Car", link["car_id"]) for link in links))
        return [car for car in found if car is not None]
