"""A portal viewer's own record: profile details, email preferences, and email address.

A contact edits their contact record, the customer themself the customer record. Profile
changes need the business to allow them; preferences can always be changed, so nobody is
ever stuck with emails they do not want. A new email address takes effect only through
a link sent to it, used once, within the sign-in links' lifetime.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.portal import Person, Redemption, cut_off, issue_link, load_person, person_of, redeem_link
from auth.viewer import Viewer
from core.errors import Forbidden, NotFound
from domain.audit import audit, audit_person
from domain.customers.preferences import PREFERENCES, Preferences
from domain.edits import KEEP, Edit, changes
from domain.portal.codes import ProfileCode
from domain.portal.mail import send_email_change_link, send_email_changed_notice
from domain.problems import Common, Problem, Rejected
from domain.work import Actor, Work
from models import Contact, Customer, PortalSettings
from models.enums import LinkPurpose
from models.tables import contacts, customers
from models.tables import magic_links as links
from models.types import utcnow
from models.writes import value_taken

PROFILE_OFF = Problem(None, "Profile changes are not taken in the portal.", ProfileCode.NOT_ALLOWED)
TAKEN = Problem("newEmail", "Another person here already uses this address.", ProfileCode.DUPLICATE)
M = TypeVar("M", Customer, Contact)
CUSTOMER_ONLY = {"address_line1", "address_line2", "city", "region", "postal_code", "country"}


@dataclass(frozen=True)
class Profile:
    """The viewer's details, cleaned; KEEP leaves one as it is. The address is the
    customer account's: a contact may not change it."""

    name: Edit[str] = KEEP
    phone: Edit[str | None] = KEEP
    address_line1: Edit[str | None] = KEEP
    address_line2: Edit[str | None] = KEEP
    city: Edit[str | None] = KEEP
    region: Edit[str | None] = KEEP
    postal_code: Edit[str | None] = KEEP
    country: Edit[str | None] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(
            name=self.name,
            phone=self.phone,
            address_line1=self.address_line1,
            address_line2=self.address_line2,
            city=self.city,
            region=self.region,
            postal_code=self.postal_code,
            country=self.country,
        )


def address_problems(profile: Profile, actor: Actor) -> list[Problem]:
    """A contact changing the customer's address: one problem per field sent."""
    if actor.viewer.contact_id is None:
        return []
    return [
        Problem(
            _camel(name), "The address belongs to the customer account.", ProfileCode.NOT_ALLOWED
        )
        for name in sorted(CUSTOMER_ONLY & profile.values().keys())
    ]


def _camel(name: str) -> str:
    return "".join(w.title() if i else w for i, w in enumerate(name.split("_")))


async def update_profile(work: Work, profile: Profile) -> None:
    problems = address_problems(profile, work)
    if problems:
        raise Rejected(*problems)
    async with work.write() as session:
        await _profile_updates_allowed(session, work)
        row = await _own_row(session, work)
        changed = _changed(row, profile.values())
        if changed:
            session.add(audit(work, "portal.profile_updated", data={"changed": changed}))


async def update_preferences(work: Work, preferences: Preferences) -> dict[str, bool]:
    """Which kinds of email the viewer wants; the new preferences (by column)."""
    async with work.write() as session:
        row = await _own_row(session, work)
        changed = _changed(row, preferences.columns())
        if changed:
            session.add(audit(work, "portal.preferences_updated", data={"changed": changed}))
        return {column: getattr(row, column) for column in PREFERENCES.values()}


async def confirm_preferences(work: Work) -> uuid.UUID:
    """The viewer has looked at their email preferences and keeps them (an onboarding
    step); the customer account's ID."""
    viewer = work.viewer
    async with work.write() as session:
        row: Customer | Contact | None
        if viewer.contact_id:
            row = await session.get(Contact, viewer.contact_id, with_for_update=True)
        else:
            row = await session.get(Customer, viewer.customer_id, with_for_update=True)
        if row is None or row.organization_id != viewer.organization_id:
            raise NotFound()
        row.preferences_confirmed_at = utcnow()
        row.updated_at = utcnow()
    return row.customer_id if isinstance(row, Contact) else row.id


