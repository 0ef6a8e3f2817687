"""The recurring billing scheduler (domain/subscriptions/billing.py), on both databases.

Invoices issued day by day over fourteen months in New York (across a leap February and two
DST changes) against a model written here in plain Decimal arithmetic; exactly one invoice
per period with two schedulers at once (tasks, engines, processes), across a crash inside
the send, and after weeks down; one organization's run never touching another's; a dry
run writing nothing.
"""

from __future__ import annotations

import asyncio
import calendar
import os
import sys
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import domain.billing_mail
from core.ids import decode_id
from core.settings import settings_from_env
from domain.subscriptions.billing import bill_due
from domain.subscriptions.subscriptions import pause_subscription, resume_subscription
from models import BillingPlan, BillingSubscription, Organization, PortalSettings
from models.clock import Clock
from models.db import Database
from models.enums import BillingTiming, InvoiceStatus, MailKind
from models.tables import (
    audit_events,
    counters,
    invoice_lines,
    invoices,
    outbox_emails,
    subscription_periods,
)
from portico.background import scheduled_jobs
from tests.helpers import GraphQLClient, Tenant
from tests.portal import make_customer
from tests.test_billing_domain import staff_job

ROOT = Path(__file__).resolve().parent.parent
ADVANCE, ARREARS = BillingTiming.IN_ADVANCE, BillingTiming.IN_ARREARS


# The model: periods, amounts and bill dates as the README states them, in plain Python.


def _anchor(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_plus(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # half away from zero (>= 0)


@dataclass
class Spec:
    """One subscription of the model."""

    price: int
    quantity: int
    tax_bp: int
    months: int
    timing: BillingTiming
    start: date
    anchor: int
    end: date | None = None
    pause: tuple[datetime, datetime] | None = None  # local instants: paused, resumed

    def periods(self) -> list[tuple[date, date, date, date]]:
        """(start, end, full start, full end) of every period, until 2030."""
        k = -1
        found = []
        while True:
            full_start = _anchor(*_month_plus(self.start, k * self.months), self.anchor)
            full_end = _anchor(*_month_plus(self.start, (k + 1) * self.months), self.anchor)
            k += 1
            if full_end <= self.start:
                continue
            start, end = max(full_start, self.start), full_end
            if self.end is not None:
                end = min(end, self.end)
            if end <= start or start.year >= 2030:
                return found
            found.append((start, end, full_start, full_end))

    def expected(self) -> list[tuple[date, date, date, int]]:
        """(start, end, bill date, total) of every period billed."""
        billed = []
        for start, end, full_start, full_end in self.periods():
            bill = start if self.timing is ADVANCE else end
            if self.pause and self.pause[0].date() <= bill < self.pause[1].date():
                continue
            used, days = (end - start).days, (full_end - full_start).days
            if used == days:
                subtotal = self.price * self.quantity
            else:
                subtotal = _round(Decimal(self.price * self.quantity * used) / Decimal(days))
            tax = _round(Decimal(subtotal * self.tax_bp) / Decimal(10_000))
            billed.append((start, end, bill, subtotal + tax))
        return billed


# Fixtures of rows.


async def _set_zone(db: Database, org_id: uuid.UUID, zone: str) -> None:
    async with db.write() as session:
        org = await session.get(Organization, org_id)
        assert org is not None
        org.timezone = zone


async def _customer(gql: GraphQLClient, tenant: Tenant, name: str) -> uuid.UUID:
    gid, _ = await make_customer(gql, tenant, name)
    return decode_id(gid)[1]


async def _subscribe(
    db: Database, org_id: uuid.UUID, customer_id: uuid.UUID, spec: Spec, **own: Any
) -> uuid.UUID:
    async with db.write() as session:
        plan = BillingPlan(
            organization_id=org_id,
            name=f"Plan {spec.months}m {spec.timing.value}",
            amount=spec.price,
            currency="USD",
            tax_rate_bp=spec.tax_bp,
            interval_months=spec.months,
            timing=spec.timing,
        )
        session.add(plan)
        await session.flush()
        sub = BillingSubscription(
            organization_id=org_id,
            customer_id=customer_id,
            plan_id=plan.id,
            quantity=spec.quantity,
            currency="USD",
            start_date=spec.start,
            end_date=spec.end,
            anchor_day=spec.anchor,
            payment_terms_days=7,
            **own,
        )
        session.add(sub)
        await session.flush()
        return sub.id


async def _issued(db: Database, org_id: uuid.UUID) -> list[dict[str, Any]]:
    """The organization's settled periods with their invoices, in number order."""
    stmt = (
        sa.select(
            subscription_periods.c.subscription_id,
            subscription_periods.c.period_start,
            subscription_periods.c.period_end,
            invoices.c.id.label("invoice_id"),
            invoices.c.number,
            invoices.c.total,
            invoices.c.customer_id,
            invoices.c.organization_id,
            invoices.c.issue_date,
            invoices.c.due_date,
            invoices.c.status,
        )
        .join(invoices, invoices.c.id == subscription_periods.c.invoice_id)
        .where(subscription_periods.c.organization_id == org_id)
        .order_by(invoices.c.number)
    )
    async with db.connect() as conn:
        return [dict(row) for row in (await conn.execute(stmt)).mappings()]


async def _invoiced(db: Database, org_id: uuid.UUID) -> int:
    """How many periods of the organization have an invoice."""
    async with db.connect() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count()).where(
                subscription_periods.c.organization_id == org_id,
                subscription_periods.c.invoice_id.is_not(None),
            )
        )
    return int(found or 0)


