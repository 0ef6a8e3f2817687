"""Portal users who may manage the account add, change and remove their own customer's
contacts; staff are told (CONTACTS_CHANGED) and every change is audited.

Who may: the customer themself, or a contact staff gave `can_manage_contacts`. Such a
contact touches only contacts whose access is within their own (no wider scope, no car
they do not see) and who hold no right to manage contacts; never their own record (that is
the profile's), so nobody locks themself out or raises themself. A contact given here gets
at most the viewer's own access, and only a scope whose sections the business has switched
on: BILLING needs invoices or estimates, CARS needs cars, with cars the viewer sees.
Portal users never grant the right to manage contacts; staff do. No invite is sent: a
contact given portal access is invited by staff, as for contacts staff add.
A contact of another customer answers NOT_FOUND like a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import row_scope
from auth.portal import follow_edit
from auth.viewer import Viewer
from core.errors import NotFound, SectionClosed
from domain.audit import audit
from domain.customers.codes import CustomerCode
from domain.customers.contacts import DUPLICATE_CONTACT_EMAIL, email_taken, set_cars
from domain.edits import KEEP, Edit, changes
from domain.notifications import notify_staff
from domain.problems import Common, Problem, Rejected
from domain.work import Work
from models import Car, Contact, Customer, Organization
from models.enums import ContactRole, NotificationKind, PortalScope
from models.tables import contact_cars, contacts
from models.writes import add_in_order, apply, visible_rows

MAY_NOT_MANAGE = Problem(
    None, "You may not manage this account's contacts.", CustomerCode.NOT_ALLOWED
)
NOT_YOURS = Problem(
    "id", "You may not change this contact; please ask us.", CustomerCode.NOT_ALLOWED
)
YOURSELF = Problem("id", "Change your own details in your profile.", CustomerCode.NOT_ALLOWED)
# The sections a scope needs the business to have switched on (one of them).
SCOPE_SECTIONS = {PortalScope.BILLING: {"invoices", "estimates"}, PortalScope.CARS: {"cars"}}


@dataclass(frozen=True)
class OwnContact:
    """What a portal user may set on a contact; KEEP leaves one as it is."""

    name: Edit[str] = KEEP
    email: Edit[str | None] = KEEP
    phone: Edit[str | None] = KEEP
    role: Edit[ContactRole] = KEEP
    can_access_portal: Edit[bool] = KEEP
    portal_scope: Edit[PortalScope] = KEEP
    car_ids: Edit[set[uuid.UUID]] = KEEP


def may_grant(viewer: Viewer, scope: PortalScope) -> bool:
    """Whether the viewer may give `scope`: no wider than their own, and opened by the
    business's sections (EVERYTHING is as open as the portal itself)."""
    if viewer.scope is not PortalScope.EVERYTHING and scope is not viewer.scope:
        return False
    needed = SCOPE_SECTIONS.get(scope)
    return needed is None or bool(needed & viewer.sections)


async def add_my_contact(work: Work, details: OwnContact) -> uuid.UUID:
    viewer = work.viewer
    async with work.write() as session:
        customer = await _manager(session, viewer)
        values = changes(**_columns(details))
        scope = values.setdefault("portal_scope", viewer.scope)
        cars = await _cars(session, viewer, scope, details.car_ids)
        if await email_taken(session, customer.id, values.get("email"), None):
            raise Rejected(DUPLICATE_CONTACT_EMAIL)
        contact = Contact(
            organization_id=customer.organization_id, customer_id=customer.id, **values
        )
        await add_in_order(session, [contact])
        await set_cars(session, contact, cars)
        await _record(work, session, customer, contact, "portal.contact_added", "added")
    return contact.id


