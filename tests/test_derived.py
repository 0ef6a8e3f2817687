"""Values derived from rows (models/derived.py): one definition, checked against a model.

The rules are evaluated by the database, on both dialects, at instants the test chooses
(the request's clock is a parameter), and compared with a plain-Python model written
here: an invoice is overdue when money is due and its due date is before today in the
organization's zone; a sent estimate is EXPIRED from the end of its `validUntil` day there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.ids import decode_id
from models import Customer, Estimate, Invoice, MaintenanceSchedule, Organization
from models import relations as rel
from models.calendar import end_of_day
from models.clock import Clock
from models.db import Database
from models.derived import (
    amount_due,
    credit_left,
    estimate_status,
    is_overdue,
    payments_enabled,
    status_filter,
)
from models.enums import EstimateStatus, InvoiceStatus
from models.maintenance import add_months
from models.money import amount_due as python_amount_due
from models.money import credit_left as python_credit_left
from models.writes import add_in_order
from payments.requests import stripe_ready
from portico.app import create_app
from tests.billing import open_invoice, sent_estimate
from tests.helpers import user_errors
from tests.portal import make_car, make_customer

# Far from UTC both ways, odd offsets, and a zone with daylight saving.
ZONES = [
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Pago_Pago",  # UTC-11
    "Asia/Kathmandu",  # UTC+5:45
    "America/St_Johns",  # UTC-3:30 / -2:30
    "UTC",
]


# --- the independent model ----------------------------------------------------------


def local_midnight(day: date, zone: str) -> datetime:
    """The instant `day` starts in `zone`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def model_due(status: InvoiceStatus, total: int, paid: int) -> int:
    return 0 if status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) else max(total - paid, 0)


def model_overdue(
    status: InvoiceStatus, total: int, paid: int, due: date | None, zone: str, now: datetime
) -> bool:
    # Overdue from the first instant of the day after the due date, in the zone.
    return (
        model_due(status, total, paid) > 0
        and due is not None
        and now >= local_midnight(due + timedelta(days=1), zone)
    )


def model_status(
    status: EstimateStatus, valid_until: date | None, zone: str, now: datetime
) -> EstimateStatus:
    sent = status is EstimateStatus.SENT and valid_until is not None
    if sent and now >= local_midnight(valid_until + timedelta(days=1), zone):  # type: ignore[operator]
        return EstimateStatus.EXPIRED
    return status


# --- rows ---------------------------------------------------------------------------


@dataclass
class World:
    orgs: dict[str, uuid.UUID]  # zone -> organization
    customers: dict[str, uuid.UUID]  # zone -> a customer of it


@pytest.fixture(scope="module")
async def world(db: Database) -> World:
    orgs: dict[str, uuid.UUID] = {}
    customers: dict[str, uuid.UUID] = {}
    async with db.write() as session:
        for zone in ZONES:
            slug = f"zone-{uuid.uuid4().hex[:10]}"
            org = Organization(name=zone, slug=slug, timezone=zone)
            customer = Customer(organization_id=org.id, name=f"Customer in {zone}")
            await add_in_order(session, [org, customer])
            orgs[zone], customers[zone] = org.id, customer.id
    return World(orgs, customers)


async def _invoice(db: Database, world: World, zone: str, **values: Any) -> uuid.UUID:
    row = Invoice(
        organization_id=world.orgs[zone],
        customer_id=world.customers[zone],
        currency="USD",
        **values,
    )
    async with db.write() as session:
        session.add(row)
    return row.id


async def _estimate(
    db: Database, world: World, zone: str, status: EstimateStatus, valid_until: date | None
) -> uuid.UUID:
    expires = end_of_day(valid_until, zone) if valid_until is not None else None
    row = Estimate(
        organization_id=world.orgs[zone],
        customer_id=world.customers[zone],
        currency="USD",
        status=status,
        valid_until=valid_until,
        expires_at=expires,
    )
    async with db.write() as session:
        session.add(row)
    return row.id


async def _value(db: Database, expression: Any, row_id: uuid.UUID, now: datetime) -> Any:
    table = expression.table
    statement = sa.select(expression.build(table)).where(table.c.id == row_id)
    async with db.connect() as conn:
        return (await conn.execute(statement, Clock(now).params)).scalar_one()