async def _count(db: Database, table: sa.Table, org_id: uuid.UUID) -> int:
    async with db.connect() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.organization_id == org_id)
        )
    return int(found or 0)


async def _footprint(db: Database, org_id: uuid.UUID) -> dict[str, Any]:
    """Everything a run may write for an organization."""
    async with db.connect() as conn:
        counter = await conn.scalar(
            sa.select(counters.c.last_value).where(counters.c.organization_id == org_id)
        )
    return {
        "counter": counter,
        **{
            table.name: await _count(db, table, org_id)
            for table in (
                invoices,
                invoice_lines,
                subscription_periods,
                outbox_emails,
                audit_events,
            )
        },
        "audit_events": await _count(db, audit_events, org_id),
    }


def _at(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _assert_gap_free(rows: list[dict[str, Any]]) -> None:
    assert [row["number"] for row in rows] == list(range(1, len(rows) + 1))


# The model against the scheduler, day by day.

NEW_YORK = "America/New_York"


async def test_day_by_day_in_new_york_matches_the_model(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    await _set_zone(db, org, NEW_YORK)
    pause = (
        datetime(2028, 4, 5, 0, 1, tzinfo=ZoneInfo(NEW_YORK)),  # before that day's run
        datetime(2028, 7, 5, 12, 0, tzinfo=ZoneInfo(NEW_YORK)),  # that day's bill is due
    )
    specs = {
        # Monthly in advance on the 31st, across a leap February: 31 Jan, 29 Feb, 31 Mar...
        "anchor 31": Spec(10_000, 1, 825, 1, ADVANCE, date(2028, 1, 31), 31),
        # Quarterly in arrears, two units, no tax.
        "quarterly": Spec(30_000, 2, 0, 3, ARREARS, date(2028, 1, 1), 1),
        # Starting mid-period on the 1st's cycle: 22 of 31 days first.
        "mid start": Spec(12_345, 3, 1_500, 1, ADVANCE, date(2028, 1, 10), 1),
        # In arrears on the 15th, ending mid-period: 5 of 30 days last.
        "mid end": Spec(9_999, 1, 700, 1, ARREARS, date(2028, 2, 15), 15, date(2028, 9, 20)),
        # Paused from 5 April (a bill date) to 5 July: April, May and June go unbilled.
        "paused": Spec(5_000, 1, 0, 1, ADVANCE, date(2028, 1, 5), 5, pause=pause),
    }
    customers = {name: await _customer(gql, tenant, f"Customer {name}") for name in specs}
    subs = {name: await _subscribe(db, org, customers[name], spec) for name, spec in specs.items()}
    job = await staff_job(db, tenant)

    def expected_count(day: date, paused_now: bool) -> int:
        count = 0
        for name, spec in specs.items():
            for _, _, bill, _ in spec.expected():
                if bill <= day and not (
                    name == "paused" and paused_now and bill >= pause[0].date()
                ):
                    count += 1
        return count

    first, last = date(2027, 12, 25), date(2029, 2, 28)
    day = first
    while day <= last:
        if day == pause[0].date():
            job.clock = Clock(pause[0].astimezone(UTC))
            await pause_subscription(job, subs["paused"])
        paused_now = pause[0].date() <= day <= pause[1].date()  # at 00:05
        # Just after local midnight: today's periods, never tomorrow's (UTC is ahead of
        # New York, so a UTC day would bill a day late at 00:05 and early at 23:55).
        await bill_due(db, _at(day, 0, 5, NEW_YORK), organization_id=org)
        assert await _invoiced(db, org) == expected_count(day, paused_now), day
        if day == pause[1].date():
            job.clock = Clock(pause[1].astimezone(UTC))
            await resume_subscription(job, subs["paused"])
        await bill_due(db, _at(day, 23, 55, NEW_YORK), organization_id=org)
        assert await _invoiced(db, org) == expected_count(day, False), day
        day += timedelta(days=1)

    rows = await _issued(db, org)
    _assert_gap_free(rows)
    for name, spec in specs.items():
        got = [
            (r["period_start"], r["period_end"], r["issue_date"], r["total"])
            for r in rows
            if r["subscription_id"] == subs[name]
        ]
        assert got == [e for e in spec.expected() if e[2] <= last], name
        assert {r["customer_id"] for r in rows if r["subscription_id"] == subs[name]} == {
            customers[name]
        }
    # Numbered in bill-date order; every invoice is sent, due after the subscription's terms.
    assert [r["issue_date"] for r in rows] == sorted(r["issue_date"] for r in rows)
    assert all(r["status"] == InvoiceStatus.OPEN for r in rows)
    assert all(r["due_date"] == r["issue_date"] + timedelta(days=7) for r in rows)
    # The paused stretch is recorded as not billed, once each.
    async with db.connect() as conn:
        unbilled = (
            await conn.execute(
                sa.select(subscription_periods.c.period_start)
                .where(
                    subscription_periods.c.subscription_id == subs["paused"],
                    subscription_periods.c.invoice_id.is_(None),
                )
                .order_by(subscription_periods.c.period_start)
            )
        ).scalars()
        assert list(unbilled) == [date(2028, 4, 5), date(2028, 5, 5), date(2028, 6, 5)]
        descriptions = (
            await conn.execute(
                sa.select(invoice_lines.c.description)
                .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
                .where(invoices.c.organization_id == org)
            )
        ).scalars()
        descriptions = list(descriptions)
    # Partial periods say their dates and days; full ones their dates.
    assert any("2028-01-10 to 2028-01-31 (prorated: 22 of 31 days)" in d for d in descriptions)
    assert any("2028-09-15 to 2028-09-19 (prorated: 5 of 30 days)" in d for d in descriptions)
    assert any(d.endswith("2028-01-31 to 2028-02-28") for d in descriptions)
    # One email per invoice, through the outbox.
    assert await _count(db, outbox_emails, org) >= len(rows)


# Exactly once, whatever happens.


async def _several(gql: GraphQLClient, db: Database, tenant: Tenant, n: int) -> list[uuid.UUID]:
    """n monthly subscriptions in advance from 1 March 2027, each its own customer."""
    spec = Spec(7_000, 1, 500, 1, ADVANCE, date(2027, 3, 1), 1)
    return [
        await _subscribe(db, tenant.organization_id, await _customer(gql, tenant, f"C{i}"), spec)
        for i in range(n)
    ]


def _one_per_period(rows: list[dict[str, Any]], subs: list[uuid.UUID], months: int) -> None:
    _assert_gap_free(rows)
    keys = [(r["subscription_id"], r["period_start"]) for r in rows]
    assert len(keys) == len(set(keys)) == len(subs) * months
    assert {r["subscription_id"] for r in rows} == set(subs)


async def test_two_schedulers_at_once_issue_each_period_once(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    subs = await _several(gql, db, tenant, 6)
    # Two tasks over one engine, and a third over an engine of its own (another pool, as
    # another process has), all catching up the same ten months.
    other = Database(db.settings)
    try:
        runs = await asyncio.gather(
            bill_due(db, on=date(2027, 12, 15), organization_id=org),
            bill_due(db, on=date(2027, 12, 15), organization_id=org),
            bill_due(other, on=date(2027, 12, 15), organization_id=org),
        )
    finally:
        await other.dispose()
    rows = await _issued(db, org)
    _one_per_period(rows, subs, 10)
    assert sum(len(run.issued) for run in runs) == 60
    assert sum(run.failed for run in runs) == 0


SCHEDULER = """
import asyncio, sys, uuid
from datetime import date
from core.settings import settings_from_env
from domain.subscriptions.billing import bill_due
from models.db import Database

async def main():
    db = Database(settings_from_env({"DATABASE_URL": sys.argv[1]}))
    try:
        on, org = date.fromisoformat(sys.argv[2]), uuid.UUID(sys.argv[3])
        run = await bill_due(db, on=on, organization_id=org)
    finally:
        await db.dispose()
    print(len(run.issued), run.failed)

asyncio.run(main())
"""


async def test_two_scheduler_processes_issue_each_period_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, dialect: str
):
    if dialect != "postgresql":
        pytest.skip("processes racing on one SQLite file are covered by the engines above")
    org = tenant.organization_id
    subs = await _several(gql, db, tenant, 5)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [db.settings.database_url, "2027-12-15", str(org)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SCHEDULER,
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
    issued = [int(out.split()[0]) for out, _ in outputs]
    assert sum(issued) == 50 and all(int(out.split()[1]) == 0 for out, _ in outputs)
    _one_per_period(await _issued(db, org), subs, 10)


@pytest.mark.logs_errors  # the send failing on purpose is an unexpected error, logged so
async def test_a_crash_inside_the_send_leaves_nothing_and_the_next_run_issues_it_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    org = tenant.organization_id
    crashing, other = await _several(gql, db, tenant, 2)  # billed in this order
    real = domain.billing_mail.enqueue_to
    crashes = []

    async def enqueue_once_crashing(*args: Any, **kwargs: Any) -> Any:
        if not crashes:
            crashes.append(1)
            raise RuntimeError("the process died between the invoice and its email")
        return await real(*args, **kwargs)

    monkeypatch.setattr(domain.billing_mail, "enqueue_to", enqueue_once_crashing)
    crashed = await bill_due(db, on=date(2027, 3, 1), organization_id=org)
    assert crashed.failed == 1 and [d.subscription_id for d in crashed.issued] == [other]
    # The crashed period rolled back whole: no invoice, no number taken (the other
    # subscription's invoice is number 1), no period, no email; the other was issued.
    rows = await _issued(db, org)
    assert [(r["subscription_id"], r["number"]) for r in rows] == [(other, 1)]
    footprint = await _footprint(db, org)
    assert footprint["counter"] == 1 and footprint["subscription_periods"] == 1
    assert footprint["invoices"] == 1 and footprint["invoice_lines"] == 1

    async def invoice_emails() -> int:
        async with db.connect() as conn:
            kinds = (
                await conn.execute(
                    sa.select(outbox_emails.c.kind).where(outbox_emails.c.organization_id == org)
                )
            ).scalars()
            return [str(kind) for kind in kinds].count(MailKind.INVOICES)

    assert await invoice_emails() == 1
    again = await bill_due(db, on=date(2027, 3, 1), organization_id=org)
    assert [d.subscription_id for d in again.issued] == [crashing] and again.failed == 0
    rows = await _issued(db, org)
    assert [(r["subscription_id"], r["number"]) for r in rows] == [(other, 1), (crashing, 2)]
    assert await invoice_emails() == 2
    # And once only, however often it runs.
    assert (await bill_due(db, on=date(2027, 3, 1), organization_id=org)).issued == []
    _one_per_period(await _issued(db, org), [crashing, other], 1)


async def test_a_restart_after_weeks_down_issues_every_missed_period_once_in_order(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    await _set_zone(db, org, "Pacific/Auckland")
    customer = await _customer(gql, tenant, "Weekly watcher")
    monthly = await _subscribe(
        db, org, customer, Spec(4_000, 1, 0, 1, ADVANCE, date(2027, 1, 20), 20)
    )
    arrears = await _subscribe(
        db, org, customer, Spec(6_000, 2, 0, 1, ARREARS, date(2027, 1, 5), 5)
    )
    auckland = "Pacific/Auckland"
    first = await bill_due(db, _at(date(2027, 1, 20), 0, 5, auckland), organization_id=org)
    assert len(first.issued) == 1  # 19 January in UTC: the organization's day counts
    # Down from 21 January until 8 May: February to April's of one, January to April's
    # periods of the other (billed after), all issued now, in bill-date order, each once.
    back = date(2027, 5, 8)
    caught_up = await bill_due(db, _at(back, 0, 5, auckland), organization_id=org)
    rows = await _issued(db, org)
    _assert_gap_free(rows)
    assert [(r["subscription_id"], r["period_start"]) for r in rows] == [
        (monthly, date(2027, 1, 20)),
        (arrears, date(2027, 1, 5)),  # billed 5 February
        (monthly, date(2027, 2, 20)),
        (arrears, date(2027, 2, 5)),  # billed 5 March
        (monthly, date(2027, 3, 20)),
        (arrears, date(2027, 3, 5)),  # billed 5 April
        (monthly, date(2027, 4, 20)),
        (arrears, date(2027, 4, 5)),  # billed 5 May
    ]
    assert len(caught_up.issued) == 7
    # Issued on the day they were: today's date, today's terms.
    assert {r["issue_date"] for r in rows[1:]} == {back}
    assert {r["due_date"] for r in rows[1:]} == {back + timedelta(days=7)}
    assert (await bill_due(db, on=back, organization_id=org)).issued == []


async def test_one_organizations_run_never_touches_another(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    ours, theirs = tenant.organization_id, other_tenant.organization_id
    spec = Spec(2_500, 1, 0, 1, ADVANCE, date(2027, 6, 1), 1)
    alex = await _customer(gql, tenant, "Alex")
    sam = await _customer(gql, tenant, "Sam")
    their_customer = await _customer(gql, other_tenant, "Robin")
    alex_sub = await _subscribe(db, ours, alex, spec)
    sam_sub = await _subscribe(db, ours, sam, spec)
    their_sub = await _subscribe(db, theirs, their_customer, spec)
    their_before = await _footprint(db, theirs)
    await bill_due(db, on=date(2027, 8, 1), organization_id=ours)
    assert await _footprint(db, theirs) == their_before
    rows = await _issued(db, ours)
    _assert_gap_free(rows)
    assert {r["organization_id"] for r in rows} == {ours}
    # Each invoice goes to its subscription's customer only.
    for sub, customer in ((alex_sub, alex), (sam_sub, sam)):
        assert {r["customer_id"] for r in rows if r["subscription_id"] == sub} == {customer}
    assert len(rows) == 6
    # Their run numbers from their own sequence, from 1.
    await bill_due(db, on=date(2027, 8, 1), organization_id=theirs)
    their_rows = await _issued(db, theirs)
    _assert_gap_free(their_rows)
    assert {r["subscription_id"] for r in their_rows} == {their_sub}
    assert {r["customer_id"] for r in their_rows} == {their_customer}
    assert len(await _issued(db, ours)) == 6


async def test_a_dry_run_writes_nothing(gql: GraphQLClient, db: Database, tenant: Tenant):
    org = tenant.organization_id
    customer = await _customer(gql, tenant, "Dry Customer")
    spec = Spec(10_000, 1, 1_000, 1, ADVANCE, date(2027, 1, 15), 1)
    sub = await _subscribe(db, org, customer, spec)
    before = await _footprint(db, org)
    first = _round(Decimal(10_000 * 17) / 31)  # 17 of January's 31 days, then 10 % tax
    dry = await bill_due(db, on=date(2027, 3, 1), organization_id=org, dry_run=True)
    assert await _footprint(db, org) == before
    assert [(d.subscription_id, d.period.start, d.total) for d in dry.issued] == [
        (sub, date(2027, 1, 15), first + _round(Decimal(first) / 10)),
        (sub, date(2027, 2, 1), 11_000),
        (sub, date(2027, 3, 1), 11_000),
    ]
    assert "Dry Customer" in str(dry.issued[0]) and "2027-01-15 to 2027-01-31" in str(dry.issued[0])
    # The command prints the same and writes nothing either.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db.settings.database_url,
        "PORTICO_ENV": "development",
    }
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/portico"),
        "bill",
        "--dry-run",
        "--date",
        "2027-03-01",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    printed = [line for line in out.decode().splitlines() if "Dry Customer" in line]
    assert len(printed) == 3 and all(line.startswith("would issue") for line in printed)
    assert "nothing was written" in out.decode()
    assert await _footprint(db, org) == before
    # Then for real: what the dry run listed.
    done = await bill_due(db, on=date(2027, 3, 1), organization_id=org)
    assert [(d.subscription_id, d.period.start, d.total) for d in done.issued] == [
        (d.subscription_id, d.period.start, d.total) for d in dry.issued
    ]


async def test_autopay_picks_up_a_subscriptions_invoices(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    """A subscription with autopay on: its invoices are the autopay job's on their due date
    (the customer's own autopay switch off), the others' are not."""
    from domain.payments.autopay import _due

    org = tenant.organization_id
    async with db.write() as session:  # an organization where autopay can charge
        await session.execute(
            sa.update(Organization)
            .where(Organization.id == org)
            .values(stripe_account_id=f"acct_{org.hex[:16]}", stripe_charges_enabled=True)
        )
        await session.execute(
            sa.update(PortalSettings)
            .where(PortalSettings.organization_id == org)
            .values(allow_autopay=True, allow_online_payment=True)
        )
    customer = await _customer(gql, tenant, "Auto")
    spec = Spec(3_000, 1, 0, 1, ADVANCE, date(2027, 2, 1), 1)
    auto = await _subscribe(db, org, customer, spec, autopay=True)
    await _subscribe(db, org, customer, spec)
    await bill_due(db, on=date(2027, 2, 1), organization_id=org)
    rows = await _issued(db, org)
    auto_invoice = next(r["invoice_id"] for r in rows if r["subscription_id"] == auto)
    assert await _due(db, org, date(2027, 2, 7)) == []  # due on the 8th (seven days' terms)
    assert await _due(db, org, date(2027, 2, 8)) == [auto_invoice]
    async with db.write() as session:  # autopay turned off for the organization: none
        await session.execute(
            sa.update(PortalSettings)
            .where(PortalSettings.organization_id == org)
            .values(allow_autopay=False)
        )
    assert await _due(db, org, date(2027, 2, 8)) == []


async def test_a_change_of_interval_bills_no_day_twice_and_none_never(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    customer = await _customer(gql, tenant, "Switcher")
    spec = Spec(9_000, 1, 0, 1, ADVANCE, date(2027, 1, 1), 1)
    monthly_first = await _subscribe(db, org, customer, spec)
    quarterly_first = await _subscribe(db, org, customer, replace(spec, price=27_000, months=3))
    await bill_due(db, on=date(2027, 2, 10), organization_id=org)
    async with db.write() as session:  # each moves to the other's plan
        one = await session.get(BillingSubscription, monthly_first)
        other = await session.get(BillingSubscription, quarterly_first)
        assert one is not None and other is not None
        one.plan_id, other.plan_id = other.plan_id, one.plan_id
    await bill_due(db, on=date(2027, 7, 1), organization_id=org)
    rows = await _issued(db, org)
    _assert_gap_free(rows)

    def billed(sub: uuid.UUID) -> list[tuple[date, date, int]]:
        found = [r for r in rows if r["subscription_id"] == sub]
        return [(r["period_start"], r["period_end"], r["total"]) for r in found]

    # January and February monthly, then March as the rest of the first quarter (31 of
    # its 90 days of 270.00), then quarters.
    assert billed(monthly_first) == [
        (date(2027, 1, 1), date(2027, 2, 1), 9_000),
        (date(2027, 2, 1), date(2027, 3, 1), 9_000),
        (date(2027, 3, 1), date(2027, 4, 1), _round(Decimal(27_000 * 31) / 90)),
        (date(2027, 4, 1), date(2027, 7, 1), 27_000),
        (date(2027, 7, 1), date(2027, 10, 1), 27_000),
    ]
    # The first quarter was paid ahead: months from April.
    assert billed(quarterly_first) == [
        (date(2027, 1, 1), date(2027, 4, 1), 27_000),
        *[(date(2027, m, 1), date(2027, m + 1, 1), 9_000) for m in (4, 5, 6, 7)],
    ]


def test_the_jobs_loop_bills_without_stripe():
    """`serve` and `portico worker` run recurring billing whether or not Stripe is set up."""
    without = [name for name, _ in scheduled_jobs(settings_from_env({}))]
    with_stripe = scheduled_jobs(settings_from_env({"STRIPE_SECRET_KEY": "sk_test_x"}))
    assert without[:2] == ["recurring billing", "collections"] and "autopay" not in without
    assert ("recurring billing", bill_due) in with_stripe and len(with_stripe) > 1
