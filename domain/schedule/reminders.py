"""Appointment reminders: an email to the customer's people before each appointment.

A reminder is due `reminder_days_before` days before the appointment's date in the
organization's time zone, at `reminder_hour` o'clock local time (the day before at 09:00
unless the organization chose otherwise), so it comes at the same local hour across a
change of daylight-saving time. It goes to those who want scheduling emails
(`mail.recipients`, kind SCHEDULING), only for appointments still SCHEDULED or CONFIRMED
and still to come, late rather than never (a scheduler that was down catches up until the
appointment starts).

Each reminder is recorded in `appointment_reminders` with its emails, in one transaction
under the appointment's row lock; (appointment_id, starts_at) is unique, so two schedulers
never remind twice. An appointment moved to another time is reminded again of the new
time. An email about the appointment sent once its reminder is due (scheduled, moved or
confirmed at short notice) stands in for the reminder: it is recorded with no emails.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.schedule.news import ScheduleNews, tell_customer
from models import Appointment, AppointmentReminder, Organization, PortalSettings
from models.db import Database
from models.enums import AppointmentStatus
from models.tables import appointment_reminders, appointments, organizations, portal_settings

log = logging.getLogger("portico.reminders")

DEFAULT_DAYS_BEFORE = 1
DEFAULT_HOUR = 9
MAX_DAYS_BEFORE = 14
REMINDED = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class ReminderRule:
    """When an organization's reminders go."""

    days_before: int = DEFAULT_DAYS_BEFORE
    hour: int = DEFAULT_HOUR
    enabled: bool = True

    @classmethod
    def of(cls, options: PortalSettings | None) -> ReminderRule:
        if options is None:
            return cls()
        return cls(
            options.reminder_days_before,
            options.reminder_hour,
            options.send_appointment_reminders,
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def reminder_due_at(starts_at: datetime, timezone: str, rule: ReminderRule) -> datetime:
    """The instant (UTC) the reminder of an appointment starting at `starts_at` is due:
    `rule.hour` o'clock local time, `rule.days_before` days before its local date."""
    zone = _zone(timezone)
    day = starts_at.astimezone(zone).date() - timedelta(days=rule.days_before)
    return datetime.combine(day, time(rule.hour), tzinfo=zone).astimezone(UTC)


def is_due(starts_at: datetime, timezone: str, rule: ReminderRule, now: datetime) -> bool:
    """Whether a reminder of an appointment at `starts_at` should go out at `now`."""
    return rule.enabled and reminder_due_at(starts_at, timezone, rule) <= now < starts_at


async def stand_in_for_reminder(
    session: AsyncSession, appointment: Appointment, now: datetime
) -> None:
    """An email about `appointment` is being queued: when its reminder is already due, that
    email is the reminder (recorded with no emails of its own), so nobody gets two."""
    org = await session.get(Organization, appointment.organization_id)
    if org is None or appointment.status not in REMINDED:
        return
    rule = ReminderRule.of(await session.get(PortalSettings, org.id))
    if not is_due(appointment.starts_at, org.timezone, rule, now):
        return
    if await _reminded(session, appointment):
        return
    session.add(_record(appointment, emails=0))


async def _reminded(session: AsyncSession, appointment: Appointment) -> bool:
    found = await session.execute(
        sa.select(appointment_reminders.c.id).where(
            appointment_reminders.c.appointment_id == appointment.id,
            appointment_reminders.c.starts_at == appointment.starts_at,
        )
    )
    return found.first() is not None


def _record(appointment: Appointment, *, emails: int) -> AppointmentReminder:
    return AppointmentReminder(
        organization_id=appointment.organization_id,
        appointment_id=appointment.id,
        starts_at=appointment.starts_at,
        emails=emails,
    )


async def _candidates(
    db: Database, now: datetime, organization_id: uuid.UUID | None
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(organization, appointment) of each appointment that may be due: open, to come within
    the longest lead time, not reminded of its present time. Whether it is due depends on
    its organization's zone and rule, decided in Python (`is_due`)."""
    horizon = now + timedelta(days=MAX_DAYS_BEFORE + 2)
    reminded = sa.exists().where(
        appointment_reminders.c.appointment_id == appointments.c.id,
        appointment_reminders.c.starts_at == appointments.c.starts_at,
    )
    stmt = (
        sa.select(
            appointments.c.organization_id,
            appointments.c.id,
            appointments.c.starts_at,
            organizations.c.timezone,
            portal_settings.c.send_appointment_reminders,
            portal_settings.c.reminder_days_before,
            portal_settings.c.reminder_hour,
        )
        .join(organizations, organizations.c.id == appointments.c.organization_id)
        .outerjoin(portal_settings, portal_settings.c.organization_id == organizations.c.id)
        .where(
            appointments.c.status.in_(REMINDED),
            appointments.c.starts_at > now,
            appointments.c.starts_at <= horizon,
            ~reminded,
        )
        .order_by(appointments.c.starts_at, appointments.c.id)
    )
    if organization_id is not None:
        stmt = stmt.where(appointments.c.organization_id == organization_id)
    async with db.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    due = []
    for org_id, appointment_id, starts_at, timezone, enabled, days, hour in rows:
        rule = ReminderRule() if enabled is None else ReminderRule(days, hour, enabled)
        if is_due(starts_at, timezone, rule, now):
            due.append((org_id, appointment_id))
    return due


async def remind_appointments(
    db: Database, now: datetime | None = None, *, organization_id: uuid.UUID | None = None
) -> int:
    """Queue every due appointment reminder (of one organization, or all); how many
    appointments were reminded. Safe to run in several processes at once."""
    now = now or datetime.now(UTC)
    reminded = 0
    for org_id, appointment_id in await _candidates(db, now, organization_id):
        try:
            async with db.write() as session:
                appointment = await session.get(
                    Appointment, appointment_id, with_for_update=True, populate_existing=True
                )
                org = await session.get(Organization, org_id)
                if appointment is None or org is None:
                    continue
                rule = ReminderRule.of(await session.get(PortalSettings, org_id))
                # Looked at again under the lock: cancelled, moved or reminded meanwhile.
                if appointment.status not in REMINDED or await _reminded(session, appointment):
                    continue
                if not is_due(appointment.starts_at, org.timezone, rule, now):
                    continue
                sent = await tell_customer(session, db.settings, appointment, ScheduleNews.REMINDER)
                session.add(_record(appointment, emails=sent))
        except IntegrityError:
            # Another scheduler recorded it between our look and our write: it is sent.
            log.info("appointment %s was reminded by another run", appointment_id)
            continue
        reminded += 1
    return reminded
