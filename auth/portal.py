"""Portal people and their sign-in links.

A portal person is a customer, or one of its contacts, who may sign in to the portal.
Links are issued for exactly one person and purpose, redeemed by one atomic update, and
die at first use, on expiry, on revocation, or when a newer link replaces them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.sessions import end_portal_sessions, end_sessions_of
from auth.tokens import new_token, token_hash
from core.settings import Settings
from models import Contact, Customer
from models.clock import db_now
from models.enums import LinkPurpose, PortalStatus
from models.tables import contacts, customers, portal_settings
from models.tables import magic_links as links

GRANTED = (PortalStatus.INVITED, PortalStatus.ACTIVE)


@dataclass(frozen=True)
class Person:
    """A customer (contact_id None) or a contact, as the portal sees them."""

    organization_id: uuid.UUID
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None
    name: str
    email: str | None
    status: PortalStatus
    can_access_portal: bool  # always true for the customer themself
    archived: bool
    portal_email: str | None = None  # the address access belongs to (models/people.py)

    @property
    def may_sign_in(self) -> bool:
        return (
            self.status in GRANTED
            and self.can_access_portal
            and bool(self.email)
            and not self.archived
        )

    def reachable_with(self, proven: str | None) -> bool:
        """Whether a session that proved `proven` may act for this person: their address
        is that one, and it is the address they were invited at or signed in with."""
        return (
            self.may_sign_in
            and proven is not None
            and self.email == proven
            and self.portal_email == proven
        )


def customer_person(row: Any) -> Person:
    """The customer themself as a portal person (a Core row or an ORM object)."""
    return Person(
        organization_id=row.organization_id,
        customer_id=row.id,
        contact_id=None,
        name=row.name,
        email=row.email,
        status=row.portal_status,
        can_access_portal=True,
        archived=row.archived_at is not None,
        portal_email=row.portal_email,
    )


def contact_person(row: Any, customer_archived: bool = False) -> Person:
    """A contact as a portal person (a Core row or an ORM object)."""
    return Person(
        organization_id=row.organization_id,
        customer_id=row.customer_id,
        contact_id=row.id,
        name=row.name,
        email=row.email,
        status=row.portal_status,
        can_access_portal=row.can_access_portal,
        archived=row.archived_at is not None or customer_archived,
        portal_email=row.portal_email,
    )


def person_of(row: Customer | Contact) -> Person:
    return contact_person(row) if isinstance(row, Contact) else customer_person(row)


async def load_person(
    session: AsyncSession,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> Person | None:
    customer = (
        await session.execute(
            sa.select(customers).where(
                customers.c.id == customer_id, customers.c.organization_id == organization_id
            )
        )
    ).first()
    if customer is None:
        return None
    if contact_id is None:
        return customer_person(customer)
    contact = (
        await session.execute(
            sa.select(contacts).where(
                contacts.c.id == contact_id, contacts.c.customer_id == customer_id
            )
        )
    ).first()
    if contact is None:
        return None
    return contact_person(contact, customer.archived_at is not None)


async def people_with_email(
    session: AsyncSession, email: str, organization_id: uuid.UUID | None = None
) -> list[Person]:
    """Everyone who may sign in with this address, customers first, in every organization
    (or one). One address can be a customer here and a bookkeeper for two companies there.
    The address is the editable `email`: only a link sent to it proves it (see
    `accounts_of_address` for what a proven address reaches)."""
    email = email.strip().lower()
    found_customers = await session.execute(
        sa.select(customers)
        .where(customers.c.email == email)
        .where(*([customers.c.organization_id == organization_id] if organization_id else []))
        .order_by(customers.c.created_at, customers.c.id)
    )
    people = [customer_person(r) for r in found_customers]
    found_contacts = await session.execute(
        sa.select(contacts, customers.c.archived_at.label("customer_archived_at"))
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(contacts.c.email == email)
        .where(*([contacts.c.organization_id == organization_id] if organization_id else []))
        .order_by(contacts.c.created_at, contacts.c.id)
    )
    people += [contact_person(r, r.customer_archived_at is not None) for r in found_contacts]
    return [p for p in people if p.may_sign_in]


async def accounts_of_address(session: AsyncSession, proven: str) -> list[Person]:
    """The people a session that proved `proven` may act for, in every organization: those
    whose address it is and whose access belongs to it (`Person.reachable_with`)."""
    people = await people_with_email(session, proven)
    return [p for p in people if p.reachable_with(proven.strip().lower())]


async def portal_enabled(session: AsyncSession, organization_id: uuid.UUID) -> bool:
    found = await session.execute(
        sa.select(portal_settings.c.enabled).where(
            portal_settings.c.organization_id == organization_id
        )
    )
    return bool(found.scalar())


async def cut_off(session: AsyncSession, person: Person) -> None:
    """End a person's portal sessions and unused links at once, for good: revocation, a new
    address, access switched off. Getting back in takes a new link."""
    await revoke_links(session, person)
    await end_sessions_of(session, person.customer_id, person.contact_id)


async def close_portal(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """The business switched its portal off: every portal session and unused link of the
    organization ends for good; switching it on again needs new links."""
    await session.execute(
        sa.update(links)
        .where(
            links.c.organization_id == organization_id,
            links.c.used_at.is_(None),
            links.c.revoked_at.is_(None),
        )
        .values(revoked_at=db_now())
    )
    await end_portal_sessions(session, organization_id)


async def follow_edit(
    session: AsyncSession, row: Customer | Contact, values: Mapping[str, Any]
) -> None:
    """What an edit of a person's record (`values`, about to be applied to `row`) ends.

    A new address is not yet proven: the access, password, sessions and links that belong
    to the old one end, and only a link sent to the new address and redeemed restores it.
    Portal access switched off for a contact ends their sessions and links too, and they
    read NOT_INVITED until invited again."""
    new_email = values.get("email", row.email)
    readdressed = (new_email or None) != (row.email or None)
    switched_off = (
        isinstance(row, Contact)
        and row.can_access_portal
        and not values.get("can_access_portal", True)
    )
    if not (readdressed or switched_off):
        return
    person = person_of(row)
    if readdressed:
        row.portal_email = None
        row.portal_password_hash = None
    if switched_off and row.portal_status is not PortalStatus.REVOKED:
        row.portal_status = PortalStatus.NOT_INVITED  # back in only by a new invite
    await cut_off(session, person)


def _same_person(person: Person) -> sa.ColumnElement[bool]:
    if person.contact_id is None:
        return sa.and_(links.c.customer_id == person.customer_id, links.c.contact_id.is_(None))
    return links.c.contact_id == person.contact_id


async def revoke_links(
    session: AsyncSession, person: Person, purpose: LinkPurpose | None = None
) -> None:
    """Kill every unused link of this person (of one purpose, or all)."""
    conditions = [_same_person(person), links.c.used_at.is_(None), links.c.revoked_at.is_(None)]
    if purpose is not None:
        conditions.append(links.c.purpose == purpose)
    await session.execute(sa.update(links).where(*conditions).values(revoked_at=db_now()))


@dataclass(frozen=True)
class IssuedLink:
    link_id: uuid.UUID
    token: str


async def issue_link(
    session: AsyncSession, person: Person, purpose: LinkPurpose, *, new_email: str | None = None
) -> IssuedLink:
    """A new link for this person; earlier unused links of the same purpose die.
    An EMAIL_CHANGE link carries the address it confirms (`new_email`)."""
    if not person.email:
        raise ValueError("a link needs an email address")
    await revoke_links(session, person, purpose)
    token = new_token()
    link_id = uuid.uuid4()
    await session.execute(
        sa.insert(links).values(
            id=link_id,
            organization_id=person.organization_id,
            token_hash=token_hash(token),
            purpose=purpose,
            customer_id=person.customer_id,
            contact_id=person.contact_id,
            email=person.email,
            new_email=new_email,
            created_at=db_now(),
            updated_at=db_now(),
        )
    )
    return IssuedLink(link_id=link_id, token=token)


class Redemption(StrEnum):
    OK = "OK"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"


@dataclass(frozen=True)
class Redeemed:
    outcome: Redemption
    person: Person | None = None
    link_id: uuid.UUID | None = None
    email: str | None = None  # the address the link was sent to: what redeeming it proves


async def redeem_link(session: AsyncSession, token: str, purpose: LinkPurpose) -> Redeemed:
    """Use a link once. Two redemptions at the same moment: exactly one succeeds."""
    hashed = token_hash(token)
    used = await session.execute(
        sa.update(links)
        .where(
            links.c.token_hash == hashed,
            links.c.purpose == purpose,
            links.c.used_at.is_(None),
            links.c.revoked_at.is_(None),
            links.c.expires_at.is_not(None),
            links.c.expires_at > db_now(),
        )
        .values(used_at=db_now(), updated_at=db_now())
        .returning(
            links.c.id,
            links.c.organization_id,
            links.c.customer_id,
            links.c.contact_id,
            links.c.email,
        )
    )
    row = used.mappings().first()
    if row is None:
        return await _why_not(session, hashed, purpose)
    person = await load_person(
        session, row["organization_id"], row["customer_id"], row["contact_id"]
    )
    if person is None or not person.may_sign_in:
        return Redeemed(Redemption.INVALID, person, row["id"])
    # A link signs in only the person it was sent to, at the address it was sent to.
    # (Changing the address revokes its links; this holds even if a change ever didn't.)
    if person.email != row["email"]:
        return Redeemed(Redemption.INVALID, person, row["id"])
    if not await portal_enabled(session, person.organization_id):
        return Redeemed(Redemption.INVALID, person, row["id"])
    return Redeemed(Redemption.OK, person, row["id"], row["email"])


async def _why_not(session: AsyncSession, hashed: str, purpose: LinkPurpose) -> Redeemed:
    """Why a link was refused. Expired links are told apart, so the viewer can ask for a
    fresh one; links already used or revoked still name their person, for the audit."""
    found = await session.execute(
        sa.select(
            links.c.id,
            links.c.organization_id,
            links.c.customer_id,
            links.c.contact_id,
            sa.and_(
                links.c.used_at.is_(None),
                links.c.revoked_at.is_(None),
                links.c.expires_at <= db_now(),
            ).label("expired"),
        ).where(links.c.token_hash == hashed, links.c.purpose == purpose)
    )
    row = found.mappings().first()
    if row is None:
        return Redeemed(Redemption.INVALID)
    person = await load_person(
        session, row["organization_id"], row["customer_id"], row["contact_id"]
    )
    outcome = Redemption.EXPIRED if row["expired"] else Redemption.INVALID
    return Redeemed(outcome, person, row["id"])


def link_url(settings: Settings, purpose: LinkPurpose, token: str) -> str:
    """Where the email's button goes: the portal client, or Portico's own minimal page."""
    page = {
        LinkPurpose.PASSWORD_RESET: "reset-password",
        LinkPurpose.EMAIL_CHANGE: "confirm-email",
    }.get(purpose, "sign-in")
    return f"{settings.portal_base}/{page}?{urlencode({'token': token})}"