@dataclass
class Derived:
    table: sa.Table
    build: Any


OVERDUE = Derived(rel.invoices, is_overdue)
STATUS = Derived(rel.estimates, estimate_status)
DUE = Derived(rel.invoices, amount_due)
CREDIT = Derived(rel.invoices, credit_left)


# --- hand-computed instants around local midnight -----------------------------------


@pytest.mark.parametrize(
    ("zone", "first_overdue_instant"),
    [
        # Due 10 March: overdue from 11 March 00:00 local time.
        ("Pacific/Kiritimati", datetime(2026, 3, 10, 10, 0, tzinfo=UTC)),  # UTC+14
        ("Pacific/Pago_Pago", datetime(2026, 3, 11, 11, 0, tzinfo=UTC)),  # UTC-11
    ],
)
async def test_overdue_starts_at_local_midnight_after_the_due_date(
    db: Database, world: World, zone: str, first_overdue_instant: datetime
):
    invoice = await _invoice(
        db, world, zone, status=InvoiceStatus.OPEN, total=5000, due_date=date(2026, 3, 10)
    )
    second = timedelta(seconds=1)
    assert await _value(db, OVERDUE, invoice, first_overdue_instant - second) is False
    assert await _value(db, OVERDUE, invoice, first_overdue_instant) is True
    # The UTC date would have said otherwise for hours on one side of midnight.
    utc_midnight = datetime(2026, 3, 11, tzinfo=UTC)
    expected_at_utc_midnight = utc_midnight >= first_overdue_instant
    assert await _value(db, OVERDUE, invoice, utc_midnight) is expected_at_utc_midnight


@pytest.mark.parametrize(
    ("zone", "expiry"),
    [
        # Valid until 10 March: expired from 11 March 00:00 local time.
        ("Pacific/Kiritimati", datetime(2026, 3, 10, 10, 0, tzinfo=UTC)),
        ("Pacific/Pago_Pago", datetime(2026, 3, 11, 11, 0, tzinfo=UTC)),
    ],
)
async def test_an_estimate_expires_at_local_midnight_after_valid_until(
    db: Database, world: World, zone: str, expiry: datetime
):
    estimate = await _estimate(db, world, zone, EstimateStatus.SENT, date(2026, 3, 10))
    before = await _value(db, STATUS, estimate, expiry - timedelta(microseconds=1))
    assert before == "SENT"
    assert await _value(db, STATUS, estimate, expiry) == "EXPIRED"
    # The filter is the same rule: the row is found under what it shows.
    async with db.connect() as conn:
        for now, shown in ((expiry - timedelta(seconds=1), "SENT"), (expiry, "EXPIRED")):
            for status in ("SENT", "EXPIRED"):
                found = await conn.execute(
                    sa.select(rel.estimates.c.id).where(
                        rel.estimates.c.id == estimate,
                        *status_filter(rel.estimates, [EstimateStatus(status)]),
                    ),
                    Clock(now).params,
                )
                assert (found.scalar_one_or_none() == estimate) is (status == shown)


# --- generated rows against the model -----------------------------------------------

