"""Staff give, revoke and restore portal access; the invite dialog's view of a person.

A person is a customer themself or one of its contacts (auth/portal.py `Person`). An
invite is a sign-in link sent to the person's address, which the access then belongs to;
revoking ends the person's sessions and unused links at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.portal import Person, cut_off, issue_link, load_person, portal_enabled
from core.errors import NotFound
from core.settings import Settings
from domain.audit import audit_person
from domain.portal.codes import PortalCode
from domain.portal.mail import send_link_email
from domain.problems import Problem, Rejected
from domain.work import Work
from models import Contact, Customer, Organization, PortalSettings
from models.enums import LinkPurpose, PortalStatus
from models.tables import cars
from models.types import utcnow
from models.writes import get_for_update
from payments.requests import online_payments_open


@dataclass(frozen=True)
class Named:
    """The person an action names: a customer (themself), or a contact, by row ID."""

    kind: Literal["Customer", "Contact"]
    row_id: uuid.UUID

    @property
    def field(self) -> str:
        """The input field that named them."""
        return "contactId" if self.kind == "Contact" else "customerId"


async def person_of_named(
    session: AsyncSession, organization_id: uuid.UUID | None, named: Named
) -> tuple[Person, Customer | Contact]:
    """The person, with their row locked for this transaction; NotFound outside the
    organization."""
    row: Customer | Contact | None
    if named.kind == "Contact":
        row = await get_for_update(session, Contact, organization_id, named.row_id)
    else:
        row = await get_for_update(session, Customer, organization_id, named.row_id)
    if row is None or organization_id is None:
        raise NotFound(row=(named.kind, named.row_id))
    customer_id = row.customer_id if isinstance(row, Contact) else row.id
    contact_id = row.id if isinstance(row, Contact) else None
    person = await load_person(session, organization_id, customer_id, contact_id)
    if person is None:
        raise NotFound()
    return person, row


def invite_problems(person: Person, field: str, enabled: bool) -> list[Problem]:
    """What stops an invite to the person (`field`: the input field that named them)."""
    problems = []
    if not person.email:
        problems.append(Problem(field, "Add an email address first.", PortalCode.EMAIL_MISSING))
    if not person.can_access_portal:
        message = "Turn on “Can access portal” for this contact."
        problems.append(Problem(field, message, PortalCode.PORTAL_ACCESS_OFF))
    if person.status is PortalStatus.REVOKED:
        message = "Access was revoked: restore it first."
        problems.append(Problem(field, message, PortalCode.ACCESS_REVOKED))
    if person.archived:
        problems.append(Problem(field, "This record is archived.", PortalCode.ARCHIVED))
    if not enabled:
        message = "The customer portal is switched off."
        problems.append(Problem(field, message, PortalCode.PORTAL_DISABLED))
    return problems


@dataclass(frozen=True)
class InvitePreview:
    customer_id: uuid.UUID
    name: str
    email: str | None
    has_cars: bool
    payments_enabled: bool
    last_invited_at: datetime | None
    status: PortalStatus
    problems: list[Problem]


async def invite_preview(
    session: AsyncSession, organization_id: uuid.UUID | None, named: Named
) -> InvitePreview:
    """What the staff invite dialog shows before sending (read in the caller's session)."""
    person, row = await person_of_named(session, organization_id, named)
    org = await session.get(Organization, person.organization_id)
    has_cars = (
        await session.execute(
            sa.select(cars.c.id)
            .where(cars.c.customer_id == person.customer_id, cars.c.archived_at.is_(None))
            .limit(1)
        )
    ).first() is not None
    enabled = await portal_enabled(session, person.organization_id)
    options = await session.get(PortalSettings, person.organization_id)
    return InvitePreview(
        customer_id=person.customer_id,
        name=person.name,
        email=person.email,
        has_cars=has_cars,
        payments_enabled=org is not None and online_payments_open(org, options),
        last_invited_at=row.portal_invited_at,
        status=person.status,
        problems=invite_problems(person, named.field, enabled),
    )


async def send_invite(work: Work, named: Named) -> uuid.UUID:
    """Email the person a sign-in link (again: a resend; earlier links stop working)."""
    async with work.write() as session:
        person, row = await person_of_named(session, work.viewer.organization_id, named)
        enabled = await portal_enabled(session, person.organization_id)
        problems = invite_problems(person, named.field, enabled)
        if problems:
            raise Rejected(*problems)
        resend = await invite(session, work.settings, person, row)
        session.add(
            audit_person(
                work,
                "portal.invite_resent" if resend else "portal.invite",
                person,
                data={"email": person.email},
            )
        )
    return named.row_id


async def invite(
    session: AsyncSession, settings: Settings, person: Person, row: Customer | Contact
) -> bool:
    """Send the invite (again): a fresh link, the invite time recorded. True on a resend."""
    resend = row.portal_invited_at is not None
    row.portal_invited_at = utcnow()
    row.portal_email = person.email  # the access now belongs to the address invited
    if row.portal_status is PortalStatus.NOT_INVITED:
        row.portal_status = PortalStatus.INVITED
    link = await issue_link(session, person, LinkPurpose.SIGN_IN)
    await send_link_email(session, settings, person, link, LinkPurpose.SIGN_IN, invite=True)
    return resend


async def invite_with_first_bill(
    session: AsyncSession, settings: Settings, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> bool:
    """Where the organization asks for it, the first invoice or estimate sent to a customer
    who was never invited brings a portal invite with it. True when one was sent."""
    options = await session.get(PortalSettings, organization_id)
    if options is None or not (options.enabled and options.auto_invite_with_first_bill):
        return False
    person = await load_person(session, organization_id, customer_id, None)
    customer = await get_for_update(session, Customer, organization_id, customer_id)
    if person is None or customer is None or not person.email:
        return False
    if customer.portal_status is not PortalStatus.NOT_INVITED:
        return False
    await invite(session, settings, person, customer)
    return True


async def revoke_portal_access(work: Work, named: Named) -> uuid.UUID:
    """The person's sessions and unused links end at once."""
    return await _set_access(work, named, revoked=True)


async def restore_portal_access(work: Work, named: Named) -> uuid.UUID:
    """The person may be invited, or ask for a link, again."""
    return await _set_access(work, named, revoked=False)


async def _set_access(work: Work, named: Named, *, revoked: bool) -> uuid.UUID:
    async with work.write() as session:
        person, row = await person_of_named(session, work.viewer.organization_id, named)
        if revoked:
            row.portal_status = PortalStatus.REVOKED
            row.portal_revoked_at = utcnow()
            await cut_off(session, person)
        elif row.portal_status is PortalStatus.REVOKED:
            activated = row.portal_activated_at is not None
            row.portal_status = PortalStatus.ACTIVE if activated else PortalStatus.INVITED
            row.portal_revoked_at = None
        action = "portal.access_revoked" if revoked else "portal.access_restored"
        session.add(audit_person(work, action, person))
    return named.row_id