async def update_my_contact(work: Work, contact_id: uuid.UUID, details: OwnContact) -> uuid.UUID:
    viewer = work.viewer
    async with work.write() as session:
        customer = await _manager(session, viewer)
        contact = await _touchable(session, viewer, contact_id)
        values = changes(**_columns(details))
        scope = values.get("portal_scope", contact.portal_scope)
        car_ids = details.car_ids
        if car_ids is KEEP and scope is PortalScope.CARS:
            car_ids = await _linked(session, contact.id)  # checked against the viewer's again
        cars = await _cars(session, viewer, scope, car_ids)
        if await email_taken(session, customer.id, values.get("email"), contact_id):
            raise Rejected(DUPLICATE_CONTACT_EMAIL)
        await follow_edit(session, contact, values)
        apply(contact, values)
        await set_cars(session, contact, cars)
        await _record(work, session, customer, contact, "portal.contact_updated", "changed")
    return contact_id


async def remove_my_contact(work: Work, contact_id: uuid.UUID) -> uuid.UUID:
    """Archive the contact (their history stays) and end their portal access at once."""
    viewer = work.viewer
    async with work.write() as session:
        customer = await _manager(session, viewer)
        contact = await _touchable(session, viewer, contact_id)
        off = {"can_access_portal": False}
        await follow_edit(session, contact, off)
        apply(contact, {**off, "archived_at": work.clock.now})
        await _record(work, session, customer, contact, "portal.contact_removed", "removed")
    return contact_id


def _columns(details: OwnContact) -> dict[str, object]:
    return {
        "name": details.name,
        "email": details.email,
        "phone": details.phone,
        "role": details.role,
        "can_access_portal": details.can_access_portal,
        "portal_scope": details.portal_scope,
    }


async def _manager(session: AsyncSession, viewer: Viewer) -> Customer:
    """The viewer's customer, where the viewer may manage its contacts."""
    if not viewer.is_portal or viewer.customer_id is None:
        raise SectionClosed("Only portal users manage their own contacts.")
    customer = await session.get(Customer, viewer.customer_id)
    if customer is None or customer.organization_id != viewer.organization_id:
        raise Rejected(MAY_NOT_MANAGE)
    if viewer.contact_id is not None:
        me = await session.get(Contact, viewer.contact_id)
        if me is None or me.archived_at is not None or not me.can_manage_contacts:
            raise Rejected(MAY_NOT_MANAGE)
    return customer


async def _touchable(session: AsyncSession, viewer: Viewer, contact_id: uuid.UUID) -> Contact:
    """A live contact of the viewer's customer, locked, that the viewer may change."""
    found = await session.execute(
        sa.select(Contact)
        .where(
            col(Contact.id) == contact_id,
            col(Contact.organization_id) == viewer.organization_id,
            col(Contact.customer_id) == viewer.customer_id,
            col(Contact.archived_at).is_(None),
        )
        .with_for_update()
    )
    contact = found.scalar_one_or_none()
    if contact is None:
        raise NotFound(row=("Contact", contact_id))
    linked = await _linked(session, contact.id) if _driver(viewer, contact.portal_scope) else set()
    refusal = change_refused(
        viewer, contact.id, contact.portal_scope, contact.can_manage_contacts, linked
    )
    if refusal is not None:
        raise Rejected(refusal)
    return contact


def _driver(viewer: Viewer, scope: PortalScope) -> bool:
    """A car-scoped manager and a car-scoped contact: the cars decide."""
    return scope is PortalScope.CARS and viewer.scope is PortalScope.CARS


def change_refused(
    viewer: Viewer,
    contact_id: uuid.UUID,
    scope: PortalScope,
    manages: bool,
    linked_cars: set[uuid.UUID],
) -> Problem | None:
    """Why the viewer, a manager of the account, may not change one of its live contacts
    (its cars needed only where `_driver` says so), or None. The write actions and the
    portal's list of manageable contacts both ask this."""
    if viewer.contact_id is None:
        return None  # the customer manages every contact of theirs
    if contact_id == viewer.contact_id:
        return YOURSELF
    if manages or not may_grant(viewer, scope):
        return NOT_YOURS
    if _driver(viewer, scope) and not linked_cars <= viewer.car_ids:
        return NOT_YOURS
    return None


