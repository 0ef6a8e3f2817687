"""Periods billed in advance that change afterwards (domain/subscriptions/adjustments.py),
on both databases: an end within a billed month credits exactly the days no longer used
(hand-computed, with tax), on an open invoice (less due) and on a paid one (customer
credit), and the balance and statement show it; an end moved later bills the days back;
a quantity raised mid-month bills the difference, a price lowered later credits it (from
the invoice of the difference first); a plan billed in arrears is not touched. The rule
against an independent Decimal model (hypothesis).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from core.ids import encode_id
from domain.billing.credit import available_credit
from domain.billing.proration import Period, PeriodCharge, period_amount
from domain.payments.offline import record_payment
from domain.subscriptions.billing import bill_due
from domain.subscriptions.subscriptions import Change, change_subscription, end_subscription
from models.clock import Clock
from models.db import Database
from models.enums import BillingTiming, PaymentMethod
from models.money import amount_due
from models.tables import audit_events, credit_notes, invoice_lines, invoices
from tests.helpers import GraphQLClient, Tenant
from tests.test_balance import _portal_token
from tests.test_billing_domain import staff_job
from tests.test_subscription_billing import Spec, _customer, _set_zone, _subscribe

NEW_YORK = "America/New_York"
MARCH = date(2027, 3, 1)
# 310.00 a month with 10 % tax, billed in advance on the 1st: 10.00 a day in March.
RENT = Spec(31_000, 1, 1_000, 1, BillingTiming.IN_ADVANCE, MARCH, 1)
BALANCE = """
query B($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on Customer {
  balance { owed { amount } credit { amount } }
  statement(from: $from, to: $to) { closingBalance { amount }
    entries { date kind amount { amount } } } } } }
