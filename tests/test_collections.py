"""Collections (domain/collections/), on both databases with a real SMTP server.

Reminders day by day in New York (across a month end and the March DST change, at 00:05
and 23:55 local) against the schedule written out here; each step once with three
collectors at once and across a crash; the catch-up rule after downtime; paid and void
invoices, paused customers and other organizations left alone; preferences obeyed (the
bookkeeper yes, the driver no). Late fees against a plain-Decimal model (hypothesis), once
per invoice or per period, on their own invoice or the next one, never compounding unless
set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

import domain.billing_mail
from auth.pay_links import read_pay_link
from core.errors import Forbidden, NotFound
from core.ids import decode_id
from domain.billing.invoices import issue_invoice
from domain.billing.lines import LineInput, priced, replace_lines
from domain.collections import rules
from domain.collections.collect import collect
from domain.collections.pause import set_collection_paused
from domain.collections.settings import CollectionOptions, update_collection_settings
from domain.problems import Rejected
from models import Invoice, Organization
from models.db import Database
from models.enums import InvoiceStatus, LateFeeKind, LateFeeTarget, LineKind, StaffRole
from models.tables import (
    audit_events,
    invoice_lines,
    invoice_reminders,
    invoices,
    late_fees,
    outbox_emails,
)
from tests.helpers import GraphQLClient, Tenant
from tests.portal import deliver, make_customer
from tests.smtp import SmtpServer
from tests.test_billing_domain import staff_job
from tests.test_preferences import Household, inbox

NEW_YORK = "America/New_York"
ROOT = Path(__file__).resolve().parent.parent


# Fixtures of rows.


async def _set_zone(db: Database, org_id: uuid.UUID, zone: str) -> None:
    async with db.write() as session:
        org = await session.get(Organization, org_id)
        assert org is not None
        org.timezone = zone


async def _owner(db: Database, tenant: Tenant) -> Any:
    job = await staff_job(db, tenant)
    job.viewer = dataclasses.replace(job.viewer, role=StaffRole.OWNER)
    return job


async def _configure(db: Database, tenant: Tenant, **options: Any) -> None:
    await update_collection_settings(await _owner(db, tenant), CollectionOptions(**options))


async def _invoice(
    db: Database, org_id: uuid.UUID, customer_id: uuid.UUID, due: date, amount: int = 10_000
) -> uuid.UUID:
    """An invoice sent by the one send path, issued a week before `due` and due on it."""
    async with db.write() as session:
        org = await session.get(Organization, org_id)
        assert org is not None
        invoice = Invoice(
            organization_id=org_id,
            customer_id=customer_id,
            currency="USD",
            issue_date=due - timedelta(days=30),
            due_date=due,
        )
        session.add(invoice)
        await session.flush()
        line = LineInput("Storage", amount, kind=LineKind.STORAGE)
        await replace_lines(session, invoice, priced([line], optional_allowed=False))
        await issue_invoice(session, db.settings, org, invoice, due - timedelta(days=30))
        return invoice.id


async def _customer(gql: GraphQLClient, tenant: Tenant, name: str = "Casey") -> uuid.UUID:
    gid, _ = await make_customer(gql, tenant, name)
    return decode_id(gid)[1]


async def _steps(db: Database, invoice_id: uuid.UUID) -> list[int]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(invoice_reminders.c.step)
            .where(invoice_reminders.c.invoice_id == invoice_id)
            .order_by(invoice_reminders.c.sent_at, invoice_reminders.c.step)
        )
        return list(found.scalars())


async def _fees(db: Database, invoice_id: uuid.UUID) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(late_fees)
            .where(late_fees.c.invoice_id == invoice_id)
            .order_by(late_fees.c.period)
        )
        return [dict(row) for row in found.mappings()]


async def _set(db: Database, invoice_id: uuid.UUID, **values: Any) -> None:
    async with db.write() as session:
        await session.execute(sa.update(invoices).where(invoices.c.id == invoice_id).values(values))


def _at(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)


# Reminders.


async def test_reminders_day_by_day_in_new_york_across_month_end_and_dst(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    org = tenant.organization_id
    await _set_zone(db, org, NEW_YORK)
    house = await Household(tenant).make(gql)
    customer = decode_id(house.customer_id)[1]
    # Due 26 February (steps 23 Feb, 26 Feb, 5 Mar over the month end, 12 Mar) and 10 March
    # (7 Mar, 10 Mar, 17 Mar after the DST change of 14 Mar, 24 Mar).
    dues = [date(2027, 2, 26), date(2027, 3, 10)]
    ids = [await _invoice(db, org, customer, due) for due in dues]
    await deliver(db, smtp)
    smtp.handler._messages.clear()  # type: ignore[attr-defined]

    def expected(day: date) -> list[list[int]]:
        return [[s for s in (-3, 0, 7, 14) if due + timedelta(days=s) <= day] for due in dues]

    day = date(2027, 2, 15)
    while day <= date(2027, 3, 31):
        # Just after local midnight: today's step, never tomorrow's (at 23:55 in New York
        # it is already tomorrow in UTC).
        await collect(db, _at(day, 0, 5, NEW_YORK), organization_id=org)
        assert [await _steps(db, i) for i in ids] == expected(day), day
        await collect(db, _at(day, 23, 55, NEW_YORK), organization_id=org)
        assert [await _steps(db, i) for i in ids] == expected(day), day
        day += timedelta(days=1)

    async with db.connect() as conn:
        dates = (
            await conn.execute(
                sa.select(invoice_reminders.c.step_date)
                .where(invoice_reminders.c.invoice_id == ids[0])
                .order_by(invoice_reminders.c.step)
            )
        ).scalars()
        assert list(dates) == [
            date(2027, 2, 23),
            date(2027, 2, 26),
            date(2027, 3, 5),
            date(2027, 3, 12),
        ]
    await deliver(db, smtp)
    got = inbox(smtp, *house.emails())
    # 8 reminders each to the customer, the contact who wants invoices and the bookkeeper;
    # none to the driver (cars only) nor to the contact who wants no invoice emails.
    for who in ("customer", "wanted", "bookkeeper"):
        subjects = got[house.email(who)]
        assert len(subjects) == 8, who
        assert all(s.startswith("Reminder: invoice #") for s in subjects)
    assert got[house.email("driver")] == [] and got[house.email("unwanted")] == []
    subjects = got[house.email("customer")]
    assert any("is due in 3 days" in s for s in subjects)
    assert any("is due today" in s for s in subjects)
    assert any("is 14 days overdue" in s for s in subjects)


async def test_three_collectors_at_once_send_each_reminder_once(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    ids = [
        await _invoice(db, org, await _customer(gql, tenant, f"C{i}"), date(2027, 5, 10))
        for i in range(5)
    ]
    other = Database(db.settings)
    try:
        runs = await asyncio.gather(
            collect(db, on=date(2027, 5, 10), organization_id=org),
            collect(db, on=date(2027, 5, 10), organization_id=org),
            collect(other, on=date(2027, 5, 10), organization_id=org),
        )
    finally:
        await other.dispose()
    assert [await _steps(db, i) for i in ids] == [[0]] * 5
    assert sum(len(run.reminded) for run in runs) == 5
    assert sum(run.failed for run in runs) == 0
    async with db.connect() as conn:
        emails = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM outbox_emails WHERE organization_id = :org "
                "AND subject LIKE 'Reminder:%'"
            ),
            {"org": org.hex if db.settings.database_url.startswith("sqlite") else org},
        )
    assert emails == 5


COLLECTOR = """
import asyncio, sys, uuid
from datetime import date
from core.settings import settings_from_env
from domain.collections.collect import collect
from models.db import Database