def manageable_contacts_query(viewer: Viewer) -> sa.Select[Any] | None:
    """The live contacts of the viewer's customer, or None when the viewer is not a portal
    viewer; `manageable` keeps those the viewer may change."""
    if not viewer.is_portal or viewer.customer_id is None:
        return None
    return (
        sa.select(contacts)
        .where(
            contacts.c.organization_id == viewer.organization_id,
            contacts.c.customer_id == viewer.customer_id,
            contacts.c.archived_at.is_(None),
        )
        .order_by(contacts.c.name, contacts.c.id)
    )


def contact_cars_query(contact_ids: Sequence[uuid.UUID]) -> sa.Select[Any]:
    return sa.select(contact_cars.c.contact_id, contact_cars.c.car_id).where(
        contact_cars.c.contact_id.in_(contact_ids)
    )


def manageable(
    viewer: Viewer, rows: Sequence[RowMapping], links: Sequence[RowMapping]
) -> list[tuple[RowMapping, set[uuid.UUID]]]:
    """Of the customer's live contacts (`rows`, with their car `links`), those the viewer
    may change, each with its cars: none unless the viewer may manage contacts at all (the
    customer, or a live contact given the right)."""
    if viewer.contact_id is not None:
        me = next((row for row in rows if row["id"] == viewer.contact_id), None)
        if me is None or not me["can_manage_contacts"]:
            return []
    cars: dict[uuid.UUID, set[uuid.UUID]] = {}
    for link in links:
        cars.setdefault(link["contact_id"], set()).add(link["car_id"])
    found = []
    for row in rows:
        linked = cars.get(row["id"], set())
        scope = PortalScope(row["portal_scope"])
        if change_refused(viewer, row["id"], scope, row["can_manage_contacts"], linked) is None:
            found.append((row, linked))
    return found


async def _linked(session: AsyncSession, contact_id: uuid.UUID) -> set[uuid.UUID]:
    found = await session.execute(
        sa.select(contact_cars.c.car_id).where(contact_cars.c.contact_id == contact_id)
    )
    return set(found.scalars())


async def _cars(
    session: AsyncSession, viewer: Viewer, scope: object, car_ids: Edit[set[uuid.UUID]]
) -> Edit[set[uuid.UUID]]:
    """The scope checked against the viewer's and the business's, and the cars (for CARS)
    among those the viewer sees: the links a contact keeps."""
    assert isinstance(scope, PortalScope)
    if not may_grant(viewer, scope):
        message = "Choose access no wider than your own, in sections the business offers."
        raise Rejected(Problem("portalScope", message, CustomerCode.BEYOND_ACCESS))
    if scope is not PortalScope.CARS:
        return set()  # cars matter only to CARS: none kept for a wider scope
    wanted = set() if car_ids is KEEP else car_ids
    seen = await visible_rows(session, Car, row_scope(viewer), wanted)
    if {car.id for car in seen} != wanted:
        message = "Choose cars of yours that you see in the portal."
        raise Rejected(Problem("carIds", message, Common.NOT_FOUND))
    return wanted


async def _record(
    work: Work,
    session: AsyncSession,
    customer: Customer,
    contact: Contact,
    action: str,
    verb: str,
) -> None:
    data = {"scope": contact.portal_scope.value, "portal": contact.can_access_portal}
    session.add(audit(work, action, subject_type="Contact", subject_id=contact.id, data=data))
    org = await session.get(Organization, customer.organization_id)
    assert org is not None  # the customer's foreign key holds it
    await notify_staff(
        session,
        org,
        NotificationKind.CONTACTS_CHANGED,
        f"{customer.name} {verb} a contact: {contact.name}",
        f"{contact.name} ({contact.portal_scope.value.lower()} access"
        + (", portal)" if contact.can_access_portal else ")"),
        subject_type="Contact",
        subject_id=contact.id,
    )