"""


def _noon(day: date) -> Clock:
    return Clock(datetime.combine(day, time(12), tzinfo=ZoneInfo(NEW_YORK)).astimezone(UTC))


async def _job(db: Database, tenant: Tenant, day: date) -> Any:
    job = await staff_job(db, tenant)
    job.clock = _noon(day)
    return job


async def _invoices(db: Database, customer: Any) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(invoices)
            .where(invoices.c.customer_id == customer)
            .order_by(invoices.c.number)
        )
        return [dict(row) for row in found.mappings()]


async def _notes(db: Database, customer: Any) -> list[tuple[int, int, Any]]:
    """(total, number of the invoice credited, issue date) of each credit note."""
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(credit_notes.c.total, invoices.c.number, credit_notes.c.issue_date)
            .join(invoices, invoices.c.id == credit_notes.c.invoice_id)
            .where(credit_notes.c.customer_id == customer)
            .order_by(credit_notes.c.number)
        )
        return [tuple(row) for row in found]


async def _rent(gql: GraphQLClient, db: Database, tenant: Tenant, name: str, spec: Spec = RENT):
    org = tenant.organization_id
    await _set_zone(db, org, NEW_YORK)
    customer = await _customer(gql, tenant, name)
    sub = await _subscribe(db, org, customer, spec)
    await bill_due(db, on=MARCH, organization_id=org)
    return customer, sub


async def test_an_end_within_a_billed_month_credits_the_unused_days(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    customer, sub = await _rent(gql, db, tenant, "Ending Early")
    [march] = await _invoices(db, customer)
    assert (march["subtotal"], march["total"]) == (31_000, 34_100)
    # Checked out on 11 March: 10 days used (100.00), 21 not (210.00 + 21.00 tax).
    await end_subscription(await _job(db, tenant, date(2027, 3, 11)), sub, date(2027, 3, 11))
    assert await _notes(db, customer) == [(23_100, march["number"], date(2027, 3, 11))]
    [march] = await _invoices(db, customer)
    assert march["credited_amount"] == 23_100 and amount_due(march) == 11_000
    # Ended: April bills nothing; the balance and the statement show the credit note.
    await bill_due(db, on=date(2027, 4, 1), organization_id=org)
    assert len(await _invoices(db, customer)) == 1
    variables = {"id": encode_id("Customer", customer), "from": "2027-03-01", "to": "2027-03-31"}
    data = await gql.data(BALANCE, variables, token=tenant.staff_token)
    node = data["node"]
    assert node["balance"] == {"owed": {"amount": 11_000}, "credit": {"amount": 0}}
    assert node["statement"]["closingBalance"] == {"amount": 11_000}
    assert [(e["kind"], e["amount"]["amount"]) for e in node["statement"]["entries"]] == [
        ("INVOICE", 34_100),
        ("CREDIT_NOTE", -23_100),
    ]
    async with db.connect() as conn:
        data = await conn.scalar(
            sa.select(audit_events.c.data).where(
                audit_events.c.organization_id == org,
                audit_events.c.action == "subscription.ended",
            )
        )
    assert [a["amount"] for a in data["adjustments"]] == [-21_000]


async def test_an_end_of_a_paid_month_gives_credit_the_next_invoice_uses(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    customer, sub = await _rent(gql, db, tenant, "Paid Ahead")
    [march] = await _invoices(db, customer)
    await record_payment(
        await staff_job(db, tenant), march["id"], 34_100, PaymentMethod.BANK_TRANSFER
    )
    # Ended from 25 March: 7 days not used, 70.00 + 7.00 tax held for the customer.
    await end_subscription(await _job(db, tenant, date(2027, 3, 20)), sub, date(2027, 3, 25))
    assert [n[0] for n in await _notes(db, customer)] == [7_700]
    async with db.write() as session:
        assert await available_credit(session, org, customer, "USD") == 7_700
    variables = {"id": encode_id("Customer", customer), "from": "2027-03-01", "to": "2027-03-31"}
    data = await gql.data(BALANCE, variables, token=tenant.staff_token)
    assert data["node"]["balance"] == {"owed": {"amount": 0}, "credit": {"amount": 7_700}}
    assert data["node"]["statement"]["closingBalance"] == {"amount": -7_700}


async def test_an_end_moved_later_bills_the_days_back(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer, sub = await _rent(gql, db, tenant, "Changes Mind")
    job = await _job(db, tenant, date(2027, 3, 5))
    await end_subscription(job, sub, date(2027, 3, 11))  # 21 days credited: 210.00
    await end_subscription(job, sub, date(2027, 3, 21))  # 10 of them used after all: 100.00
    rows = await _invoices(db, customer)
    assert [r["total"] for r in rows] == [34_100, 11_000]
    assert rows[1]["issue_date"] == date(2027, 3, 5)
    assert [n[0] for n in await _notes(db, customer)] == [23_100]
    # Net: 20 days of March, 200.00 + 20.00 tax.
    assert sum(r["total"] - r["credited_amount"] for r in rows) == 22_000
    # Sooner again, from 16 March: five of those days credited, from their own invoice.
    await end_subscription(job, sub, date(2027, 3, 16))
    rows = await _invoices(db, customer)
    assert sum(r["total"] - r["credited_amount"] for r in rows) == 16_500
    notes = await _notes(db, customer)
    assert [(n[0], n[1]) for n in notes[1:]] == [(5_500, rows[1]["number"])]


async def test_a_quantity_raised_and_a_price_lowered_mid_month(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    org = tenant.organization_id
    customer, sub = await _rent(gql, db, tenant, "Two Cars")
    # A second car from 11 March: 21 days x 2 x 10.00 instead of x 1: 210.00 more.
    await change_subscription(await _job(db, tenant, date(2027, 3, 11)), sub, Change(quantity=2))
    rows = await _invoices(db, customer)
    assert [(r["subtotal"], r["total"]) for r in rows] == [(31_000, 34_100), (21_000, 23_100)]
    async with db.connect() as conn:
        description = await conn.scalar(
            sa.select(invoice_lines.c.description).where(
                invoice_lines.c.invoice_id == rows[1]["id"]
            )
        )
    assert "2027-03-11 to 2027-03-31" in description
    # Half the price from 21 March: 11 days x 2 x 5.00 instead of x 10.00, 110.00 back,
    # from the invoice of the difference first.
    job = await _job(db, tenant, date(2027, 3, 21))
    await change_subscription(job, sub, Change(custom_unit_price=15_500))
    assert await _notes(db, customer) == [(12_100, rows[1]["number"], date(2027, 3, 21))]
    # Ended from 26 March: 6 days x 2 x 5.00 back, 60.00.
    await end_subscription(job, sub, date(2027, 3, 26))
    notes = await _notes(db, customer)
    assert [(n[0], n[1]) for n in notes[1:]] == [(6_600, rows[1]["number"])]
    # March in all: 10 days x 10.00 + 10 x 20.00 + 5 x 10.00 = 350.00, + 10 % tax.
    rows = await _invoices(db, customer)
    assert sum(r["total"] - r["credited_amount"] for r in rows) == 38_500
    await bill_due(db, on=date(2027, 4, 1), organization_id=org)
    assert len(await _invoices(db, customer)) == 2


async def test_a_change_of_what_is_not_charged_and_arrears_change_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer, sub = await _rent(gql, db, tenant, "Just Terms")
    job = await _job(db, tenant, date(2027, 3, 11))
    await change_subscription(job, sub, Change(payment_terms_days=30, autopay=True))
    assert len(await _invoices(db, customer)) == 1 and await _notes(db, customer) == []
    # Billed in arrears: nothing billed yet for March, so nothing to credit; the last
    # period bills its days when it comes due.
    later = Spec(31_000, 1, 0, 1, BillingTiming.IN_ARREARS, MARCH, 1)
    customer, sub = await _rent(gql, db, tenant, "Arrears", later)
    await end_subscription(job, sub, date(2027, 3, 11))
    assert await _notes(db, customer) == []
    await bill_due(db, on=date(2027, 3, 11), organization_id=tenant.organization_id)
    assert [r["total"] for r in await _invoices(db, customer)] == [10_000]


# The rule against an independent Decimal model.


def _model_cost(d: int, runs: list[tuple[int, int, int]]) -> int:
    """Days `runs` of (days, price, quantity) of a `d`-day period, each rounded half up."""
    total = 0
    for days, price, quantity in runs:
        exact = Decimal(price) * Decimal(quantity) * Decimal(days) / Decimal(d)
        total += int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return total


@st.composite
def _periods(draw: Any) -> tuple[int, int, int, list[tuple[int, int, int]], int]:
    d = draw(st.integers(1, 400))
    a = draw(st.integers(0, d - 1))
    b = draw(st.integers(a + 1, d))
    end = draw(st.integers(a, b))
    # Changes count from their day (today), on or before the end.
    changes = sorted(
        draw(
            st.lists(
                st.tuples(st.integers(a, end), st.integers(0, 10**7), st.integers(1, 100)),
                max_size=3,
            )
        )
    )
    return d, a, b, changes, end


@given(
    shape=_periods(),
    price=st.integers(0, 10**7),
    quantity=st.integers(1, 100),
    first=st.dates(date(2000, 1, 1), date(2090, 1, 1)),
)
def test_the_charge_of_a_changed_period_matches_a_decimal_model(
    shape: tuple[int, int, int, list[tuple[int, int, int]], int],
    price: int,
    quantity: int,
    first: date,
):
    d, a, b, changes, end = shape

    def day(offset: int) -> date:
        return first + timedelta(days=offset)

    period = Period(day(a), day(b), first, day(d))
    charge = PeriodCharge.billed(price, quantity, period)
    billed = charge.cost(None)
    assert (
        billed
        == period_amount(price, quantity, period)
        == _model_cost(d, [(b - a, price, quantity)])
    )
    # An end alone: credited what was billed less the days used, never more than billed,
    # within rounding of the unused days' exact share.
    used = _model_cost(d, [(end - a, price, quantity)])
    credit = billed - charge.cost(day(end))
    assert credit == billed - used and 0 <= credit <= billed
    exact = Decimal(price * quantity * (b - end)) / Decimal(d)
    assert abs(Decimal(credit) - exact) <= 1
    # Changes of terms, then the end: each run at its terms.
    runs, at, terms = [], a, (price, quantity)
    for offset, new_price, new_quantity in changes:
        charge = charge.repriced(day(offset), new_price, new_quantity)
        runs.append((offset - at, *terms))
        at, terms = offset, (new_price, new_quantity)
    runs.append((end - at, *terms))
    assert charge.cost(day(end)) == _model_cost(d, runs)


# Through the API, today: who may end a subscription, and what the staff member sees.

END = """
mutation E($input: EndSubscriptionInput!) {
  endSubscription(input: $input) { subscription { status endDate } userErrors { field code } }
}
"""
CREDITS = """
query I($id: ID!) { node(id: $id) { ... on Invoice {
  total { amount } amountDue { amount } creditNotes { total { amount } reason } } } }
