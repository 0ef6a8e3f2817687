"""Staff mutations on customers and contacts."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, Info

from auth.portal import follow_edit
from core.errors import NotFound
from core.ids import decode_id_of
from models import Car, Contact, Customer
from models.tables import contact_cars
from models.writes import add_in_order, apply, get_for_update, value_taken
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.validation import Checks, Problem, changes, given

PREFERENCES = {
    "invoices": "wants_invoices",
    "estimates": "wants_estimates",
    "scheduling": "wants_scheduling",
    "car_updates": "wants_car_updates",
    "contracts": "wants_contracts",
    "social_events": "wants_social_events",
    "marketing": "wants_marketing",
}


def preference_values(prefs: Any) -> dict[str, Any]:
    if prefs is UNSET or prefs is None:
        return {}
    # Omitted or null, a kind keeps its value: the columns hold no null.
    return changes(**{column: given(getattr(prefs, name)) for name, column in PREFERENCES.items()})


def customer_values(checks: Checks, data: Any) -> dict[str, Any]:
    values = changes(
        name=checks.text("name", data.name, 200, required=True),
        company=checks.text("company", data.company, 200),
        email=checks.email("email", data.email),
        phone=checks.phone("phone", data.phone),
        address_line1=checks.text("addressLine1", data.address_line1, 200),
        address_line2=checks.text("addressLine2", data.address_line2, 200),
        city=checks.text("city", data.city, 100),
        region=checks.text("region", data.region, 100),
        postal_code=checks.text("postalCode", data.postal_code, 20),
        country=checks.country("country", data.country),
        internal_notes=checks.text("internalNotes", data.internal_notes, 10000),
    )
    return {**values, **preference_values(data.communication_preferences)}


async def _email_taken(
    session: AsyncSession,
    model: type[Customer] | type[Contact],
    within: sa.ColumnElement[bool],
    email: str | None,
    own_id: uuid.UUID | None,
) -> bool:
    """Emails are unique per organization for customers and per customer for contacts."""
    return await value_taken(session, model.email, email, within, own_id)  # type: ignore[arg-type]


DUPLICATE_EMAIL = Problem("email", "Another customer already uses this email.", "DUPLICATE")


@mutation_outcome
async def create_customer(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = customer_values(checks, data)
    checks.done()
    org_id = info.context.viewer.organization_id
    async with info.context.write() as session:
        if await _email_taken(
            session, Customer, Customer.organization_id == org_id, values.get("email"), None
        ):
            raise Rejected(DUPLICATE_EMAIL)
        customer = Customer(organization_id=org_id, **values)
        session.add(customer)
    return customer.id


@mutation_outcome
async def update_customer(info: Info, data: Any) -> uuid.UUID:
    row_id = decode_id_of("Customer", data.id)
    checks = Checks(creating=False)
    values = customer_values(checks, data)
    checks.done()
    org_id = info.context.viewer.organization_id
    async with info.context.write() as session:
        customer = await get_for_update(session, Customer, org_id, row_id)
        if customer is None:
            raise NotFound(row=("Customer", row_id))
        if await _email_taken(
            session, Customer, Customer.organization_id == org_id, values.get("email"), row_id
        ):
            raise Rejected(DUPLICATE_EMAIL)
        await follow_edit(session, customer, values)
        apply(customer, values)
    return row_id


def contact_values(checks: Checks, data: Any) -> dict[str, Any]:
    values = changes(
        name=checks.text("name", data.name, 200, required=True),
        email=checks.email("email", data.email),
        phone=checks.phone("phone", data.phone),
        role=given(data.role),
        can_access_portal=given(data.can_access_portal),
        portal_scope=given(data.portal_scope),
    )
    return {**values, **preference_values(data.communication_preferences)}


@mutation_outcome
async def create_contact(info: Info, data: Any) -> uuid.UUID:
    customer_id = decode_id_of("Customer", data.customer_id)
    checks = Checks(creating=True)
    values = contact_values(checks, data)
    checks.done()
    org_id = info.context.viewer.organization_id
    async with info.context.write() as session:
        if await get_for_update(session, Customer, org_id, customer_id) is None:
            raise NotFound(row=("Customer", customer_id))
        if await _email_taken(
            session, Contact, Contact.customer_id == customer_id, values.get("email"), None
        ):
            raise Rejected(DUPLICATE_CONTACT_EMAIL)
        contact = Contact(organization_id=org_id, customer_id=customer_id, **values)
        await add_in_order(session, [contact])
        await _set_cars(session, contact, data.car_ids)
    return contact.id


@mutation_outcome
async def update_contact(info: Info, data: Any) -> uuid.UUID:
    row_id = decode_id_of("Contact", data.id)
    checks = Checks(creating=False)
    values = contact_values(checks, data)
    checks.done()
    async with info.context.write() as session:
        contact = await get_for_update(
            session, Contact, info.context.viewer.organization_id, row_id
        )
        if contact is None:
            raise NotFound(row=("Contact", row_id))
        if await _email_taken(
            session,
            Contact,
            Contact.customer_id == contact.customer_id,
            values.get("email"),
            row_id,
        ):
            raise Rejected(DUPLICATE_CONTACT_EMAIL)
        await follow_edit(session, contact, values)
        apply(contact, values)
        await _set_cars(session, contact, data.car_ids)
    return row_id


async def _set_cars(session: AsyncSession, contact: Contact, car_gids: Any) -> None:
    """The cars a contact scoped to `CARS` sees: only cars of the contact's own customer."""
    if car_gids is UNSET or car_gids is None:
        return
    try:
        car_ids = {decode_id_of("Car", gid) for gid in car_gids}
    except NotFound:
        raise Rejected(NOT_THEIR_CARS) from None
    owned = await session.execute(
        sa.select(Car.id).where(
            Car.id.in_(car_ids),
            Car.organization_id == contact.organization_id,
            Car.customer_id == contact.customer_id,
        )
    )
    if set(owned.scalars()) != car_ids:
        raise Rejected(NOT_THEIR_CARS)
    await session.execute(sa.delete(contact_cars).where(contact_cars.c.contact_id == contact.id))
    if car_ids:
        await session.execute(
            sa.insert(contact_cars),
            [
                {"organization_id": contact.organization_id, "contact_id": contact.id, "car_id": c}
                for c in sorted(car_ids)
            ],
        )


NOT_THEIR_CARS = Problem("carIds", "Choose cars of this contact's customer.", "INVALID")


DUPLICATE_CONTACT_EMAIL = Problem(
    "email", "Another contact of this customer already uses this email.", "DUPLICATE"
)
