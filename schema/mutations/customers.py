"""Mutations on customers and contacts."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import portal_action, staff_only
from core.ids import encode_id
from domain.customers.codes import CustomerCode
from resolvers import customers as actions
from resolvers import own_contacts as own
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.customers import Contact, Customer
from schema.enums import ContactRole, PortalScope
from schema.error_codes import code_field, error_codes, user_errors
from schema.payloads import payload

CustomerErrorCode = error_codes(
    "CustomerErrorCode", CustomerCode, "Why a customer or contact mutation was refused."
)


@strawberry.type(description="A problem with a customer or contact mutation's input.")
class CustomerError(UserError):
    code: Enum = code_field(CustomerErrorCode)


@strawberry.input(description="Which kinds of email a person wants; omitted kinds keep theirs.")
class CommunicationPreferencesInput:
    invoices: bool | None = strawberry.field(default=UNSET, description="Invoices, receipts.")
    estimates: bool | None = strawberry.field(default=UNSET, description="Estimates.")
    scheduling: bool | None = strawberry.field(default=UNSET, description="Appointments.")
    car_updates: bool | None = strawberry.field(default=UNSET, description="Car updates.")
    contracts: bool | None = strawberry.field(default=UNSET, description="Documents to sign.")
    social_events: bool | None = strawberry.field(default=UNSET, description="Social events.")
    marketing: bool | None = strawberry.field(default=UNSET, description="Promotions.")


@strawberry.input(description="Details of a customer. Omitted fields keep their value.")
class CustomerFields:
    name: str | None = strawberry.field(default=UNSET, description="Full name (required).")
    company: str | None = strawberry.field(default=UNSET, description="Company name.")
    email: str | None = strawberry.field(default=UNSET, description="Email; unique per business.")
    phone: str | None = strawberry.field(default=UNSET, description="Phone number.")
    address_line1: str | None = strawberry.field(default=UNSET, description="Street address.")
    address_line2: str | None = strawberry.field(default=UNSET, description="Apartment, suite.")
    city: str | None = strawberry.field(default=UNSET, description="City.")
    region: str | None = strawberry.field(default=UNSET, description="State or region.")
    postal_code: str | None = strawberry.field(default=UNSET, description="Postal code.")
    country: str | None = strawberry.field(default=UNSET, description="ISO alpha-2 country.")
    internal_notes: str | None = strawberry.field(default=UNSET, description="Staff-only notes.")
    communication_preferences: CommunicationPreferencesInput | None = strawberry.field(
        default=UNSET, description="Kinds of email wanted."
    )


@strawberry.input(description="A new customer.")
class CreateCustomerInput(CustomerFields):
    pass


@strawberry.input(description="Changes to a customer.")
class UpdateCustomerInput(CustomerFields):
    id: strawberry.ID = strawberry.field(description="The customer's global ID.")


@strawberry.input(description="Archive or restore a record.")
class ArchiveInput:
    id: strawberry.ID = strawberry.field(description="Global ID of the record.")
    archived: bool = strawberry.field(default=True, description="False restores it.")


@strawberry.type(description="The result of a customer mutation.")
class CustomerPayload:
    customer: Customer | None = strawberry.field(description="The customer, when it worked.")
    user_errors: list[CustomerError] = strawberry.field(description="Problems with the input.")


@strawberry.input(description="Details of a contact. Omitted fields keep their value.")
class ContactFields:
    name: str | None = strawberry.field(default=UNSET, description="Full name (required).")
    email: str | None = strawberry.field(default=UNSET, description="Email; needed for portal.")
    phone: str | None = strawberry.field(default=UNSET, description="Phone number.")
    role: ContactRole | None = strawberry.field(default=UNSET, description="Relation.")
    can_access_portal: bool | None = strawberry.field(
        default=UNSET, description="May sign in to the portal."
    )
    portal_scope: PortalScope | None = strawberry.field(
        default=UNSET, description="What their portal access covers."
    )
    car_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET,
        description="With portal scope CARS: the customer's cars this contact sees (replaces "
        "the current choice).",
    )
    communication_preferences: CommunicationPreferencesInput | None = strawberry.field(
        default=UNSET, description="Kinds of email wanted."
    )
    can_manage_contacts: bool | None = strawberry.field(
        default=UNSET,
        description="May add, change and remove the customer's other contacts in the portal.",
    )


@strawberry.input(description="A new contact on a customer account.")
class CreateContactInput(ContactFields):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")


@strawberry.input(description="Changes to a contact.")
class UpdateContactInput(ContactFields):
    id: strawberry.ID = strawberry.field(description="The contact's global ID.")


@strawberry.type(description="The result of a contact mutation.")
class ContactPayload:
    contact: Contact | None = strawberry.field(description="The contact, when it worked.")
    user_errors: list[CustomerError] = strawberry.field(description="Problems with the input.")


@strawberry.input(description="A contact of your own account. Omitted fields keep their value.")
class MyContactFields:
    name: str | None = strawberry.field(default=UNSET, description="Full name (required).")
    email: str | None = strawberry.field(default=UNSET, description="Email; needed for portal.")
    phone: str | None = strawberry.field(default=UNSET, description="Phone number.")
    role: ContactRole | None = strawberry.field(default=UNSET, description="Relation.")
    can_access_portal: bool | None = strawberry.field(
        default=UNSET,
        description="May sign in to the portal (once the business sends them an invite).",
    )
    portal_scope: PortalScope | None = strawberry.field(
        default=UNSET,
        description="What their portal access covers: no wider than yours, in sections the "
        "business offers (BEYOND_ACCESS otherwise). A new contact gets your own by default.",
    )
    car_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET,
        description="With portal scope CARS: cars you see that this contact sees (replaces "
        "the current choice).",
    )


@strawberry.input(description="A new contact on your own account.")
class AddMyContactInput(MyContactFields):
    pass


@strawberry.input(description="Changes to a contact of your own account.")
class UpdateMyContactInput(MyContactFields):
    id: strawberry.ID = strawberry.field(description="The contact's global ID.")


@strawberry.input(description="A contact of your own account to remove.")
class RemoveMyContactInput:
    id: strawberry.ID = strawberry.field(description="The contact's global ID.")


@strawberry.type(description="The result of a change to one of your own contacts.")
class MyContactPayload:
    contact_id: strawberry.ID | None = strawberry.field(
        description="The contact's global ID, when it worked."
    )
    user_errors: list[CustomerError] = strawberry.field(description="Problems with the input.")


def my_contact_payload(outcome: Outcome) -> MyContactPayload:
    errors = user_errors(outcome.problems, CustomerError, CustomerErrorCode)
    found = None
    if not errors and outcome.row_id is not None:
        found = strawberry.ID(encode_id("Contact", outcome.row_id))
    return MyContactPayload(contact_id=found, user_errors=errors)


async def customer_payload(info: Info, outcome: Outcome) -> CustomerPayload:
    return await payload(
        info,
        CustomerPayload,
        outcome,
        type_name="Customer",
        object_field="customer",
        error_cls=CustomerError,
        codes=CustomerErrorCode,
    )


async def contact_payload(info: Info, outcome: Outcome) -> ContactPayload:
    return await payload(
        info,
        ContactPayload,
        outcome,
        type_name="Contact",
        object_field="contact",
        error_cls=CustomerError,
        codes=CustomerErrorCode,
    )


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Add a customer.", extensions=staff_only())
    async def create_customer(
        self, info: Info, input: Annotated[CreateCustomerInput, INPUT]
    ) -> CustomerPayload:
        return await customer_payload(info, await actions.create_customer(info, input))

    @strawberry.mutation(description="Change a customer's details.", extensions=staff_only())
    async def update_customer(
        self, info: Info, input: Annotated[UpdateCustomerInput, INPUT]
    ) -> CustomerPayload:
        return await customer_payload(info, await actions.update_customer(info, input))

    @strawberry.mutation(
        description="Archive a customer (hidden from lists) or restore one.",
        extensions=staff_only(),
    )
    async def archive_customer(
        self, info: Info, input: Annotated[ArchiveInput, INPUT]
    ) -> CustomerPayload:
        outcome = await actions.archive_customer(info, input.id, input.archived)
        return await customer_payload(info, outcome)

    @strawberry.mutation(description="Add a contact to a customer.", extensions=staff_only())
    async def create_contact(
        self, info: Info, input: Annotated[CreateContactInput, INPUT]
    ) -> ContactPayload:
        return await contact_payload(info, await actions.create_contact(info, input))

    @strawberry.mutation(description="Change a contact's details.", extensions=staff_only())
    async def update_contact(
        self, info: Info, input: Annotated[UpdateContactInput, INPUT]
    ) -> ContactPayload:
        return await contact_payload(info, await actions.update_contact(info, input))

    @strawberry.mutation(description="Archive a contact or restore one.", extensions=staff_only())
    async def archive_contact(
        self, info: Info, input: Annotated[ArchiveInput, INPUT]
    ) -> ContactPayload:
        outcome = await actions.archive_contact(info, input.id, input.archived)
        return await contact_payload(info, outcome)

    @strawberry.mutation(
        description="Add a contact to your own account, where you may manage its contacts "
        "(the customer, or a contact the business allowed; NOT_ALLOWED otherwise). The "
        "business is told.",
        extensions=portal_action(),
    )
    async def add_my_contact(
        self, info: Info, input: Annotated[AddMyContactInput, INPUT]
    ) -> MyContactPayload:
        return my_contact_payload(await own.add_my_contact(info, input))

    @strawberry.mutation(
        description="Change a contact of your own account whose access is within yours (not "
        "yourself, nor another contact who manages contacts). The business is told.",
        extensions=portal_action(),
    )
    async def update_my_contact(
        self, info: Info, input: Annotated[UpdateMyContactInput, INPUT]
    ) -> MyContactPayload:
        return my_contact_payload(await own.update_my_contact(info, input))

    @strawberry.mutation(
        description="Remove a contact of your own account (as for changes): their portal "
        "access ends at once and their history stays. The business is told.",
        extensions=portal_action(),
    )
    async def remove_my_contact(
        self, info: Info, input: Annotated[RemoveMyContactInput, INPUT]
    ) -> MyContactPayload:
        return my_contact_payload(await own.remove_my_contact(info, input.id))
