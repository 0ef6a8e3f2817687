"""Car updates: news of a customer's cars (a status change, a condition report, a photo
made visible, a job started or finished), emailed to the customer and the contacts who may
see that car and want car updates (`mail.recipients`, kind CAR_UPDATES).

News is not emailed at once: it joins the person's open digest, which the news that opened
it scheduled to go `car_update_minutes` later (the organization's window, 15 minutes unless
the OWNER chose otherwise); `send_car_updates`, in the jobs loop, sends each digest whose
window has closed as one email. So several changes within the window arrive as one message.
At most one digest is open per person (a partial unique index): news written at the same
time by two transactions joins one digest (the second, refused by the index, appends to
the first's). A digest is sent once, under its row lock, however many schedulers run.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.settings import Settings
from mail.outbox import enqueue_to
from mail.recipients import Recipient, recipients
from mail.texts import text_people, text_recipients
from models import Car, CarUpdateDigest, Organization, PortalSettings
from models.db import Database
from models.enums import CarStatus, MailKind, TextKind
from models.tables import car_update_digests as digests

log = logging.getLogger("portico.car_updates")

DEFAULT_WINDOW_MINUTES = 15
MAX_WINDOW_MINUTES = 1440
STATUS_LABELS = {
    CarStatus.IN_STORAGE: "in storage",
    CarStatus.CHECKED_OUT: "checked out",
    CarStatus.IN_SERVICE: "in service",
    CarStatus.IN_TRANSIT: "in transit",
    CarStatus.WITH_OWNER: "with you",
}


def car_label(car: Car | None) -> str | None:
    if car is None:
        return None
    return " ".join(str(part) for part in (car.year, car.make, car.model) if part)


async def _window(session: AsyncSession, org_id: uuid.UUID) -> timedelta:
    options = await session.get(PortalSettings, org_id)
    minutes = options.car_update_minutes if options is not None else DEFAULT_WINDOW_MINUTES
    return timedelta(minutes=minutes)


async def car_news(
    session: AsyncSession,
    org_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    car: Car | None,
    text: str,
    now: datetime,
) -> int:
    """Add news about `car` (or the customer's work without a car) to the digest of each
    person who should hear of it; how many people. In the caller's transaction."""
    if customer_id is None:
        return 0
    people = await recipients(
        session, customer_id, MailKind.CAR_UPDATES, car_id=car.id if car else None
    )
    if not people:
        return 0
    event = {"at": now.isoformat(), "car": car_label(car), "text": text}
    sends_at = now + await _window(session, org_id)
    for person in people:
        await _add(session, org_id, customer_id, person, event, sends_at)
    return len(people)


async def text_car_ready(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    customer_id: uuid.UUID | None,
    car: Car | None,
    what: str,
) -> int:
    """ "Your car is ready" by text, at once (no digest: it is news to act on), to the
    customer's people who may see that car and chose these texts; how many."""
    if customer_id is None:
        return 0
    car_id = car.id if car else None
    to = await text_recipients(
        session, customer_id, TextKind.CAR_READY, MailKind.CAR_UPDATES, car_id=car_id
    )
    about = car_label(car) or "your car"
    body = f"{org.name}: {about} is ready ({what})."
    label = f"Car ready: {about}"
    return await text_people(session, settings, org.id, to, MailKind.CAR_UPDATES, label, body)


async def _open_digest(
    session: AsyncSession, customer_id: uuid.UUID, address: str
) -> CarUpdateDigest | None:
    found = await session.execute(
        sa.select(CarUpdateDigest)
        .where(
            col(CarUpdateDigest.customer_id) == customer_id,
            col(CarUpdateDigest.to_address) == address,
            col(CarUpdateDigest.sent_at).is_(None),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found.scalar_one_or_none()


async def _add(
    session: AsyncSession,
    org_id: uuid.UUID,
    customer_id: uuid.UUID,
    person: Recipient,
    event: dict[str, str | None],
    sends_at: datetime,
) -> None:
    address = person.email.lower()
    digest = await _open_digest(session, customer_id, address)
    if digest is None:
        try:
            async with session.begin_nested():
                session.add(
                    CarUpdateDigest(
                        organization_id=org_id,
                        customer_id=customer_id,
                        to_address=address,
                        name=person.name,
                        events=[event],
                        sends_at=sends_at,
                    )
                )
            return
        except IntegrityError:  # opened meanwhile by another transaction: join it
            digest = await _open_digest(session, customer_id, address)
            if digest is None:
                raise
    digest.events = [*digest.events, event]  # a new list: the JSON column sees the change
    digest.updated_at = datetime.now(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def _line(event: dict[str, str | None], timezone: str) -> str:
    at = datetime.fromisoformat(event["at"] or "").astimezone(_zone(timezone))
    about = f"{event['car']}: " if event.get("car") else ""
    return f"{at:%d %b %H:%M} - {about}{event['text']}"


async def _send(session: AsyncSession, settings: Settings, digest: CarUpdateDigest) -> None:
    org = await session.get(Organization, digest.organization_id)
    if org is None:
        return
    events = digest.events
    if len(events) == 1:
        about = events[0].get("car") or "your car"
        subject = f"Update on {about}: {events[0]['text']}"
        paragraphs = [f"News from {org.name}:", _line(events[0], org.timezone)]
    else:
        subject = f"{len(events)} updates on your cars from {org.name}"
        paragraphs = [f"News from {org.name}:", *(_line(e, org.timezone) for e in events)]
    button = ("See your cars", f"{settings.portal_base}/cars")
    person = Recipient(name=digest.name, email=digest.to_address)
    await enqueue_to(session, org, MailKind.CAR_UPDATES, [person], subject, paragraphs, button)


async def send_car_updates(
    db: Database, now: datetime | None = None, *, organization_id: uuid.UUID | None = None
) -> int:
    """Send every digest whose window has closed (of one organization, or all), each as one
    email; how many. Safe to run in several processes at once."""
    now = now or datetime.now(UTC)
    due = (
        sa.select(digests.c.id)
        .where(digests.c.sent_at.is_(None), digests.c.sends_at <= now)
        .order_by(digests.c.sends_at, digests.c.id)
    )
    if organization_id is not None:
        due = due.where(digests.c.organization_id == organization_id)
    async with db.connect() as conn:
        ids = list((await conn.execute(due)).scalars())
    sent = 0
    for digest_id in ids:
        async with db.write() as session:
            digest = await session.get(
                CarUpdateDigest, digest_id, with_for_update=True, populate_existing=True
            )
            if digest is None or digest.sent_at is not None:
                continue  # another scheduler sent it
            await _send(session, db.settings, digest)
            digest.sent_at = now
            sent += 1
    return sent
