"""Monthly statements (domain/billing/monthly_statements.py), on both databases with a real
SMTP server and a settable clock.

Day by day in New York across two month ends and the March DST change (the statement day
is the day clocks change), at 00:05 and 23:55 local, against the months written out here:
the customer with activity, the one with only a balance, the one whose first invoice came
later, and the one with neither (recorded, never emailed). Each month once with three
runners at once, with two processes, and across a crash between customers; nothing for
another organization's customers; nothing with the setting off; the same email to the same
people as sendStatement (the bookkeeper yes, the driver no).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import domain.billing.monthly_statements as monthly
from core.errors import Forbidden
from core.ids import decode_id
from domain.billing.invoices import issue_invoice
from domain.billing.lines import LineInput, priced, replace_lines
from domain.billing.monthly_statements import send_monthly_statements, statement_month
from domain.collections.settings import CollectionOptions, update_collection_settings
from domain.payments.offline import record_payment
from domain.problems import Rejected
from models import Invoice, Organization
from models.db import Database
from models.enums import LineKind, PaymentMethod, StaffRole
from models.tables import audit_events, monthly_statements, outbox_emails
from tests.helpers import GraphQLClient, Tenant
from tests.portal import deliver, make_customer
from tests.smtp import SmtpServer
from tests.test_billing_domain import staff_job
from tests.test_preferences import Household, inbox

NEW_YORK = "America/New_York"
ROOT = Path(__file__).resolve().parent.parent
SUBJECT = "Your statement from"


async def _set_zone(db: Database, org_id: uuid.UUID, zone: str) -> None:
    async with db.write() as session:
        org = await session.get(Organization, org_id)
        assert org is not None
        org.timezone = zone


async def _owner(db: Database, tenant: Tenant) -> Any:
    job = await staff_job(db, tenant)
    job.viewer = dataclasses.replace(job.viewer, role=StaffRole.OWNER)
    return job


async def _turn_on(db: Database, tenant: Tenant, day: int = 1, on: bool = True) -> None:
    options = CollectionOptions(monthly_statements=on, statement_day=day)
    await update_collection_settings(await _owner(db, tenant), options)


async def _invoice(
    db: Database, org_id: uuid.UUID, customer_id: uuid.UUID, issued: date, amount: int = 10_000
) -> uuid.UUID:
    """An invoice sent by the one send path on `issued`."""
    async with db.write() as session:
        org = await session.get(Organization, org_id)
        assert org is not None
        invoice = Invoice(
            organization_id=org_id,
            customer_id=customer_id,
            currency="USD",
            issue_date=issued,
            due_date=issued + timedelta(days=14),
        )
        session.add(invoice)
        await session.flush()
        line = LineInput("Storage", amount, kind=LineKind.STORAGE)
        await replace_lines(session, invoice, priced([line], optional_allowed=False))
        await issue_invoice(session, db.settings, org, invoice, issued)
        return invoice.id


async def _customer(gql: GraphQLClient, tenant: Tenant, name: str) -> tuple[uuid.UUID, str]:
    gid, address = await make_customer(gql, tenant, name)
    return decode_id(gid)[1], address


async def _months(db: Database, org_id: uuid.UUID) -> set[tuple[uuid.UUID, date, bool]]:
    """Each customer's settled months: (customer, month, emailed)."""
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(
                monthly_statements.c.customer_id,
                monthly_statements.c.month,
                monthly_statements.c.recipients,
            ).where(monthly_statements.c.organization_id == org_id)
        )
        return {(c, m, n > 0) for c, m, n in found}


async def _statement_emails(db: Database, org_id: uuid.UUID) -> list[Any]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(outbox_emails.c.to_address, outbox_emails.c.body_text).where(
                outbox_emails.c.organization_id == org_id,
                outbox_emails.c.subject.like(f"{SUBJECT}%"),
            )
        )
        return list(found)


