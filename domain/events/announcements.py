"""Emails about community events: invitations, cancellations and reminders.

Every one of them is a SOCIAL_EVENTS email: it goes only to customers and contacts who
want social-event emails, have an address and are not archived.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from mail.outbox import enqueue_to
from mail.recipients import PREFERENCE, Recipient
from models import CommunityEvent, Organization
from models.db import Database
from models.enums import MailKind, RsvpStatus
from models.tables import community_events, contacts, customers, event_rsvps
from models.types import utcnow

WANTS = PREFERENCE[MailKind.SOCIAL_EVENTS]  # the one preference these emails follow
REMIND_BEFORE = timedelta(hours=24)


def _reachable(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c[WANTS].is_(True), table.c.archived_at.is_(None), table.c.email.is_not(None)]


def _once_each(found: Iterable[tuple[str, str]]) -> list[Recipient]:
    """One email per address, however many records share it."""
    seen: set[str] = set()
    people = []
    for name, email in found:
        if email.lower() not in seen:
            seen.add(email.lower())
            people.append(Recipient(name=name, email=email))
    return people


async def invitees(session: AsyncSession, org_id: uuid.UUID) -> list[Recipient]:
    """Every customer of the organization, and every contact of a customer still served,
    who wants social-event emails."""
    own = sa.select(customers.c.name, customers.c.email).where(
        customers.c.organization_id == org_id, *_reachable(customers)
    )
    others = (
        sa.select(contacts.c.name, contacts.c.email)
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(
            contacts.c.organization_id == org_id,
            customers.c.archived_at.is_(None),
            *_reachable(contacts),
        )
    )
    found = await session.execute(sa.union_all(own, others))
    return _once_each((name, email) for name, email in found)


async def going(session: AsyncSession, event_id: uuid.UUID) -> list[Recipient]:
    """Those who answered GOING (each contact for themselves, a customer for the account)
    and want social-event emails."""
    answered = [event_rsvps.c.event_id == event_id, event_rsvps.c.status == RsvpStatus.GOING]
    own = (
        sa.select(customers.c.name, customers.c.email)
        .join(event_rsvps, event_rsvps.c.customer_id == customers.c.id)
        .where(*answered, event_rsvps.c.contact_id.is_(None), *_reachable(customers))
    )
    others = (
        sa.select(contacts.c.name, contacts.c.email)
        .join(event_rsvps, event_rsvps.c.contact_id == contacts.c.id)
        .where(*answered, *_reachable(contacts))
    )
    found = await session.execute(sa.union_all(own, others))
    return _once_each((name, email) for name, email in found)


def when(event: CommunityEvent, timezone: str) -> str:
    """The event's time as people read it where the business is."""
    zone = ZoneInfo(timezone)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    day = f"{start:%A} {start.day} {start:%B %Y}"
    if start.date() == end.date():
        return f"{day}, {start:%H:%M} to {end:%H:%M} ({timezone})"
    return f"{day}, {start:%H:%M} to {end:%A} {end.day} {end:%B %Y}, {end:%H:%M} ({timezone})"


def _details(event: CommunityEvent, org: Organization) -> list[str]:
    lines = [f"When: {when(event, org.timezone)}"]
    if event.place:
        lines.append(f"Where: {event.place}")
    if event.description:
        lines.append(event.description)
    return lines


def _button(settings: Settings) -> tuple[str, str]:
    return ("Reply in your portal", f"{settings.portal_base}/events")


async def send_invitations(
    session: AsyncSession, settings: Settings, org: Organization, event: CommunityEvent
) -> int:
    to = await invitees(session, org.id)
    limited = [f"Places are limited to {event.capacity}."] if event.capacity else []
    paragraphs = [
        f"{org.name} invites you to {event.title}.",
        *_details(event, org),
        *limited,
        "Let us know in your customer portal whether you are coming, and with how many guests.",
    ]
    subject = f"You are invited: {event.title}"
    await enqueue_to(
        session, org, MailKind.SOCIAL_EVENTS, to, subject, paragraphs, _button(settings)
    )
    return len(to)


async def send_cancellations(
    session: AsyncSession, org: Organization, event: CommunityEvent
) -> int:
    to = await going(session, event.id)
    paragraphs = [
        f"We are sorry: {event.title}, planned for {when(event, org.timezone)}, is cancelled.",
        f"Thank you for planning to come. {org.name}",
    ]
    subject = f"Cancelled: {event.title}"
    await enqueue_to(session, org, MailKind.SOCIAL_EVENTS, to, subject, paragraphs, None)
    return len(to)


async def remind_event_attendees(db: Database, now: datetime | None = None) -> int:
    """Remind those GOING of each published event starting within 24 hours, once per event
    (`reminded_at`, set under the event's row lock, so overlapping runs send it once).
    Returns how many events were reminded."""
    now = now or utcnow()
    due = sa.select(community_events.c.id).where(
        community_events.c.published_at.is_not(None),
        community_events.c.cancelled_at.is_(None),
        community_events.c.reminded_at.is_(None),
        community_events.c.starts_at > now,
        community_events.c.starts_at <= now + REMIND_BEFORE,
    )
    async with db.connect() as conn:
        event_ids = list((await conn.execute(due)).scalars())
    reminded = 0
    for event_id in event_ids:
        async with db.write() as session:
            event = await session.get(CommunityEvent, event_id, with_for_update=True)
            if event is None or event.reminded_at is not None or event.cancelled_at is not None:
                continue  # another run got there first, or staff cancelled it meanwhile
            event.reminded_at = now
            org = await session.get(Organization, event.organization_id)
            assert org is not None
            to = await going(session, event.id)
            paragraphs = [
                f"A reminder that you are coming to {event.title}.",
                *_details(event, org),
                "Plans changed? Let us know in your customer portal.",
            ]
            subject = f"Reminder: {event.title}"
            await enqueue_to(
                session, org, MailKind.SOCIAL_EVENTS, to, subject, paragraphs, _button(db.settings)
            )
            reminded += 1
    return reminded
