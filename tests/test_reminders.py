"""Appointment reminders: due at a local hour across daylight-saving changes, once per
appointment and time however many schedulers run, never for cancelled or past appointments,
by each person's scheduling preference; checked against hand-computed instants and a real
SMTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from core.ids import decode_id_of
from core.settings import settings_from_env
from domain.schedule.reminders import ReminderRule, remind_appointments, reminder_due_at
from models import AppointmentReminder, Customer, Organization, PortalSettings
from models.db import Database
from models.tables import appointment_reminders, outbox_emails
from portico.background import scheduled_jobs
from tests.helpers import GraphQLClient, Tenant, user_errors
from tests.portal import deliver, make_car, make_customer
from tests.smtp import SmtpServer
from tests.test_appointments import CANCEL, CREATE, UPDATE

BERLIN = "Europe/Berlin"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- when a reminder is due: hand-computed instants ----------------------------------------


@pytest.mark.parametrize(
    ("zone", "starts_at", "rule", "due"),
    [
        # Berlin moves to summer time on 28 March 2027 at 02:00 (UTC+1 -> UTC+2).
        (BERLIN, utc(2027, 3, 28, 8), ReminderRule(), utc(2027, 3, 27, 8)),  # 09:00 CET
        (BERLIN, utc(2027, 3, 29, 8), ReminderRule(), utc(2027, 3, 28, 7)),  # 09:00 CEST
        # ...and back on 31 October 2027 at 03:00 (UTC+2 -> UTC+1).
        (BERLIN, utc(2027, 10, 31, 9), ReminderRule(), utc(2027, 10, 30, 7)),  # 09:00 CEST
        (BERLIN, utc(2027, 11, 1, 9), ReminderRule(), utc(2027, 10, 31, 8)),  # 09:00 CET
        # The local date counts, not the UTC one: 00:30 in Berlin is the evening before in UTC.
        (BERLIN, utc(2027, 6, 9, 22, 30), ReminderRule(), utc(2027, 6, 9, 7)),
        # New York: summer time from 14 March 2027.
        ("America/New_York", utc(2027, 3, 15, 13), ReminderRule(), utc(2027, 3, 14, 13)),
        ("America/New_York", utc(2027, 3, 14, 14), ReminderRule(), utc(2027, 3, 13, 14)),
        # Other rules: that morning at 07:00, two days before at 18:00.
        (BERLIN, utc(2027, 7, 1, 12), ReminderRule(0, 7), utc(2027, 7, 1, 5)),
        (BERLIN, utc(2027, 7, 1, 12), ReminderRule(2, 18), utc(2027, 6, 29, 16)),
        ("UTC", utc(2027, 1, 2, 0, 15), ReminderRule(), utc(2027, 1, 1, 9)),
    ],
)
def test_reminder_due_at_hand_computed(
    zone: str, starts_at: datetime, rule: ReminderRule, due: datetime
) -> None:
    assert reminder_due_at(starts_at, zone, rule) == due


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from([BERLIN, "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata"]),
    minutes=st.integers(0, 3 * 366 * 24 * 60),
    days=st.integers(0, 14),
    hour=st.integers(4, 23),  # no zone here skips an hour from 04:00 on
)
def test_reminder_due_at_is_the_local_hour_on_the_local_day(
    zone: str, minutes: int, days: int, hour: int
) -> None:
    starts_at = utc(2026, 1, 1) + timedelta(minutes=minutes)
    due = reminder_due_at(starts_at, zone, ReminderRule(days, hour))
    local = due.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute) == (hour, 0)
    assert local.date() == starts_at.astimezone(ZoneInfo(zone)).date() - timedelta(days=days)


# --- the scheduler ----------------------------------------------------------------------


async def _berlin(db: Database, tenant: Tenant) -> None:
    async with db.write() as session:
        org = await session.get(Organization, tenant.organization_id)
        assert org is not None
        org.timezone = BERLIN


async def _appointment(
    gql: GraphQLClient, tenant: Tenant, customer_id: str, starts_at: datetime, **fields: object
) -> str:
    data = await gql.data(
        CREATE,
        {
            "input": {
                "customerId": customer_id,
                "title": "Spring service",
                "startsAt": starts_at.isoformat(),
                "endsAt": (starts_at + timedelta(hours=2)).isoformat(),
                "notifyCustomer": False,
                **fields,
            }
        },
        token=tenant.staff_token,
    )
    assert data["createAppointment"]["userErrors"] == []
    return str(data["createAppointment"]["appointment"]["id"])


async def _reminder_emails(db: Database, tenant: Tenant) -> list[tuple[str, str]]:
    """(address, subject) of the organization's queued reminders."""
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(outbox_emails.c.to_address, outbox_emails.c.subject)
            .where(
                outbox_emails.c.organization_id == tenant.organization_id,
                outbox_emails.c.subject.like("Reminder:%"),
            )
            .order_by(outbox_emails.c.created_at)
        )
        return [(to, subject) for to, subject in found.all()]