days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
instants = st.builds(
    lambda day, zone, seconds: local_midnight(day, zone) + timedelta(seconds=seconds),
    days,
    st.sampled_from(ZONES),
    st.integers(-3 * 3600, 3 * 3600),  # hours around some zone's midnight
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    status=st.sampled_from(list(InvoiceStatus)),
    total=st.integers(0, 10_000),
    paid=st.integers(0, 10_000),
    credited=st.sampled_from([0, 0, 1, 500, 10_000]),
    applied=st.sampled_from([0, 0, 1, 700]),
    due_offset=st.none() | st.integers(-2, 2),
    now=instants,
)
async def test_overdue_and_amount_due_match_the_model(
    db: Database,
    world: World,
    zone: str,
    status: InvoiceStatus,
    total: int,
    paid: int,
    credited: int,
    applied: int,
    due_offset: int | None,
    now: datetime,
):
    local_today = now.astimezone(ZoneInfo(zone)).date()
    due = None if due_offset is None else local_today + timedelta(days=due_offset)
    amounts = {"amount_paid": paid, "credited_amount": credited, "credit_applied": applied}
    invoice = await _invoice(db, world, zone, status=status, total=total, due_date=due, **amounts)
    # Credit notes and the customer's credit used on it count like payments.
    covered = paid + credited + applied
    assert await _value(db, OVERDUE, invoice, now) is model_overdue(
        status, total, covered, due, zone, now
    )
    expected_due = model_due(status, total, covered)
    assert await _value(db, DUE, invoice, now) == expected_due
    # Writes still compute what is due in Python: the same answer.
    row = {"status": status, "total": total, **amounts}
    assert python_amount_due(row) == expected_due
    # The customer's credit it makes or takes: beyond its total, up to what credit notes and
    # credit used brought, less the credit used; nothing on drafts and void invoices.
    billed = status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
    beyond = min(max(covered - total, 0), credited + applied)
    expected_credit = beyond - applied if billed else 0
    assert await _value(db, CREDIT, invoice, now) == expected_credit
    assert python_credit_left(row) == expected_credit


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    status=st.sampled_from([s for s in EstimateStatus if s is not EstimateStatus.EXPIRED]),
    valid_offset=st.none() | st.integers(-2, 2),
    now=instants,
)
async def test_estimate_status_matches_the_model(
    db: Database,
    world: World,
    zone: str,
    status: EstimateStatus,
    valid_offset: int | None,
    now: datetime,
):
    local_today = now.astimezone(ZoneInfo(zone)).date()
    valid_until = None if valid_offset is None else local_today + timedelta(days=valid_offset)
    estimate = await _estimate(db, world, zone, status, valid_until)
    shown = await _value(db, STATUS, estimate, now)
    assert shown == model_status(status, valid_until, zone, now).value


# --- through the API: what a list filters by is what it shows -----------------------

ESTIMATES = """
query E($status: [EstimateStatus!]) {
  estimates(first: 50, status: $status) { totalCount nodes { id status } }
}
"""
INVOICE = "query I($id: ID!) { node(id: $id) { ... on Invoice { dueDate isOverdue } } }"


