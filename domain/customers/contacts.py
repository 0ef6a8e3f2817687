"""Staff add and change a customer's contacts, and archive them. An email is unique within
the customer; a contact scoped to CARS sees only the cars chosen for them, of their own
customer. A new address, or portal access switched off, ends the contact's portal access
(auth/portal.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.portal import follow_edit
from core.errors import NotFound
from domain.customers.codes import CustomerCode
from domain.customers.preferences import NO_CHANGE, Preferences
from domain.edits import KEEP, Edit, changes
from domain.problems import Common, Problem, Rejected
from domain.rows import archive
from domain.work import Work
from models import Car, Contact, Customer
from models.enums import ContactRole, PortalScope
from models.tables import contact_cars, contacts
from models.writes import add_in_order, apply, get_for_update, value_taken

DUPLICATE_CONTACT_EMAIL = Problem(
    "email", "Another contact of this customer already uses this email.", CustomerCode.DUPLICATE
)
NOT_THEIR_CARS = Problem("carIds", "Choose cars of this contact's customer.", Common.INVALID)


@dataclass(frozen=True)
class ContactDetails:
    """A contact's details, cleaned; KEEP leaves one as it is. `car_ids`: the cars a contact
    scoped to CARS sees (replacing the current choice)."""

    name: Edit[str] = KEEP
    email: Edit[str | None] = KEEP
    phone: Edit[str | None] = KEEP
    role: Edit[ContactRole] = KEEP
    can_access_portal: Edit[bool] = KEEP
    portal_scope: Edit[PortalScope] = KEEP
    can_manage_contacts: Edit[bool] = KEEP
    car_ids: Edit[set[uuid.UUID]] = KEEP
    preferences: Preferences = NO_CHANGE

    def values(self) -> dict[str, Any]:
        values = changes(
            name=self.name,
            email=self.email,
            phone=self.phone,
            role=self.role,
            can_access_portal=self.can_access_portal,
            portal_scope=self.portal_scope,
            can_manage_contacts=self.can_manage_contacts,
        )
        return {**values, **self.preferences.columns()}


async def create_contact(work: Work, customer_id: uuid.UUID, details: ContactDetails) -> uuid.UUID:
    values = details.values()
    org_id = work.viewer.organization_id
    async with work.write() as session:
        customer = await get_for_update(session, Customer, org_id, customer_id)
        if customer is None:
            raise NotFound(row=("Customer", customer_id))
        if await email_taken(session, customer_id, values.get("email"), None):
            raise Rejected(DUPLICATE_CONTACT_EMAIL)
        contact = Contact(
            organization_id=customer.organization_id, customer_id=customer_id, **values
        )
        await add_in_order(session, [contact])
        await set_cars(session, contact, details.car_ids)
    return contact.id


async def update_contact(work: Work, contact_id: uuid.UUID, details: ContactDetails) -> uuid.UUID:
    values = details.values()
    async with work.write() as session:
        contact = await get_for_update(session, Contact, work.viewer.organization_id, contact_id)
        if contact is None:
            raise NotFound(row=("Contact", contact_id))
        if await email_taken(session, contact.customer_id, values.get("email"), contact_id):
            raise Rejected(DUPLICATE_CONTACT_EMAIL)
        await follow_edit(session, contact, values)
        apply(contact, values)
        await set_cars(session, contact, details.car_ids)
    return contact_id


async def archive_contact(work: Work, contact_id: uuid.UUID, archived: bool) -> uuid.UUID:
    """Hide a contact from lists (its history stays), or bring it back."""
    return await archive(work, Contact, contact_id, archived)


async def email_taken(
    session: AsyncSession, customer_id: uuid.UUID, email: str | None, own_id: uuid.UUID | None
) -> bool:
    """Contacts' emails are unique per customer."""
    within = (contacts.c.customer_id, customer_id)
    return await value_taken(session, contacts.c.email, email, within, own_id)


async def set_cars(session: AsyncSession, contact: Contact, car_ids: Edit[set[uuid.UUID]]) -> None:
    """The cars a contact scoped to `CARS` sees: only cars of the contact's own customer."""
    if car_ids is KEEP:
        return
    owned = await session.execute(
        sa.select(col(Car.id)).where(
            col(Car.id).in_(car_ids),
            col(Car.organization_id) == contact.organization_id,
            col(Car.customer_id) == contact.customer_id,
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