def _at(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_the_month_a_day_sends():
    assert statement_month(date(2026, 3, 7), 8) is None
    assert statement_month(date(2026, 3, 8), 8) == (date(2026, 2, 1), date(2026, 2, 28))
    assert statement_month(date(2026, 3, 31), 8) == (date(2026, 2, 1), date(2026, 2, 28))
    assert statement_month(date(2028, 3, 1), 1) == (date(2028, 2, 1), date(2028, 2, 29))
    assert statement_month(date(2027, 1, 28), 28) == (date(2026, 12, 1), date(2026, 12, 31))


async def test_day_by_day_in_new_york_across_month_ends_and_dst(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    org = tenant.organization_id
    await _set_zone(db, org, NEW_YORK)
    # Clocks in New York went forward on 8 March 2026: the statement day.
    await _turn_on(db, tenant, day=8)
    job = await staff_job(db, tenant)
    house = await Household(tenant).make(gql)
    active = decode_id(house.customer_id)[1]
    quiet, _ = await _customer(gql, tenant, "Quinn Quiet")
    later, later_email = await _customer(gql, tenant, "Lee Later")
    never, never_email = await _customer(gql, tenant, "Nell Never")
    # The active customer: billed 100.00 on 10 February, paid 40.00 on 28 February at
    # 22:00 in New York (1 March in UTC): both February's.
    bill = await _invoice(db, org, active, date(2026, 2, 10))
    late_evening = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    await record_payment(job, bill, 4_000, PaymentMethod.CASH, received_at=late_evening)
    # Quiet: billed and paid in January; nothing since, nothing owed.
    paid = await _invoice(db, org, quiet, date(2026, 1, 5))
    await record_payment(
        job, paid, 10_000, PaymentMethod.CASH, received_at=datetime(2026, 1, 20, 15, tzinfo=UTC)
    )
    # Later: first billed on 20 March.
    await _invoice(db, org, later, date(2026, 3, 20), amount=2_500)
    await deliver(db, smtp)
    smtp.handler._messages.clear()  # type: ignore[attr-defined]

    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)

    def expected(day: date) -> set[tuple[uuid.UUID, date, bool]]:
        # Turned on late in February: January's statement (the quiet customer's, billed
        # and paid then) still goes that month, on the first run.
        found = {(quiet, jan, True)}
        if day >= date(2026, 3, 8):
            found |= {(active, feb, True), (quiet, feb, False)}
        if day >= date(2026, 4, 8):
            found |= {(active, mar, True), (quiet, mar, False), (later, mar, True)}
        return found

    day = date(2026, 2, 25)
    while day <= date(2026, 4, 12):
        # Just after local midnight: today's statements, never tomorrow's (at 23:55 in New
        # York it is already tomorrow in UTC).
        await send_monthly_statements(db, _at(day, 0, 5, NEW_YORK), organization_id=org)
        assert await _months(db, org) == expected(day), day
        await send_monthly_statements(db, _at(day, 23, 55, NEW_YORK), organization_id=org)
        assert await _months(db, org) == expected(day), day
        day += timedelta(days=1)

    emails = await _statement_emails(db, org)
    february = [body for to, body in emails if to == house.customer_email and "2026-02-01" in body]
    assert len(february) == 1
    body = february[0]
    assert "for 2026-02-01 to 2026-02-28" in body
    assert "Opening balance: USD 0.00." in body
    assert "2026-02-10  Invoice" in body and "2026-02-28  Payment on invoice" in body
    assert "Closing balance: USD 60.00." in body
    march = [body for to, body in emails if to == house.customer_email and "2026-03-01" in body]
    assert len(march) == 1 and "Opening balance: USD 60.00." in march[0]
    assert "Closing balance: USD 60.00." in march[0]

    await deliver(db, smtp)
    got = inbox(smtp, *house.emails(), later_email, never_email)
    # sendStatement's people: the customer, the contact who wants invoices, the bookkeeper;
    # not the driver (cars only) nor the contact who wants no invoice emails.
    for who in ("customer", "wanted", "bookkeeper"):
        assert len(got[house.email(who)]) == 2, who
        assert all(s.startswith(SUBJECT) for s in got[house.email(who)])
    assert got[house.email("driver")] == [] and got[house.email("unwanted")] == []
    assert len(got[later_email]) == 1 and got[never_email] == []
    async with db.connect() as conn:
        audited = await conn.scalar(
            sa.select(sa.func.count()).where(
                audit_events.c.organization_id == org,
                audit_events.c.action == "customer.statement_sent",
            )
        )
    assert audited == 4  # the emailed ones only
    assert never not in {c for c, _, _ in await _months(db, org)}


async def test_three_runners_at_once_send_each_statement_once(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    await _turn_on(db, tenant, day=2)
    ids = []
    for i in range(5):
        customer, _ = await _customer(gql, tenant, f"Racer {i}")
        await _invoice(db, org, customer, date(2026, 10, 3 + i))
        ids.append(customer)
    other = Database(db.settings)
    try:
        runs = await asyncio.gather(
            send_monthly_statements(db, on=date(2026, 11, 2), organization_id=org),
            send_monthly_statements(db, on=date(2026, 11, 2), organization_id=org),
            send_monthly_statements(other, on=date(2026, 11, 2), organization_id=org),
        )
    finally:
        await other.dispose()
    assert await _months(db, org) == {(c, date(2026, 10, 1), True) for c in ids}
    assert sum(len(run.sent) for run in runs) == 5
    assert sum(run.failed for run in runs) == 0
    assert len(await _statement_emails(db, org)) == 5
    # Run again on a later day of the month: nothing more.
    again = await send_monthly_statements(db, on=date(2026, 11, 30), organization_id=org)
    assert again.sent == [] and len(await _statement_emails(db, org)) == 5


RUNNER = """
import asyncio, sys, uuid
from datetime import date
from core.settings import settings_from_env
from domain.billing.monthly_statements import send_monthly_statements
from models.db import Database

async def main():
    db = Database(settings_from_env({"DATABASE_URL": sys.argv[1]}))
    try:
        on, org = date.fromisoformat(sys.argv[2]), uuid.UUID(sys.argv[3])
        run = await send_monthly_statements(db, on=on, organization_id=org)
    finally:
        await db.dispose()
    print(len(run.sent), run.failed)

asyncio.run(main())
"""


async def test_two_processes_send_each_statement_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, dialect: str
):
    if dialect != "postgresql":
        pytest.skip("processes racing on one SQLite file are covered by the engines above")
    org = tenant.organization_id
    await _turn_on(db, tenant, day=1)
    for i in range(6):
        customer, _ = await _customer(gql, tenant, f"Proc {i}")
        await _invoice(db, org, customer, date(2026, 9, 10))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [db.settings.database_url, "2026-10-01", str(org)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUNNER,
            *args,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await proc.communicate() for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    counts = [[int(n) for n in out.split()] for out, _ in outputs]
    assert sum(c[0] for c in counts) == 6 and all(c[1] == 0 for c in counts)
    assert len(await _months(db, org)) == 6
    assert len(await _statement_emails(db, org)) == 6


@pytest.mark.logs_errors  # the crash on purpose is an unexpected error, logged so
async def test_a_crash_between_customers_sends_each_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    org = tenant.organization_id
    await _turn_on(db, tenant, day=5)
    first, _ = await _customer(gql, tenant, "Ada First")
    second, _ = await _customer(gql, tenant, "Bea Second")
    await _invoice(db, org, first, date(2026, 8, 3))
    await _invoice(db, org, second, date(2026, 8, 4))
    real = monthly.queue_statement
    calls = 0

    async def crashing_second(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process died while queuing the statement")
        await real(*args, **kwargs)

    monkeypatch.setattr(monthly, "queue_statement", crashing_second)
    crashed = await send_monthly_statements(db, on=date(2026, 9, 5), organization_id=org)
    assert crashed.failed == 1 and len(crashed.sent) == 1
    assert await _months(db, org) == {(first, date(2026, 8, 1), True)}
    assert len(await _statement_emails(db, org)) == 1
    monkeypatch.setattr(monthly, "queue_statement", real)
    # Started again: the second customer's month, once; the first is not sent again.
    again = await send_monthly_statements(db, on=date(2026, 9, 5), organization_id=org)
    assert [d.customer_id for d in again.sent] == [second]
    assert await send_monthly_statements(db, on=date(2026, 9, 6), organization_id=org) == (
        monthly.StatementRun()
    )
    assert len(await _statement_emails(db, org)) == 2


async def test_nothing_for_another_organization_nor_with_the_setting_off(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    mine, _ = await _customer(gql, tenant, "Mine")
    theirs, _ = await _customer(gql, other_tenant, "Theirs")
    await _invoice(db, tenant.organization_id, mine, date(2026, 6, 10))
    await _invoice(db, other_tenant.organization_id, theirs, date(2026, 6, 10))
    # Off (the default) everywhere: nothing.
    await send_monthly_statements(db, on=date(2026, 7, 15))
    assert await _months(db, tenant.organization_id) == set()
    assert await _months(db, other_tenant.organization_id) == set()
    # On for mine only: a run of every organization sends mine, never theirs.
    await _turn_on(db, tenant, day=1)
    await send_monthly_statements(db, on=date(2026, 7, 15))
    assert await _months(db, tenant.organization_id) == {(mine, date(2026, 6, 1), True)}
    assert await _months(db, other_tenant.organization_id) == set()
    assert await _statement_emails(db, other_tenant.organization_id) == []
    # Named, the other organization (off) gets nothing either.
    named = await send_monthly_statements(
        db, on=date(2026, 7, 15), organization_id=other_tenant.organization_id
    )
    assert named == monthly.StatementRun()
    # Turned off again: next month nothing.
    await _turn_on(db, tenant, day=1, on=False)
    await send_monthly_statements(db, on=date(2026, 8, 15))
    assert await _months(db, tenant.organization_id) == {(mine, date(2026, 6, 1), True)}


async def test_a_dry_run_writes_nothing(gql: GraphQLClient, db: Database, tenant: Tenant):
    org = tenant.organization_id
    await _turn_on(db, tenant, day=3)
    customer, _ = await _customer(gql, tenant, "Dry Statement Customer")
    await _invoice(db, org, customer, date(2026, 5, 20))
    run = await send_monthly_statements(db, on=date(2026, 6, 3), organization_id=org, dry_run=True)
    assert [d.customer_id for d in run.sent] == [customer]
    assert await _months(db, org) == set()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db.settings.database_url,
        "PORTICO_ENV": "development",
    }
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/portico"),
        *("send-statements", "--dry-run", "--date", "2026-06-03"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    printed = [line for line in out.decode().splitlines() if "Dry Statement Customer" in line]
    assert printed and all(
        line.startswith("would look at") and "statement of 2026-05" in line for line in printed
    )
    assert "nothing was written" in out.decode()
    assert await _months(db, org) == set() and await _statement_emails(db, org) == []


async def test_bad_statement_settings_are_refused_and_change_nothing(db: Database, tenant: Tenant):
    for day in (0, 29, 31, -1):
        with pytest.raises(Rejected) as refused:
            await _turn_on(db, tenant, day=day)
        assert [(p.field, p.code) for p in refused.value.problems] == [
            ("statementDay", "BAD_STATEMENT_DAY")
        ]
    with pytest.raises(Forbidden):
        await update_collection_settings(
            await staff_job(db, tenant), CollectionOptions(monthly_statements=True)
        )
    async with db.connect() as conn:
        rows = await conn.scalar(
            sa.select(sa.func.count()).where(
                audit_events.c.organization_id == tenant.organization_id,
                audit_events.c.action == "settings.collections_updated",
            )
        )
    assert rows == 0
    await _turn_on(db, tenant, day=28)
    async with db.connect() as conn:
        data = await conn.scalar(
            sa.select(audit_events.c.data).where(
                audit_events.c.organization_id == tenant.organization_id,
                audit_events.c.action == "settings.collections_updated",
            )
        )
    assert data["changed"] == {
        "monthly_statements": ["False", "True"],
        "statement_day": ["1", "28"],
    }
