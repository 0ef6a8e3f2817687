"""Scheduling emails: telling the customer's people that staff scheduled, moved, confirmed
or cancelled an appointment. Who gets them is decided by `mail.recipients` (kind SCHEDULING).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from mail.outbox import enqueue_to
from mail.recipients import recipients
from mail.texts import text_people, text_recipients
from models import Appointment, Car, Organization
from models.enums import MailKind, TextKind


class ScheduleNews(StrEnum):
    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REMINDER = "reminder"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def when(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """The time as the business's customers read it: in the business's time zone."""
    zone = _zone(timezone)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day = f"{start:%A} {start.day} {start:%B %Y}"
    if end.date() == start.date():
        return f"{day}, {start:%H:%M} to {end:%H:%M} ({timezone})"
    return f"{day}, {start:%H:%M} to {end:%A} {end.day} {end:%B %Y}, {end:%H:%M} ({timezone})"


async def tell_customer(
    session: AsyncSession,
    settings: Settings,
    appointment: Appointment,
    news: ScheduleNews,
    *,
    reason: str | None = None,
) -> int:
    """Queue the email about `appointment` to everyone who wants scheduling emails; how
    many were queued."""
    to = await recipients(
        session, appointment.customer_id, MailKind.SCHEDULING, car_id=appointment.car_id
    )
    texts = []
    if news is ScheduleNews.REMINDER:
        texts = await text_recipients(
            session,
            appointment.customer_id,
            TextKind.APPOINTMENT_REMINDERS,
            MailKind.SCHEDULING,
            car_id=appointment.car_id,
        )
    if not (to or texts):
        return 0
    org = await session.get(Organization, appointment.organization_id)
    if org is None:
        return 0
    car = await session.get(Car, appointment.car_id) if appointment.car_id else None
    about = appointment.title + (f" for your {car.make} {car.model}" if car else "")
    time = when(appointment.starts_at, appointment.ends_at, org.timezone)
    if texts:
        body = f"{org.name}: a reminder of {about}, {time}."
        label = f"Reminder: {appointment.title}"
        await text_people(session, settings, org.id, texts, MailKind.SCHEDULING, label, body)
    if not to:
        return 0
    match news:
        case ScheduleNews.SCHEDULED:
            subject = f"Appointment scheduled with {org.name}"
            paragraphs = [f"{org.name} has scheduled {about}: {time}."]
        case ScheduleNews.RESCHEDULED:
            subject = f"Appointment moved: {appointment.title}"
            paragraphs = [f"{org.name} has moved {about}. The new time is {time}."]
        case ScheduleNews.CONFIRMED:
            subject = f"Appointment confirmed with {org.name}"
            paragraphs = [f"{org.name} has confirmed {about}: {time}."]
        case ScheduleNews.CANCELLED:
            subject = f"Appointment cancelled: {appointment.title}"
            paragraphs = [f"{org.name} has cancelled {about}, which was set for {time}."]
            if reason:
                paragraphs.append(f"Reason: {reason}")
        case ScheduleNews.REMINDER:
            subject = f"Reminder: {appointment.title} with {org.name}"
            paragraphs = [f"A reminder of {about}: {time}."]
    if appointment.notes and news is not ScheduleNews.CANCELLED:
        paragraphs.append(appointment.notes)
    button = ("View my appointments", f"{settings.portal_base}/appointments")
    await enqueue_to(session, org, MailKind.SCHEDULING, to, subject, paragraphs, button)
    return len(to)