async def main():
    db = Database(settings_from_env({"DATABASE_URL": sys.argv[1]}))
    try:
        on, org = date.fromisoformat(sys.argv[2]), uuid.UUID(sys.argv[3])
        run = await collect(db, on=on, organization_id=org)
    finally:
        await db.dispose()
    print(len(run.reminded), len(run.charged), run.failed)

asyncio.run(main())
"""


async def test_two_collector_processes_send_each_reminder_and_fee_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, dialect: str
):
    if dialect != "postgresql":
        pytest.skip("processes racing on one SQLite file are covered by the engines above")
    org = tenant.organization_id
    await _configure(
        db, tenant, late_fee_kind=LateFeeKind.FIXED, late_fee_amount=900, late_fee_after_days=7
    )
    ids = [
        await _invoice(db, org, await _customer(gql, tenant, f"P{i}"), date(2027, 5, 10))
        for i in range(6)
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [db.settings.database_url, "2027-05-17", str(org)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            COLLECTOR,
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
    assert sum(c[0] for c in counts) == 6 and sum(c[1] for c in counts) == 6
    assert all(c[2] == 0 for c in counts)
    assert [await _steps(db, i) for i in ids] == [[7]] * 6
    assert [len(await _fees(db, i)) for i in ids] == [1] * 6


@pytest.mark.logs_errors  # the crash on purpose is an unexpected error, logged so
async def test_a_crash_leaves_nothing_and_a_queued_reminder_is_not_queued_again(
    gql: GraphQLClient,
    db: Database,
    tenant: Tenant,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
):
    org = tenant.organization_id
    gid, address = await make_customer(gql, tenant, "Crash")
    invoice = await _invoice(db, org, decode_id(gid)[1], date(2027, 5, 10))
    real = domain.billing_mail.enqueue_to

    async def crashing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died while queuing the reminder")

    monkeypatch.setattr(domain.billing_mail, "enqueue_to", crashing)
    crashed = await collect(db, on=date(2027, 5, 10), organization_id=org)
    assert crashed.failed == 1 and await _steps(db, invoice) == []
    monkeypatch.setattr(domain.billing_mail, "enqueue_to", real)
    # Queued, then the process stops before the outbox is delivered; started again, it
    # does not queue it a second time; the outbox delivers the one email.
    assert len((await collect(db, on=date(2027, 5, 10), organization_id=org)).reminded) == 1
    assert (await collect(db, on=date(2027, 5, 10), organization_id=org)).reminded == []
    await deliver(db, smtp)
    reminders = [s for s in inbox(smtp, address)[address] if s.startswith("Reminder")]
    assert len(reminders) == 1 and await _steps(db, invoice) == [0]


async def test_catch_up_after_downtime_sends_only_the_latest_step(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    invoice = await _invoice(db, org, await _customer(gql, tenant), date(2027, 5, 10))
    # Down from before the first step until ten days overdue: only the +7 reminder goes.
    run = await collect(db, on=date(2027, 5, 20), organization_id=org)
    assert [c.step for c in run.reminded] == [7] and await _steps(db, invoice) == [7]
    async with db.connect() as conn:
        subjects = (
            await conn.execute(
                sa.select(outbox_emails.c.subject).where(
                    outbox_emails.c.organization_id == org,
                    outbox_emails.c.subject.like("Reminder:%"),
                )
            )
        ).scalars()
        assert [s.rsplit(" is ", 1)[1] for s in subjects] == ["10 days overdue"]  # as it is
    # The missed -3 and 0 are never sent; +14 comes on its day.
    assert (await collect(db, on=date(2027, 5, 23), organization_id=org)).reminded == []
    await collect(db, on=date(2027, 5, 24), organization_id=org)
    assert await _steps(db, invoice) == [7, 14]
    assert (await collect(db, on=date(2027, 8, 1), organization_id=org)).reminded == []


async def test_paid_void_and_paused_are_skipped_and_resume_catches_up(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    customer = await _customer(gql, tenant)
    paid = await _invoice(db, org, customer, date(2027, 5, 10))
    void = await _invoice(db, org, customer, date(2027, 5, 10))
    part = await _invoice(db, org, customer, date(2027, 5, 10))
    await _set(db, paid, amount_paid=10_000, status=InvoiceStatus.PAID)
    await _set(db, void, status=InvoiceStatus.VOID)
    await _set(db, part, amount_paid=4_000, status=InvoiceStatus.PARTIALLY_PAID)
    paused_customer = await _customer(gql, tenant, "Paused")
    paused = await _invoice(db, org, paused_customer, date(2027, 5, 10))
    await _configure(
        db, tenant, late_fee_kind=LateFeeKind.FIXED, late_fee_amount=500, late_fee_after_days=1
    )
    job = await staff_job(db, tenant)
    await set_collection_paused(job, paused_customer, True, "payment plan agreed")
    with pytest.raises(Rejected):
        await set_collection_paused(job, paused_customer, True)

    run = await collect(db, on=date(2027, 5, 10), organization_id=org)
    assert {c.invoice_id for c in run.reminded} == {part}
    assert [c.amount_due for c in run.reminded] == [6_000]
    run = await collect(db, on=date(2027, 5, 12), organization_id=org)
    assert [(c.invoice_id, c.fee) for c in run.charged] == [(part, 500)]
    for skipped in (paid, void, paused):
        assert await _steps(db, skipped) == [] and await _fees(db, skipped) == []
    # Resumed: today's step and fee period only, not the ones missed while paused.
    await set_collection_paused(job, paused_customer, False)
    run = await collect(db, on=date(2027, 5, 18), organization_id=org)
    assert [(c.invoice_id, c.step) for c in run.reminded] == [(part, 7), (paused, 7)]
    assert [c.invoice_id for c in run.charged] == [paused]
    assert await _steps(db, paused) == [7]
    async with db.connect() as conn:
        actions = (
            await conn.execute(
                sa.select(audit_events.c.action).where(
                    audit_events.c.organization_id == org,
                    audit_events.c.action.like("customer.collection_%"),
                )
            )
        ).scalars()
        assert sorted(actions) == ["customer.collection_paused", "customer.collection_resumed"]


async def test_one_organizations_run_never_touches_another(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    mine = await _invoice(
        db, tenant.organization_id, await _customer(gql, tenant), date(2027, 5, 10)
    )
    theirs_customer = await _customer(gql, other_tenant)
    theirs = await _invoice(db, other_tenant.organization_id, theirs_customer, date(2027, 5, 10))
    await collect(db, on=date(2027, 5, 10), organization_id=tenant.organization_id)
    assert await _steps(db, mine) == [0] and await _steps(db, theirs) == []
    # Pausing is of one's own customers only.
    with pytest.raises(NotFound):
        await set_collection_paused(await staff_job(db, tenant), theirs_customer, True)


async def test_a_dry_run_writes_nothing(gql: GraphQLClient, db: Database, tenant: Tenant):
    org = tenant.organization_id
    invoice = await _invoice(
        db, org, await _customer(gql, tenant, "Dry Run Debtor"), date(2027, 5, 10)
    )
    await _configure(
        db, tenant, late_fee_kind=LateFeeKind.PERCENT, late_fee_bp=150, late_fee_after_days=5
    )
    run = await collect(db, on=date(2027, 5, 20), organization_id=org, dry_run=True)
    assert [c.step for c in run.reminded] == [7]
    assert [c.fee for c in run.charged] == [150]
    assert await _steps(db, invoice) == [] and await _fees(db, invoice) == []
    # The command prints the same and writes nothing either.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db.settings.database_url,
        "PORTICO_ENV": "development",
    }
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/portico"),
        *("collect", "--dry-run", "--date", "2027-05-20"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    printed = [line for line in out.decode().splitlines() if "Dry Run Debtor" in line]
    assert len(printed) == 2 and all(line.startswith("would do") for line in printed)
    assert any("reminder at step +7 (2027-05-17)" in line for line in printed)
    assert any("late fee USD 1.50 (period 1)" in line for line in printed)
    assert "nothing was written" in out.decode()
    assert await _steps(db, invoice) == [] and await _fees(db, invoice) == []


# Late fees.


async def test_a_fixed_fee_once_on_its_own_invoice_never_compounding(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    await _configure(
        db,
        tenant,
        late_fee_kind=LateFeeKind.FIXED,
        late_fee_amount=2_500,
        late_fee_after_days=10,
        reminders_enabled=False,
    )
    invoice = await _invoice(db, org, await _customer(gql, tenant), date(2027, 5, 10))
    assert (await collect(db, on=date(2027, 5, 19), organization_id=org)).charged == []
    for day in range(20, 32):
        await collect(db, on=date(2027, 5, day), organization_id=org)
    fees = await _fees(db, invoice)
    assert [(f["period"], f["amount"], f["charged_on"]) for f in fees] == [
        (1, 2_500, date(2027, 5, 20))
    ]
    async with db.connect() as conn:
        own = (
            (
                await conn.execute(
                    sa.select(invoices).where(invoices.c.id == fees[0]["fee_invoice_id"])
                )
            )
            .mappings()
            .one()
        )
        line = (
            (
                await conn.execute(
                    sa.select(invoice_lines).where(invoice_lines.c.id == fees[0]["fee_line_id"])
                )
            )
            .mappings()
            .one()
        )
    assert own["status"] == InvoiceStatus.OPEN and own["total"] == 2_500 and own["number"]
    assert line["kind"] == LineKind.FEE and line["invoice_id"] == own["id"]
    # The fee's own invoice, overdue in turn, attracts no fee of its own.
    await collect(db, on=date(2027, 9, 1), organization_id=org)
    assert await _fees(db, own["id"]) == [] and len(await _fees(db, invoice)) == 1


async def test_a_percentage_fee_per_period_on_the_next_invoice(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    await _configure(
        db,
        tenant,
        late_fee_kind=LateFeeKind.PERCENT,
        late_fee_bp=155,
        late_fee_after_days=5,
        late_fee_every_days=30,
        late_fee_target=LateFeeTarget.NEXT_INVOICE,
        reminders_enabled=False,
    )
    customer = await _customer(gql, tenant)
    invoice = await _invoice(db, org, customer, date(2027, 5, 10), amount=33_333)
    await collect(db, on=date(2027, 5, 15), organization_id=org)  # period 1
    await collect(db, on=date(2027, 6, 13), organization_id=org)  # still period 1
    await collect(db, on=date(2027, 6, 14), organization_id=org)  # period 2
    fees = await _fees(db, invoice)
    # 1.55 % of 333.33 = 5.166615 -> 517 each time: the base is the invoice's own due.
    assert [(f["period"], f["amount"], f["base"]) for f in fees] == [
        (1, 517, 33_333),
        (2, 517, 33_333),
    ]
    assert all(f["fee_invoice_id"] is None for f in fees)  # waiting for the next invoice
    nxt = await _invoice(db, org, customer, date(2027, 7, 30), amount=10_000)
    fees = await _fees(db, invoice)
    assert {f["fee_invoice_id"] for f in fees} == {nxt}
    async with db.connect() as conn:
        total = await conn.scalar(sa.select(invoices.c.total).where(invoices.c.id == nxt))
        kinds = (
            await conn.execute(
                sa.select(invoice_lines.c.kind, invoice_lines.c.total)
                .where(invoice_lines.c.invoice_id == nxt)
                .order_by(invoice_lines.c.position)
            )
        ).all()
    assert total == 10_000 + 2 * 517
    assert [(k, t) for k, t in kinds] == [
        (LineKind.STORAGE, 10_000),
        (LineKind.FEE, 517),
        (LineKind.FEE, 517),
    ]
    # The next invoice, overdue in turn, is charged on its own amount only (not compounding).
    await collect(db, on=date(2027, 8, 4), organization_id=org)
    assert [f["base"] for f in await _fees(db, nxt)] == [10_000]


async def test_a_compounding_fee_counts_earlier_fees(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    await _configure(
        db,
        tenant,
        late_fee_kind=LateFeeKind.PERCENT,
        late_fee_bp=1_000,
        late_fee_after_days=1,
        late_fee_every_days=10,
        late_fee_compounds=True,
        reminders_enabled=False,
    )
    invoice = await _invoice(db, org, await _customer(gql, tenant), date(2027, 5, 10))
    for day in (11, 21, 31):
        await collect(db, on=date(2027, 5, day), organization_id=org)
    fees = await _fees(db, invoice)
    assert [(f["base"], f["amount"]) for f in fees] == [
        (10_000, 1_000),
        (11_000, 1_100),
        (12_100, 1_210),
    ]


async def test_bad_settings_are_refused_and_change_nothing(db: Database, tenant: Tenant):
    bad = [
        {"reminder_offsets": [0, 0]},
        {"reminder_offsets": [400]},
        {"reminder_offsets": list(range(11))},
        {"late_fee_amount": -1},
        {"late_fee_bp": 10_001},
        {"late_fee_after_days": 0},
        {"late_fee_every_days": 0},
        {"late_fee_kind": LateFeeKind.FIXED},  # no amount
        {"late_fee_kind": LateFeeKind.PERCENT, "late_fee_amount": 100},  # no percentage
    ]
    for options in bad:
        with pytest.raises(Rejected):
            await _configure(db, tenant, **options)
    async with db.connect() as conn:
        rows = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(audit_events)
            .where(
                audit_events.c.organization_id == tenant.organization_id,
                audit_events.c.action == "settings.collections_updated",
            )
        )
    assert rows == 0
    # Plain staff may not change them.
    with pytest.raises(Forbidden):
        await update_collection_settings(
            await staff_job(db, tenant), CollectionOptions(reminders_enabled=False)
        )


# The rules against a plain-Decimal model.


def _model_fee(kind: LateFeeKind, fixed: int, bp: int, base: int) -> int:
    if base <= 0 or kind is LateFeeKind.NONE:
        return 0
    if kind is LateFeeKind.FIXED:
        return fixed
    exact = Decimal(base) * Decimal(bp) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # half away from zero (>= 0)


def _model_period(after: int, every: int | None, overdue_days: int) -> int | None:
    if overdue_days < after:
        return None
    n = 1
    if every is not None:
        while after + n * every <= overdue_days:
            n += 1
    return n


@given(
    kind=st.sampled_from(list(LateFeeKind)),
    fixed=st.integers(0, 10**9),
    bp=st.integers(0, 10_000),
    amount_due=st.integers(0, 2**31 - 1),
    fee_lines=st.integers(0, 10**8),
    earlier=st.integers(0, 10**8),
    compounds=st.booleans(),
    after=st.integers(1, 365),
    every=st.none() | st.integers(1, 365),
    overdue_days=st.integers(-400, 2_000),
)
def test_the_late_fee_rule_matches_a_decimal_model(
    kind, fixed, bp, amount_due, fee_lines, earlier, compounds, after, every, overdue_days
):
    rule = rules.FeeRule(kind, fixed, bp, after, every, compounds)
    due = date(2028, 2, 29)
    today = due + timedelta(days=overdue_days)
    expected_period = (
        _model_period(after, every, overdue_days) if kind is not LateFeeKind.NONE else None
    )
    assert rules.fee_period(rule, due, today) == expected_period
    base = rules.fee_base(amount_due, fee_lines, earlier, compounds)
    assert base == max(0, amount_due + earlier if compounds else amount_due - fee_lines)
    assert rules.fee_amount(rule, base) == _model_fee(kind, fixed, bp, base)


@given(
    offsets=st.lists(st.integers(-30, 30), min_size=0, max_size=6, unique=True),
    sent=st.sets(st.integers(-30, 30), max_size=3),
    days=st.integers(-40, 40),
)
def test_the_catch_up_rule(offsets, sent, days):
    due = date(2027, 3, 14)
    today = due + timedelta(days=days)
    step = rules.due_step(sorted(offsets), due, today, sent)
    reached = [s for s in offsets if s <= days]
    if not reached or any(s >= max(reached) for s in sent):
        assert step is None
    else:
        assert step == max(reached)


async def test_a_reminder_carries_the_pay_link_where_card_payments_are_on(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    org = tenant.organization_id
    gid, address = await make_customer(gql, tenant, "Payer")
    first = await _invoice(db, org, decode_id(gid)[1], date(2027, 5, 10))
    await collect(db, on=date(2027, 5, 7), organization_id=org)  # step -3, payments off
    async with db.write() as session:
        row = await session.get(Organization, org)
        assert row is not None
        row.stripe_account_id, row.stripe_charges_enabled = "acct_collections", True
    await collect(db, on=date(2027, 5, 10), organization_id=org)  # step 0, payments on
    await deliver(db, smtp)
    bodies = {}
    for message in smtp.messages:
        if str(message["To"]).lower() == address and "Reminder" in str(message["Subject"]):
            body = message.get_body(preferencelist=("plain",))
            bodies[str(message["Subject"])] = body.get_content() if body else ""
    assert len(bodies) == 2
    before = next(b for s, b in bodies.items() if "due in 3 days" in s)
    today = next(b for s, b in bodies.items() if "due today" in s)
    assert "/pay/" not in before
    token = re.search(r"/pay/([A-Za-z0-9_\-.]+)", today)
    assert token is not None
    grant = read_pay_link(db.settings, token.group(1))
    assert grant is not None and grant.invoice_id == first and grant.organization_id == org
