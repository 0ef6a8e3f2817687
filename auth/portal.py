"""Portal people and their sign-in links.

A portal person is a customer, or one of its contacts, who may sign in to the portal.
Links are issued for exactly one person and purpose, redeemed by one atomic update, and
die at first use, on expiry, on revocation, or when a newer link replaces them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.tokens import new_token, token_hash
from models import Contact, Customer, MagicLink, PortalSettings
from models.clock import db_now
from models.enums import LinkPurpose, PortalStatus
from portico.settings import Settings

links: sa.Table = MagicLink.__table__  # type: ignore[attr-defined]
customers: sa.Table = Customer.__table__  # type: ignore[attr-defined]
contacts: sa.Table = Contact.__table__  # type: ignore[attr-defined]
portal_settings: sa.Table = PortalSettings.__table__  # type: ignore[attr-defined]

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

    @property
    def may_sign_in(self) -> bool:
        return (
            self.status in GRANTED
            and self.can_access_portal
            and bool(self.email)
            and not self.archived
        )


def _person_from_customer(row: sa.RowMapping) -> Person:
    return Person(
        organization_id=row["organization_id"],
        customer_id=row["id"],
        contact_id=None,
        name=row["name"],
        email=row["email"],
        status=row["portal_status"],
        can_access_portal=True,
        archived=row["archived_at"] is not None,
    )


def _person_from_contact(row: sa.RowMapping, customer_archived: bool) -> Person:
    return Person(
        organization_id=row["organization_id"],
        customer_id=row["customer_id"],
        contact_id=row["id"],
        name=row["name"],
        email=row["email"],
        status=row["portal_status"],
        can_access_portal=row["can_access_portal"],
        archived=row["archived_at"] is not None or customer_archived,
    )


async def load_person(
    session: AsyncSession,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> Person | None:
    customer = (
        (
            await session.execute(
                sa.select(customers).where(
                    customers.c.id == customer_id, customers.c.organization_id == organization_id
                )
            )
        )
        .mappings()
        .first()
    )
    if customer is None:
        return None
    if contact_id is None:
        return _person_from_customer(customer)
    contact = (
        (
            await session.execute(
                sa.select(contacts).where(
                    contacts.c.id == contact_id, contacts.c.customer_id == customer_id
                )
            )
        )
        .mappings()
        .first()
    )
    if contact is None:
        return None
    return _person_from_contact(contact, customer["archived_at"] is not None)


async def people_with_email(
    session: AsyncSession, email: str, organization_id: uuid.UUID | None = None
) -> list[Person]:
    """Everyone who may sign in with this address, customers first, in every organization
    (or one). One address can be a customer here and a bookkeeper for two companies there."""
    email = email.strip().lower()
    found_customers = await session.execute(
        sa.select(customers)
        .where(customers.c.email == email)
        .where(*([customers.c.organization_id == organization_id] if organization_id else []))
        .order_by(customers.c.created_at, customers.c.id)
    )
    people = [_person_from_customer(r) for r in found_customers.mappings()]
    found_contacts = await session.execute(
        sa.select(contacts, customers.c.archived_at.label("customer_archived_at"))
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(contacts.c.email == email)
        .where(*([contacts.c.organization_id == organization_id] if organization_id else []))
        .order_by(contacts.c.created_at, contacts.c.id)
    )
    people += [
        _person_from_contact(r, r["customer_archived_at"] is not None)
        for r in found_contacts.mappings()
    ]
    return [p for p in people if p.may_sign_in]


async def portal_enabled(session: AsyncSession, organization_id: uuid.UUID) -> bool:
    found = await session.execute(
        sa.select(portal_settings.c.enabled).where(
            portal_settings.c.organization_id == organization_id
        )
    )
    return bool(found.scalar())


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
        .returning(links.c.id, links.c.organization_id, links.c.customer_id, links.c.contact_id)
    )
    row = used.mappings().first()
    if row is None:
        return await _why_not(session, hashed, purpose)
    person = await load_person(
        session, row["organization_id"], row["customer_id"], row["contact_id"]
    )
    if person is None or not person.may_sign_in:
        return Redeemed(Redemption.INVALID, person, row["id"])
    if not await portal_enabled(session, person.organization_id):
        return Redeemed(Redemption.INVALID, person, row["id"])
    return Redeemed(Redemption.OK, person, row["id"])


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
