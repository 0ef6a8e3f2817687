"""Staff add and change customers, and archive them. An email is unique per organization;
a new address ends the portal access that belonged to the old one (auth/portal.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.portal import follow_edit
from core.errors import Forbidden, NotFound
from domain.customers.codes import CustomerCode
from domain.customers.preferences import NO_CHANGE, Preferences
from domain.edits import KEEP, Edit, changes
from domain.problems import Problem, Rejected
from domain.rows import archive
from domain.webhooks.events import emit
from domain.work import Work
from models import Customer
from models.tables import customers
from models.writes import apply, get_for_update, value_taken

DUPLICATE_EMAIL = Problem(
    "email", "Another customer already uses this email.", CustomerCode.DUPLICATE
)


@dataclass(frozen=True)
class CustomerDetails:
    """A customer's details, cleaned (trimmed, emails lower case); KEEP leaves one as it is."""

    name: Edit[str] = KEEP
    company: Edit[str | None] = KEEP
    email: Edit[str | None] = KEEP
    phone: Edit[str | None] = KEEP
    address_line1: Edit[str | None] = KEEP
    address_line2: Edit[str | None] = KEEP
    city: Edit[str | None] = KEEP
    region: Edit[str | None] = KEEP
    postal_code: Edit[str | None] = KEEP
    country: Edit[str | None] = KEEP
    internal_notes: Edit[str | None] = KEEP
    preferences: Preferences = NO_CHANGE

    def values(self) -> dict[str, Any]:
        values = changes(
            name=self.name,
            company=self.company,
            email=self.email,
            phone=self.phone,
            address_line1=self.address_line1,
            address_line2=self.address_line2,
            city=self.city,
            region=self.region,
            postal_code=self.postal_code,
            country=self.country,
            internal_notes=self.internal_notes,
        )
        return {**values, **self.preferences.columns()}


async def create_customer(work: Work, details: CustomerDetails) -> uuid.UUID:
    """A new customer of the staff member's organization."""
    values = details.values()
    org_id = work.viewer.organization_id
    if org_id is None:  # staff only: every staff member has one
        raise Forbidden()
    async with work.write() as session:
        if await _email_taken(session, org_id, values.get("email"), None):
            raise Rejected(DUPLICATE_EMAIL)
        customer = Customer(organization_id=org_id, **values)
        session.add(customer)
        await emit(session, "customer.created", customer)
    return customer.id


async def update_customer(
    work: Work, customer_id: uuid.UUID, details: CustomerDetails
) -> uuid.UUID:
    values = details.values()
    org_id = work.viewer.organization_id
    async with work.write() as session:
        customer = await get_for_update(session, Customer, org_id, customer_id)
        if customer is None:
            raise NotFound(row=("Customer", customer_id))
        if await _email_taken(session, org_id, values.get("email"), customer_id):
            raise Rejected(DUPLICATE_EMAIL)
        await follow_edit(session, customer, values)
        if apply(customer, values):
            await emit(session, "customer.updated", customer)
    return customer_id


async def archive_customer(work: Work, customer_id: uuid.UUID, archived: bool) -> uuid.UUID:
    """Hide a customer from lists (its history stays), or bring it back."""
    return await archive(work, Customer, customer_id, archived)


async def _email_taken(
    session: AsyncSession,
    organization_id: uuid.UUID | None,
    email: str | None,
    own_id: uuid.UUID | None,
) -> bool:
    """Customers' emails are unique per organization."""
    within = (customers.c.organization_id, organization_id)
    return await value_taken(session, customers.c.email, email, within, own_id)