"""


async def test_only_the_organizations_staff_end_and_credit_through_the_api(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    org = tenant.organization_id
    await _set_zone(db, org, NEW_YORK)
    today = datetime.now(UTC).astimezone(ZoneInfo(NEW_YORK)).date()
    first = today.replace(day=1)
    customer = await _customer(gql, tenant, "Api Ender")
    spec = Spec(31_000, 1, 1_000, 1, BillingTiming.IN_ADVANCE, first, 1)
    sub = await _subscribe(db, org, customer, spec)
    await bill_due(db, on=today, organization_id=org)
    [bill] = await _invoices(db, customer)
    end = today + timedelta(days=1)
    variables = {"input": {"id": encode_id("BillingSubscription", sub), "endDate": str(end)}}
    # Another organization's staff: no such subscription; the customer's portal: refused;
    # anonymous: refused. Nothing credited.
    stranger = await gql.data(END, variables, token=other_tenant.staff_token)
    assert stranger["endSubscription"]["userErrors"] == [
        {"field": ["input", "id"], "code": "NOT_FOUND"}
    ]
    portal = await _portal_token(db, tenant, customer)
    refused = await gql(END, variables, token=portal)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql(END, variables))["errors"]
    assert await _notes(db, customer) == []
    # The organization's staff: ended from tomorrow, the rest of the month credited.
    data = await gql.data(END, variables, token=tenant.staff_token)
    assert data["endSubscription"]["userErrors"] == []
    assert data["endSubscription"]["subscription"]["endDate"] == str(end)
    days = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - first
    used = _model_cost(days.days, [((end - first).days, 31_000, 1)])
    subtotal = 31_000 - used
    tax = int((Decimal(subtotal) / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    answer = await gql.data(CREDITS, {"id": encode_id("Invoice", bill["id"])}, tenant.staff_token)
    node = answer["node"]
    assert [n["total"]["amount"] for n in node["creditNotes"]] == (
        [subtotal + tax] if subtotal else []
    )
    assert node["amountDue"]["amount"] == 34_100 - (subtotal + tax)
    if subtotal:
        assert "ended on" in node["creditNotes"][0]["reason"]