async def _outbox_subjects(db: Database, tenant: Tenant) -> list[str]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(outbox_emails.c.subject)
            .where(outbox_emails.c.organization_id == tenant.organization_id)
            .order_by(outbox_emails.c.created_at)
        )
        return list(found.scalars())


async def _remind(db: Database, tenant: Tenant, now: datetime) -> int:
    return await remind_appointments(db, now, organization_id=tenant.organization_id)


async def test_a_reminder_goes_at_nine_local_time_across_dst_and_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    await _berlin(db, tenant)
    customer_id, email = await make_customer(gql, tenant, "Berta Berlin")
    car_id = await make_car(gql, tenant, customer_id, "911")
    # Monday 29 March 2027, 10:00 summer time: due Sunday 09:00 CEST, 07:00 UTC (not 08:00).
    await _appointment(gql, tenant, customer_id, utc(2027, 3, 29, 8), carId=car_id)
    # Monday 1 November 2027, 10:00 winter time: due Sunday 09:00 CET, 08:00 UTC.
    await _appointment(gql, tenant, customer_id, utc(2027, 11, 1, 9))

    assert await _remind(db, tenant, utc(2027, 3, 28, 6, 59)) == 0
    assert await _remind(db, tenant, utc(2027, 3, 28, 7)) == 1
    assert await _remind(db, tenant, utc(2027, 3, 28, 7, 1)) == 0  # once
    assert await _remind(db, tenant, utc(2027, 10, 31, 7, 59)) == 0
    assert await _remind(db, tenant, utc(2027, 10, 31, 8)) == 1

    assert await deliver(db, smtp) >= 2
    mine = [m for m in smtp.messages if str(m["To"]) == email]
    assert len(mine) == 2
    assert all(str(m["Subject"]).startswith("Reminder: Spring service with ") for m in mine)
    body = mine[0].get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Monday 29 March 2027, 10:00 to 12:00 (Europe/Berlin)" in text
    assert "Porsche 911" in text