async def both_ways(db: Database, gql: Any, query: str, variables: dict[str, Any], token: str):
    """The executor's answer, and on PostgreSQL the planned one, which must be the same."""
    answer = await gql.data(query, variables, token=token)
    if db.dialect == "postgresql":
        planned_app = create_app(db=db, run_mail_worker=False, plan_reads=True)
        transport = httpx.ASGITransport(app=planned_app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as c:
            response = await c.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.json() == {"data": answer}
    return answer


async def test_expired_estimates_are_listed_under_expired_not_sent(db, gql, smtp, tenant):
    customer_id, _email = await make_customer(gql, tenant)
    lapsed = await sent_estimate(gql, tenant, customer_id)
    current = await sent_estimate(gql, tenant, customer_id)
    async with db.write() as session:
        await session.execute(
            sa.update(Estimate)
            .where(Estimate.id == decode_id(lapsed["id"])[1])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    token = tenant.staff_token
    for status, expected in (("EXPIRED", lapsed), ("SENT", current)):
        data = await both_ways(db, gql, ESTIMATES, {"status": [status]}, token)
        nodes = data["estimates"]["nodes"]
        assert nodes == [{"id": expected["id"], "status": status}]
        assert data["estimates"]["totalCount"] == 1
    both = await both_ways(db, gql, ESTIMATES, {"status": ["SENT", "EXPIRED"]}, token)
    assert {n["status"] for n in both["estimates"]["nodes"]} == {"SENT", "EXPIRED"}


async def test_is_overdue_reads_the_organization_day_not_the_utc_day(db, gql, smtp, tenant):
    """Whatever the hour, one of these zones is on another date than UTC: Kiritimati is
    a day ahead from 10:00 UTC, Pago Pago a day behind until 11:00 UTC."""
    now = datetime.now(UTC)
    ahead = now.hour >= 10
    zone = "Pacific/Kiritimati" if ahead else "Pacific/Pago_Pago"
    local_today = now.astimezone(ZoneInfo(zone)).date()
    assert local_today != now.date()
    async with db.write() as session:
        await session.execute(
            sa.update(Organization)
            .where(Organization.id == tenant.organization_id)
            .values(timezone=zone)
        )
    customer_id, _email = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer_id)
    # Ahead: due on the UTC date, which is yesterday there (overdue). Behind: due today
    # there, which is yesterday in UTC (not overdue yet).
    due = now.date() if ahead else local_today
    async with db.write() as session:
        await session.execute(
            sa.update(Invoice).where(Invoice.id == decode_id(invoice["id"])[1]).values(due_date=due)
        )
    data = await both_ways(db, gql, INVOICE, {"id": invoice["id"]}, tenant.staff_token)
    assert data["node"] == {"dueDate": due.isoformat(), "isOverdue": due < local_today}


SCHEDULE = """
mutation S($input: MaintenanceScheduleInput!) {
  setMaintenanceSchedule(input: $input) {
    maintenanceSchedule { lastDoneOn nextDueOn isDue } userErrors { field code }
  }
}
"""


async def test_maintenance_dates_are_the_organization_days(db, gql, smtp, tenant):
    """`lastDoneOn` may be today there (not in the future there), and a schedule falls
    due on its day there, whatever the UTC date says."""
    now = datetime.now(UTC)
    zone = "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"
    local_today = now.astimezone(ZoneInfo(zone)).date()
    async with db.write() as session:
        await session.execute(
            sa.update(Organization)
            .where(Organization.id == tenant.organization_id)
            .values(timezone=zone)
        )
    customer_id, _email = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "911")
    tomorrow = local_today + timedelta(days=1)
    for done_on in (local_today, tomorrow):
        answer = await gql.data(
            SCHEDULE,
            {
                "input": {
                    "carId": car_id,
                    "name": "Oil",
                    "everyMonths": 1,
                    "lastDoneOn": str(done_on),
                }
            },
            token=tenant.staff_token,
        )
        payload = answer["setMaintenanceSchedule"]
        if done_on == local_today:
            assert payload["userErrors"] == []
            assert payload["maintenanceSchedule"]["lastDoneOn"] == str(local_today)
        else:
            assert user_errors(payload) == [(["input", "lastDoneOn"], "INVALID")]
    # Due today there: due. Due tomorrow there: not yet.
    for due_on, due in ((local_today, True), (tomorrow, False)):
        last, months = _falling_due_on(due_on)
        async with db.write() as session:
            await session.execute(
                sa.update(MaintenanceSchedule)
                .where(MaintenanceSchedule.car_id == decode_id(car_id)[1])
                .values(last_done_on=last, every_months=months)
            )
        data = await gql.data(CAR_SCHEDULES, {"id": car_id}, token=tenant.staff_token)
        assert data["node"]["maintenanceSchedules"] == [{"nextDueOn": str(due_on), "isDue": due}]


def _falling_due_on(day: date) -> tuple[date, int]:
    """A last-done date and interval that fall due on `day` (month ends clamp)."""
    for months in (1, 12, 24):
        last = add_months(day, -months)
        if add_months(last, months) == day:
            return last, months
    raise AssertionError(day)


CAR_SCHEDULES = """
query C($id: ID!) { node(id: $id) { ... on Car { maintenanceSchedules { nextDueOn isDue } } } }
"""


async def test_payments_enabled_in_sql_is_stripe_ready_in_python(db: Database):
    """Organization.paymentsEnabled (SQL, models/derived.py) and the Python form writes use
    (payments/requests.py stripe_ready) agree on every combination."""
    orgs = [
        Organization(
            name=f"Stripe {n}",
            slug=f"stripe-{uuid.uuid4().hex[:10]}",
            stripe_account_id=account,
            stripe_charges_enabled=charges,
        )
        for n, (account, charges) in enumerate(
            [(None, False), (None, True), ("acct_1", False), ("acct_1", True)]
        )
    ]
    async with db.write() as session:
        session.add_all(orgs)
    table = Organization.__table__
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(table.c.id, payments_enabled(table)).where(
                table.c.id.in_([o.id for o in orgs])
            )
        )
        in_sql = {row[0]: bool(row[1]) for row in rows}
    assert in_sql == {o.id: stripe_ready(o) for o in orgs}
    assert sorted(in_sql.values()) == [False, False, False, True]
