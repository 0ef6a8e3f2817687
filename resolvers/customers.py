"""Staff mutations on customers and contacts: the input cleaned and its IDs decoded, the
domain's action called (domain/customers/)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.engine import RowMapping
from strawberry import UNSET, Info

from core.errors import NotFound
from core.ids import decode_id_of
from domain.customers import contacts, customers
from domain.customers.contacts import ContactDetails
from domain.customers.customers import CustomerDetails
from domain.customers.preferences import NO_CHANGE, PREFERENCES, Preferences
from domain.edits import KEEP, Edit
from models.derived import customer_balance_columns
from models.tables import customers as customers_table
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.customers import (
        CommunicationPreferencesInput,
        ContactFields,
        CreateContactInput,
        CreateCustomerInput,
        CustomerFields,
        UpdateContactInput,
        UpdateCustomerInput,
    )

NO_CAR = uuid.UUID(int=0)


def preferences(prefs: CommunicationPreferencesInput | None) -> Preferences:
    """Omitted or null, a kind keeps its value: the columns hold no null."""
    if prefs is UNSET or prefs is None:
        return NO_CHANGE
    return Preferences(**{name: kept(given(getattr(prefs, name))) for name in PREFERENCES})


def customer_details(checks: Checks, data: CustomerFields) -> CustomerDetails:
    return CustomerDetails(
        name=kept(checks.text("name", data.name, 200, required=True)),
        company=kept(checks.text("company", data.company, 200)),
        email=kept(checks.email("email", data.email)),
        phone=kept(checks.phone("phone", data.phone)),
        address_line1=kept(checks.text("addressLine1", data.address_line1, 200)),
        address_line2=kept(checks.text("addressLine2", data.address_line2, 200)),
        city=kept(checks.text("city", data.city, 100)),
        region=kept(checks.text("region", data.region, 100)),
        postal_code=kept(checks.text("postalCode", data.postal_code, 20)),
        country=kept(checks.country("country", data.country)),
        internal_notes=kept(checks.text("internalNotes", data.internal_notes, 10000)),
        preferences=preferences(data.communication_preferences),
    )


@mutation_outcome
async def create_customer(info: Info, data: CreateCustomerInput) -> uuid.UUID:
    checks = Checks(creating=True)
    details = customer_details(checks, data)
    checks.done()
    return await customers.create_customer(info.context, details)


@mutation_outcome
async def update_customer(info: Info, data: UpdateCustomerInput) -> uuid.UUID:
    customer_id = decode_id_of("Customer", data.id)
    checks = Checks(creating=False)
    details = customer_details(checks, data)
    checks.done()
    return await customers.update_customer(info.context, customer_id, details)


@mutation_outcome
async def archive_customer(info: Info, gid: str, archived: bool) -> uuid.UUID:
    customer_id = decode_id_of("Customer", gid)
    return await customers.archive_customer(info.context, customer_id, archived)


def contact_details(checks: Checks, data: ContactFields) -> ContactDetails:
    return ContactDetails(
        name=kept(checks.text("name", data.name, 200, required=True)),
        email=kept(checks.email("email", data.email)),
        phone=kept(checks.phone("phone", data.phone)),
        role=kept(given(data.role)),
        can_access_portal=kept(given(data.can_access_portal)),
        portal_scope=kept(given(data.portal_scope)),
        can_manage_contacts=kept(given(data.can_manage_contacts)),
        car_ids=_car_ids(data.car_ids),
        preferences=preferences(data.communication_preferences),
    )


def _car_ids(car_gids: Sequence[str] | None) -> Edit[set[uuid.UUID]]:
    if car_gids is UNSET or car_gids is None:
        return KEEP
    return {_car_id(gid) for gid in car_gids}


def _car_id(gid: str) -> uuid.UUID:
    """An ID that names no car becomes the nil UUID, which names no row either: the domain
    refuses it as any car not of the contact's customer (NOT_THEIR_CARS), at the same step."""
    try:
        return decode_id_of("Car", gid)
    except NotFound:
        return NO_CAR


@mutation_outcome
async def create_contact(info: Info, data: CreateContactInput) -> uuid.UUID:
    customer_id = decode_id_of("Customer", data.customer_id)
    checks = Checks(creating=True)
    details = contact_details(checks, data)
    checks.done()
    return await contacts.create_contact(info.context, customer_id, details)


@mutation_outcome
async def update_contact(info: Info, data: UpdateContactInput) -> uuid.UUID:
    contact_id = decode_id_of("Contact", data.id)
    checks = Checks(creating=False)
    details = contact_details(checks, data)
    checks.done()
    return await contacts.update_contact(info.context, contact_id, details)


@mutation_outcome
async def archive_contact(info: Info, gid: str, archived: bool) -> uuid.UUID:
    contact_id = decode_id_of("Contact", gid)
    return await contacts.archive_contact(info.context, contact_id, archived)


# --- reads ------------------------------------------------------------------------------


async def balance_row(info: Info, customer_id: uuid.UUID) -> RowMapping:
    """The customer's balance (models/derived.py `customer_balance`), batched across the
    customers of a response: `balance_currency`, `balance_owed`, `balance_overdue`,
    `balance_credit`."""
    loader = info.context.loaders.computed(customers_table, "balance", customer_balance_columns)
    row = await loader.load(customer_id)
    if row is None:  # the customer was loaded under the same scope a moment ago
        raise NotFound(row=("Customer", customer_id))
    return row