async def test_cancelled_past_and_requested_appointments_get_no_reminder(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    cancelled = await _appointment(gql, tenant, customer_id, utc(2027, 5, 4, 9))
    await _appointment(gql, tenant, customer_id, utc(2027, 5, 3, 9))  # over by then
    data = await gql.data(
        CANCEL, {"input": {"id": cancelled, "notifyCustomer": False}}, token=tenant.staff_token
    )
    assert data["cancelAppointment"]["userErrors"] == []
    assert await _remind(db, tenant, utc(2027, 5, 3, 12)) == 0
    assert await _reminder_emails(db, tenant) == []


async def test_a_late_scheduler_catches_up_until_the_start(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, email = await make_customer(gql, tenant)
    await _appointment(gql, tenant, customer_id, utc(2027, 5, 4, 15))
    # Due 3 May 09:00 UTC; the scheduler was down until the morning of the 4th.
    assert await _remind(db, tenant, utc(2027, 5, 4, 14, 59)) == 1
    assert [to for to, _ in await _reminder_emails(db, tenant)] == [email]


async def test_two_schedulers_at_once_send_one_reminder(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, email = await make_customer(gql, tenant)
    await _appointment(gql, tenant, customer_id, utc(2027, 6, 2, 10))
    now = utc(2027, 6, 1, 9, 30)
    runs = await asyncio.gather(*(_remind(db, tenant, now) for _ in range(4)))
    assert sum(runs) == 1
    assert [to for to, _ in await _reminder_emails(db, tenant)] == [email]


async def test_the_record_is_unique_per_appointment_and_time(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    gid = await _appointment(gql, tenant, customer_id, utc(2027, 6, 2, 10))
    appointment_id = decode_id_of("Appointment", gid)

    def record() -> AppointmentReminder:
        return AppointmentReminder(
            organization_id=tenant.organization_id,
            appointment_id=appointment_id,
            starts_at=utc(2027, 6, 2, 10),
        )

    async with db.write() as session:
        session.add(record())
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(record())


async def test_moving_a_reminded_appointment_sends_one_update_then_a_new_reminder(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    gid = await _appointment(gql, tenant, customer_id, utc(2027, 6, 2, 10))
    assert await _remind(db, tenant, utc(2027, 6, 1, 9)) == 1
    moved = await gql.data(
        UPDATE,
        {
            "input": {
                "id": gid,
                "startsAt": utc(2027, 6, 9, 10).isoformat(),
                "endsAt": utc(2027, 6, 9, 11).isoformat(),
            }
        },
        token=tenant.staff_token,
    )
    assert moved["updateAppointment"]["userErrors"] == []
    subjects = await _outbox_subjects(db, tenant)
    assert [s for s in subjects if s.startswith("Appointment moved")] == [
        "Appointment moved: Spring service"
    ]
    assert await _remind(db, tenant, utc(2027, 6, 1, 9, 5)) == 0  # not due for the new time
    assert await _remind(db, tenant, utc(2027, 6, 8, 9)) == 1
    assert len(await _reminder_emails(db, tenant)) == 2


async def test_an_update_once_the_reminder_is_due_stands_in_for_it(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    """Moved at short notice (real time: a week's lead): the customer gets one email, the
    update, not the update and a reminder besides."""
    async with db.write() as session:
        options = await session.get(PortalSettings, tenant.organization_id)
        assert options is not None
        options.reminder_days_before = 7
    customer_id, _ = await make_customer(gql, tenant)
    now = datetime.now(UTC)
    gid = await _appointment(gql, tenant, customer_id, now + timedelta(days=20))
    moved = await gql.data(
        UPDATE,
        {
            "input": {
                "id": gid,
                "startsAt": (now + timedelta(days=2)).isoformat(),
                "endsAt": (now + timedelta(days=2, hours=1)).isoformat(),
            }
        },
        token=tenant.staff_token,
    )
    assert moved["updateAppointment"]["userErrors"] == []
    assert await _remind(db, tenant, datetime.now(UTC)) == 0
    subjects = await _outbox_subjects(db, tenant)
    assert subjects == ["Appointment moved: Spring service"]
    async with db.connect() as conn:
        emails = await conn.execute(
            sa.select(appointment_reminders.c.emails).where(
                appointment_reminders.c.appointment_id == decode_id_of("Appointment", gid)
            )
        )
        assert list(emails.scalars()) == [0]


async def test_no_reminder_to_those_who_turned_scheduling_emails_off(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    async with db.write() as session:
        customer = await session.get(Customer, decode_id_of("Customer", customer_id))
        assert customer is not None
        customer.wants_scheduling = False
    await _appointment(gql, tenant, customer_id, utc(2027, 6, 2, 10))
    assert await _remind(db, tenant, utc(2027, 6, 1, 9)) == 1  # recorded, nobody to tell
    assert await _reminder_emails(db, tenant) == []


async def test_reminders_switched_off_or_set_by_the_owner(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    await _appointment(gql, tenant, customer_id, utc(2027, 8, 10, 10))
    settings_mutation = """
    mutation S($input: PortalSettingsInput!) {
      updatePortalSettings(input: $input) {
        portalSettings { sendAppointmentReminders reminderDaysBefore reminderHour }
        userErrors { field code }
      }
    }
    """
    bad = await gql.data(
        settings_mutation,
        {"input": {"reminderDaysBefore": 15, "reminderHour": 24}},
        token=tenant.owner_token,
    )
    assert sorted(str(f) for f, _ in user_errors(bad["updatePortalSettings"])) == [
        "['input', 'reminderDaysBefore']",
        "['input', 'reminderHour']",
    ]
    off = await gql.data(
        settings_mutation,
        {"input": {"sendAppointmentReminders": False}},
        token=tenant.owner_token,
    )
    assert off["updatePortalSettings"]["portalSettings"]["sendAppointmentReminders"] is False
    assert await _remind(db, tenant, utc(2027, 8, 9, 9)) == 0
    on = await gql.data(
        settings_mutation,
        {"input": {"sendAppointmentReminders": True, "reminderDaysBefore": 3, "reminderHour": 17}},
        token=tenant.owner_token,
    )
    assert on["updatePortalSettings"]["portalSettings"] == {
        "sendAppointmentReminders": True,
        "reminderDaysBefore": 3,
        "reminderHour": 17,
    }
    assert await _remind(db, tenant, utc(2027, 8, 7, 16, 59)) == 0
    assert await _remind(db, tenant, utc(2027, 8, 7, 17)) == 1


async def test_other_organizations_appointments_are_left_alone(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    customer_id, _ = await make_customer(gql, other_tenant)
    await _appointment(gql, other_tenant, customer_id, utc(2027, 9, 2, 10))
    assert await _remind(db, tenant, utc(2027, 9, 1, 9)) == 0
    assert await _remind(db, other_tenant, utc(2027, 9, 1, 9)) == 1


def test_reminders_run_whether_or_not_stripe_is_configured() -> None:
    for env in ({}, {"STRIPE_SECRET_KEY": "sk_test_x"}):
        names = [name for name, _ in scheduled_jobs(settings_from_env(env))]
        assert "appointment reminders" in names and "event reminders" in names
