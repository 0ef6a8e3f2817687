"""Staff give, preview, revoke and restore portal access."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from auth.portal import Person, cut_off, issue_link, load_person, portal_enabled
from core.errors import InvalidInput, NotFound
from core.ids import decode_id_of
from core.settings import Settings
from domain.audit import audit_person
from models import Contact, Customer, Organization, PortalSettings
from models.enums import LinkPurpose, PortalStatus
from models.tables import cars
from models.types import utcnow
from models.writes import get_for_update
from payments.requests import payments_enabled
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.portal_mail import send_link_email
from resolvers.rate_limits import limit_session
from resolvers.validation import Problem


def _ids(customer_gid: str | None, contact_gid: str | None) -> tuple[str, uuid.UUID]:
    """Exactly one of customerId and contactId names the person."""
    if (customer_gid is None) == (contact_gid is None):
        raise Rejected(Problem("customerId", "Give a customerId or a contactId.", "INVALID"))
    if contact_gid is not None:
        return "Contact", decode_id_of("Contact", contact_gid)
    return "Customer", decode_id_of("Customer", customer_gid or "")


async def _person(
    session: AsyncSession, organization_id: uuid.UUID | None, kind: str, row_id: uuid.UUID
) -> tuple[Person, Customer | Contact]:
    model = Contact if kind == "Contact" else Customer
    row = await get_for_update(session, model, organization_id, row_id)
    if row is None or organization_id is None:
        raise NotFound(row=(kind, row_id))
    customer_id = row.customer_id if isinstance(row, Contact) else row.id
    contact_id = row.id if isinstance(row, Contact) else None
    person = await load_person(session, organization_id, customer_id, contact_id)
    if person is None:
        raise NotFound()
    return person, row


async def person_named(
    session: AsyncSession,
    organization_id: uuid.UUID | None,
    customer_gid: str | None,
    contact_gid: str | None,
) -> Person:
    """The portal person a staff mutation names (exactly one of the two IDs)."""
    kind, row_id = _ids(customer_gid, contact_gid)
    person, _ = await _person(session, organization_id, kind, row_id)
    return person


def _invite_problems(person: Person, field: str, enabled: bool) -> list[Problem]:
    problems = []
    if not person.email:
        problems.append(Problem(field, "Add an email address first.", "EMAIL_MISSING"))
    if not person.can_access_portal:
        problems.append(
            Problem(field, "Turn on “Can access portal” for this contact.", "PORTAL_ACCESS_OFF")
        )
    if person.status is PortalStatus.REVOKED:
        problems.append(Problem(field, "Access was revoked: restore it first.", "ACCESS_REVOKED"))
    if person.archived:
        problems.append(Problem(field, "This record is archived.", "ARCHIVED"))
    if not enabled:
        problems.append(Problem(field, "The customer portal is switched off.", "PORTAL_DISABLED"))
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
    info: Info, customer_gid: str | None, contact_gid: str | None
) -> InvitePreview:
    try:
        kind, row_id = _ids(customer_gid, contact_gid)
    except Rejected as rejected:  # a query has no userErrors: the problem is a coded error
        raise InvalidInput(rejected.problems[0].message) from None
    org_id = info.context.viewer.organization_id
    async with info.context.db.write() as session:
        person, row = await _person(session, org_id, kind, row_id)
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
        payments_enabled=org is not None and payments_enabled(org, options),
        last_invited_at=row.portal_invited_at,
        status=person.status,
        problems=_invite_problems(person, _field(kind), enabled),
    )


def _field(kind: str) -> str:
    return "contactId" if kind == "Contact" else "customerId"


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


@mutation_outcome
async def send_invite(info: Info, customer_gid: str | None, contact_gid: str | None) -> uuid.UUID:
    kind, row_id = _ids(customer_gid, contact_gid)
    ctx = info.context
    allowed = ctx.settings.invites_per_hour
    await limit_session(info, "invite", per_session=allowed, per_client=allowed)
    async with ctx.write() as session:
        person, row = await _person(session, ctx.viewer.organization_id, kind, row_id)
        enabled = await portal_enabled(session, person.organization_id)
        problems = _invite_problems(person, _field(kind), enabled)
        if problems:
            raise Rejected(*problems)
        resend = await invite(session, ctx.settings, person, row)
        session.add(
            audit_person(
                ctx,
                "portal.invite_resent" if resend else "portal.invite",
                person,
                data={"email": person.email},
            )
        )
    return row_id


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


@mutation_outcome
async def set_access(
    info: Info, customer_gid: str | None, contact_gid: str | None, *, revoked: bool
) -> uuid.UUID:
    """Revoke: the person's sessions and unused links end at once. Restore: they may be
    invited or ask for a link again."""
    kind, row_id = _ids(customer_gid, contact_gid)
    ctx = info.context
    async with ctx.write() as session:
        person, row = await _person(session, ctx.viewer.organization_id, kind, row_id)
        if revoked:
            row.portal_status = PortalStatus.REVOKED
            row.portal_revoked_at = utcnow()
            await cut_off(session, person)
        elif row.portal_status is PortalStatus.REVOKED:
            activated = row.portal_activated_at is not None
            row.portal_status = PortalStatus.ACTIVE if activated else PortalStatus.INVITED
            row.portal_revoked_at = None
        session.add(
            audit_person(
                ctx, "portal.access_revoked" if revoked else "portal.access_restored", person
            )
        )
    return row_id