async def request_email_change(work: Work, new_email: str) -> None:
    """Email a confirmation link to the new address (cleaned: lower case); nothing
    changes until it is used."""
    viewer = work.viewer
    async with work.write() as session:
        await _profile_updates_allowed(session, work)
        person = None
        if viewer.organization_id and viewer.customer_id:
            person = await load_person(
                session, viewer.organization_id, viewer.customer_id, viewer.contact_id
            )
        if person is None or not person.may_sign_in:
            raise Forbidden()
        if (person.email or "").lower() == new_email:
            raise Rejected(Problem("newEmail", "This is already your address.", Common.INVALID))
        if await _address_taken(session, person, new_email):
            raise Rejected(TAKEN)
        link = await issue_link(session, person, LinkPurpose.EMAIL_CHANGE, new_email=new_email)
        await send_email_change_link(session, work.settings, person, new_email, link)
        session.add(audit_person(work, "portal.email_change_requested", person, {"to": new_email}))


@dataclass(frozen=True)
class EmailChanged:
    outcome: Redemption
    email: str | None = None


async def confirm_email_change(work: Work, token: str) -> EmailChanged:
    """Use a confirmation link once: the address changes, the old one is told, links
    sent to the old address die. Refused (and the link kept) if the address was taken
    in the meantime."""
    async with work.write() as session:
        redeemed = await redeem_link(session, token, LinkPurpose.EMAIL_CHANGE)
        person = redeemed.person
        if redeemed.outcome is not Redemption.OK or person is None:
            if person is not None:
                reason = {"reason": redeemed.outcome.value}
                session.add(audit_person(work, "portal.email_change_failed", person, reason))
            return EmailChanged(redeemed.outcome)
        found = await session.execute(
            sa.select(links.c.new_email).where(links.c.id == redeemed.link_id)
        )
        new_email = found.scalar_one()
        row: Customer | Contact | None
        if person.contact_id:
            row = await session.get(Contact, person.contact_id)
        else:
            row = await session.get(Customer, person.customer_id)
        if row is None or not new_email:
            return EmailChanged(Redemption.INVALID)
        if await _address_taken(session, person, new_email):
            raise Rejected(TAKEN)
        old_email = row.email
        _changed(row, {"email": new_email})
        await _follow_the_address(session, row, new_email)
        if old_email:
            await send_email_changed_notice(session, person, old_email, new_email)
        data = {"from": old_email, "to": new_email}
        session.add(audit_person(work, "portal.email_changed", person, data))
    return EmailChanged(Redemption.OK, new_email)


async def _own_row(session: AsyncSession, actor: Actor) -> Customer | Contact:
    """The signed-in viewer's own record, locked for this transaction."""
    viewer = actor.viewer
    row: Customer | Contact | None
    if viewer.contact_id:
        row = await session.scalar(_own(Contact, contacts, viewer.contact_id, viewer))
    else:
        row = await session.scalar(_own(Customer, customers, viewer.customer_id, viewer))
    if row is None:
        raise Forbidden()
    return row


def _own(model: type[M], table: sa.Table, row_id: uuid.UUID | None, viewer: Viewer) -> sa.Select[M]:
    return (
        sa.select(model)
        .where(table.c.id == row_id, table.c.organization_id == viewer.organization_id)
        .with_for_update()
    )


async def _profile_updates_allowed(session: AsyncSession, actor: Actor) -> None:
    options = await session.get(PortalSettings, actor.viewer.organization_id)
    if options is None or not options.allow_profile_updates:
        raise Rejected(PROFILE_OFF)


def _changed(row: Customer | Contact, values: dict[str, Any]) -> dict[str, Any]:
    """Set what differs; what changed, from what to what, for the audit."""
    changed = {}
    for name, value in values.items():
        if getattr(row, name) != value:
            changed[name] = {"from": getattr(row, name), "to": value}
            setattr(row, name, value)
    if changed:
        row.updated_at = utcnow()
    return changed


async def _address_taken(session: AsyncSession, person: Person, email: str) -> bool:
    """Customers' addresses are unique in the organization, contacts' within the customer."""
    if person.contact_id is None:
        within = (customers.c.organization_id, person.organization_id)
        return await value_taken(session, customers.c.email, email, within, person.customer_id)
    within = (contacts.c.customer_id, person.customer_id)
    return await value_taken(session, contacts.c.email, email, within, person.contact_id)


async def _follow_the_address(
    session: AsyncSession, row: Customer | Contact, new_email: str
) -> None:
    """The link sent to the new address proved it: the access belongs to it from now on.
    Sessions and links of the old address end; the viewer signs in again at the new one."""
    person = person_of(row)
    row.portal_email = new_email
    await cut_off(session, person)
