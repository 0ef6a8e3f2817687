"""A portal viewer's own record: profile details, email preferences, and email address.

A contact edits their contact record, the customer themself the customer record. Profile
changes need the business to allow them; preferences can always be changed, so nobody is
ever stuck with emails they do not want. A new email address takes effect only through
a link sent to it, used once, within the sign-in links' lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, Info

from auth.portal import Person, Redemption, cut_off, issue_link, load_person, person_of, redeem_link
from core.errors import Forbidden
from domain.audit import audit, audit_person
from models import Contact, Customer, PortalSettings
from models.enums import LinkPurpose
from models.tables import magic_links as links
from models.types import utcnow
from models.writes import value_taken
from resolvers.customers import PREFERENCES
from resolvers.portal_mail import send_email_change_link, send_email_changed_notice
from resolvers.rate_limits import limit
from resolvers.validation import Checks, Problem, Rejected

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.context import Context

PROFILE_OFF = Problem(None, "Profile changes are not taken in the portal.", "NOT_ALLOWED")
CUSTOMER_ONLY = {"address_line1", "address_line2", "city", "region", "postal_code", "country"}
CHANGES_PER_EMAIL, CHANGES_PER_CLIENT = 5, 20


async def _own_row(session: AsyncSession, ctx: Context) -> Customer | Contact:
    """The signed-in viewer's own record, locked for this transaction."""
    viewer = ctx.viewer
    model: type[Customer] | type[Contact] = Contact if viewer.contact_id else Customer
    row_id = viewer.contact_id or viewer.customer_id
    found = await session.execute(
        sa.select(model)
        .where(model.id == row_id, model.organization_id == viewer.organization_id)
        .with_for_update()
    )
    row = found.scalar_one_or_none()
    if row is None:
        raise Forbidden()
    return row


async def _profile_updates_allowed(session: AsyncSession, ctx: Context) -> None:
    options = await session.get(PortalSettings, ctx.viewer.organization_id)
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


def profile_values(checks: Checks, data: Any, is_contact: bool) -> dict[str, Any]:
    values = {
        "name": checks.text("name", data.name, 200, required=True),
        "phone": checks.phone("phone", data.phone),
        "address_line1": checks.text("addressLine1", data.address_line1, 200),
        "address_line2": checks.text("addressLine2", data.address_line2, 200),
        "city": checks.text("city", data.city, 100),
        "region": checks.text("region", data.region, 100),
        "postal_code": checks.text("postalCode", data.postal_code, 20),
        "country": checks.country("country", data.country),
    }
    values = {k: v for k, v in values.items() if v is not UNSET}
    if is_contact:
        for name in sorted(CUSTOMER_ONLY & values.keys()):
            field = "".join(w.title() if i else w for i, w in enumerate(name.split("_")))
            checks.fail(field, "The address belongs to the customer account.", "NOT_ALLOWED")
    return values


async def update_profile(info: Info, data: Any) -> None:
    ctx: Context = info.context
    checks = Checks(creating=False)
    values = profile_values(checks, data, ctx.viewer.contact_id is not None)
    checks.done()
    async with ctx.write() as session:
        await _profile_updates_allowed(session, ctx)
        row = await _own_row(session, ctx)
        changed = _changed(row, values)
        if changed:
            session.add(audit(ctx, "portal.profile_updated", data={"changed": changed}))


async def update_preferences(info: Info, data: Any) -> dict[str, bool]:
    """Which kinds of email the viewer wants; the new preferences."""
    ctx: Context = info.context
    values = {
        column: value
        for name, column in PREFERENCES.items()
        if (value := getattr(data, name)) is not UNSET and value is not None
    }
    async with ctx.write() as session:
        row = await _own_row(session, ctx)
        changed = _changed(row, values)
        if changed:
            session.add(audit(ctx, "portal.preferences_updated", data={"changed": changed}))
        return {column: getattr(row, column) for column in PREFERENCES.values()}


async def _address_taken(session: AsyncSession, person: Person, email: str) -> bool:
    """Customers' addresses are unique in the organization, contacts' within the customer."""
    if person.contact_id is None:
        within = Customer.organization_id == person.organization_id
        return await value_taken(session, Customer.email, email, within, person.customer_id)  # type: ignore[arg-type]
    within = Contact.customer_id == person.customer_id
    return await value_taken(session, Contact.email, email, within, person.contact_id)  # type: ignore[arg-type]


TAKEN = Problem("newEmail", "Another person here already uses this address.", "DUPLICATE")


async def request_email_change(info: Info, new_email: str) -> None:
    """Email a confirmation link to the new address; nothing changes until it is used."""
    ctx: Context = info.context
    viewer = ctx.viewer
    checks = Checks()
    email = checks.email("newEmail", new_email)
    if email is None:
        checks.fail("newEmail", "This field is required.", "REQUIRED")
    checks.done()
    await limit(
        info,
        "email_change",
        email,
        per_email=CHANGES_PER_EMAIL,
        per_client=CHANGES_PER_CLIENT,
    )
    async with ctx.write() as session:
        await _profile_updates_allowed(session, ctx)
        person = None
        if viewer.organization_id and viewer.customer_id:
            person = await load_person(
                session, viewer.organization_id, viewer.customer_id, viewer.contact_id
            )
        if person is None or not person.may_sign_in:
            raise Forbidden()
        if (person.email or "").lower() == email:
            raise Rejected(Problem("newEmail", "This is already your address.", "INVALID"))
        if await _address_taken(session, person, email):
            raise Rejected(TAKEN)
        link = await issue_link(session, person, LinkPurpose.EMAIL_CHANGE, new_email=email)
        await send_email_change_link(session, ctx.settings, person, email, link)
        session.add(audit_person(ctx, "portal.email_change_requested", person, {"to": email}))


@dataclass(frozen=True)
class EmailChanged:
    outcome: Redemption
    email: str | None = None


async def confirm_email_change(info: Info, token: str) -> EmailChanged:
    """Use a confirmation link once: the address changes, the old one is told, links
    sent to the old address die. Refused (and the link kept) if the address was taken
    in the meantime."""
    ctx: Context = info.context
    async with ctx.write() as session:
        redeemed = await redeem_link(session, token, LinkPurpose.EMAIL_CHANGE)
        person = redeemed.person
        if redeemed.outcome is not Redemption.OK or person is None:
            if person is not None:
                reason = {"reason": redeemed.outcome.value}
                session.add(audit_person(ctx, "portal.email_change_failed", person, reason))
            return EmailChanged(redeemed.outcome)
        found = await session.execute(
            sa.select(links.c.new_email).where(links.c.id == redeemed.link_id)
        )
        new_email = found.scalar_one()
        model: type[Customer] | type[Contact] = Contact if person.contact_id else Customer
        row = await session.get(model, person.contact_id or person.customer_id)
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
        session.add(audit_person(ctx, "portal.email_changed", person, data))
    return EmailChanged(Redemption.OK, new_email)


async def _follow_the_address(
    session: AsyncSession, row: Customer | Contact, new_email: str
) -> None:
    """The link sent to the new address proved it: the access belongs to it from now on.
    Sessions and links of the old address end; the viewer signs in again at the new one."""
    person = person_of(row)
    row.portal_email = new_email
    await cut_off(session, person)
