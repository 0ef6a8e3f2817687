"""Who gets an email: the one home of the rule that preferences decide.

Every email Portico sends to a customer's people has a kind (`MailKind`). Kinds that
announce something (invoices, estimates, scheduling, ...) go to the customer and to the
contacts who want that kind and whose portal scope lets them see what it is about. Sign-in
links, email-change confirmations and receipts are answers to something the person did:
they go to that one addressee whatever their preferences, and never to anyone else.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import MailKind, PortalScope
from models.tables import contact_cars, contacts, customers

# The preference column (on customers and contacts) that says a person wants each kind.
PREFERENCE: dict[MailKind, str] = {
    MailKind.INVOICES: "wants_invoices",
    MailKind.ESTIMATES: "wants_estimates",
    MailKind.SCHEDULING: "wants_scheduling",
    MailKind.CAR_UPDATES: "wants_car_updates",
    MailKind.CONTRACTS: "wants_contracts",
    MailKind.SOCIAL_EVENTS: "wants_social_events",
    MailKind.MARKETING: "wants_marketing",
}
# Always sent, and only to the person they answer.
TO_ADDRESSEE = frozenset({MailKind.SIGN_IN, MailKind.RECEIPT})
# A contact hears only about what their portal scope lets them see.
BILLING_KINDS = frozenset({MailKind.INVOICES, MailKind.ESTIMATES})
CAR_KINDS = frozenset({MailKind.SCHEDULING, MailKind.CAR_UPDATES})


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str


def wants(person: Mapping[str, Any], kind: MailKind) -> bool:
    """Whether this customer or contact row gets an email of `kind` addressed to them."""
    if kind in TO_ADDRESSEE:
        return True
    return bool(person[_column(kind)])


def _column(kind: MailKind) -> str:
    column = PREFERENCE.get(kind)
    if column is None:
        raise ValueError(f"{kind} emails are not chosen by customer preferences")
    return column


def scope_allows(kind: MailKind, car_id: uuid.UUID | None) -> sa.ColumnElement[bool]:
    """The contacts whose portal scope covers an email of `kind` (about `car_id`, if any)."""
    scope = contacts.c.portal_scope
    if kind in BILLING_KINDS:
        return scope != PortalScope.CARS  # a driver does not handle the bills
    if kind in CAR_KINDS:
        their_car: sa.ColumnElement[bool] = sa.false()
        if car_id is not None:
            their_car = sa.exists().where(
                contact_cars.c.contact_id == contacts.c.id, contact_cars.c.car_id == car_id
            )
        return sa.or_(
            scope == PortalScope.EVERYTHING, sa.and_(scope == PortalScope.CARS, their_car)
        )
    return sa.true()


async def recipients(
    session: AsyncSession,
    customer_id: uuid.UUID,
    kind: MailKind,
    *,
    car_id: uuid.UUID | None = None,
) -> list[Recipient]:
    """The customer and its contacts who want emails of `kind`, each address once.

    `car_id` names the car the email is about: a contact scoped to some cars hears about
    those only. Kinds that always go (sign-in links, receipts) have one addressee and are
    refused here, so they can never be broadcast by mistake.
    """
    if kind in TO_ADDRESSEE:
        raise ValueError(f"{kind} emails go to their addressee only")
    column = _column(kind)
    own = sa.select(
        customers.c.name, customers.c.email, sa.literal(0).label("rank"), customers.c.created_at
    ).where(
        customers.c.id == customer_id,
        customers.c.archived_at.is_(None),
        customers.c[column].is_(True),
        customers.c.email.is_not(None),
    )
    others = sa.select(
        contacts.c.name, contacts.c.email, sa.literal(1).label("rank"), contacts.c.created_at
    ).where(
        contacts.c.customer_id == customer_id,
        contacts.c.archived_at.is_(None),
        contacts.c[column].is_(True),
        contacts.c.email.is_not(None),
        scope_allows(kind, car_id),
    )
    both = sa.union_all(own, others).subquery()
    found = await session.execute(
        sa.select(both.c.name, both.c.email).order_by(both.c.rank, both.c.created_at)
    )
    people: list[Recipient] = []
    seen: set[str] = set()
    for name, email in found.all():
        if email.lower() not in seen:
            seen.add(email.lower())
            people.append(Recipient(name=name, email=email))
    return people
