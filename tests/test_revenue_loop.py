"""The revenue loop as a business lives it: staff set up a plan and two subscriptions over
GraphQL, then the days go by (billing, autopay and collections run each day, as the jobs
loop runs them) and the customer's invoices, charges, reminders, late fees, balance and
statement come out as worked out here by hand.

The days walked are the ones before today, so that what the API shows today (the balance,
what is overdue, the statement) is read at the real clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from core.ids import decode_id, encode_id
from domain.collections.collect import collect
from domain.payments.autopay import run_autopay
from domain.subscriptions.billing import bill_due
from models.calendar import local_today
from models.tables import invoices, subscription_periods
from tests.payments import Paying
from tests.portal import deliver
from tests.test_preferences import inbox
from tests.test_wallet import _save_card

PLAN = """
mutation P($input: CreateBillingPlanInput!) {
  createBillingPlan(input: $input) { billingPlan { id } userErrors { field code } }
}
"""
SUBSCRIBE = """
mutation S($input: CreateSubscriptionInput!) {
  createSubscription(input: $input) { subscription { id } userErrors { field code } }
}
"""
COLLECTION = """
mutation C($input: CollectionSettingsInput!) {
  updateCollectionSettings(input: $input) { userErrors { field code } }
}
"""
ACCOUNT = """
query A($id: ID!, $from: Date!, $to: Date!) {
  node(id: $id) {
    ... on Customer {
      balance { owed { amount } overdue { amount } credit { amount } }
      statement(from: $from, to: $to) {
        openingBalance { amount } closingBalance { amount }
        entries { kind amount { amount } balance { amount } }
      }
      invoices(first: 50) { nodes { id status total { amount } } }
    }
  }
}
"""

RENT, STORAGE_FEE, LATE_FEE = 3_000, 5_000, 2_500
TERMS_DAYS = 7  # each subscription's bills are due a week after their bill date
FEE_AFTER_DAYS = 5


def _months_since(start: date, today: date) -> list[date]:
    """The first days of the months from `start` to `today`, both included."""
    firsts, day = [], start
    while day <= today:
        firsts.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return firsts


async def _subscribe(paying: Paying, plan_id: str, start: date, **extra: Any) -> str:
    data = await paying.gql.data(
        SUBSCRIBE,
        {
            "input": {
                "customerId": paying.customer_id,
                "planId": plan_id,
                "startDate": start.isoformat(),
                "paymentTermsDays": TERMS_DAYS,
                **extra,
            }
        },
        token=paying.tenant.owner_token,
    )
    payload = data["createSubscription"]
    assert payload["userErrors"] == [], payload
    return payload["subscription"]["id"]


async def _issued(paying: Paying, subscription_id: str) -> list[dict[str, Any]]:
    _, row_id = decode_id(subscription_id)
    async with paying.db.connect() as conn:
        rows = await conn.execute(
            sa.select(invoices.c.issue_date, invoices.c.due_date, invoices.c.status)
            .join(subscription_periods, subscription_periods.c.invoice_id == invoices.c.id)
            .where(subscription_periods.c.subscription_id == row_id)
            .order_by(invoices.c.issue_date)
        )
        return [dict(row._mapping) for row in rows]


async def test_a_month_after_month_of_rent_bills_charges_chases_and_adds_up(paying: Paying):
    org = paying.tenant.organization_id
    today = local_today("UTC")
    # From the first of the month four months back: five bills each, the last this month's.
    back = today.year * 12 + today.month - 1 - 4
    start = date(back // 12, back % 12 + 1, 1)
    months = _months_since(start, today)
    assert len(months) == 5

    await paying.set_options(allow_autopay=True)
    assert (await _save_card(paying))["userErrors"] == []
    owner = paying.tenant.owner_token
    plan = await paying.gql.data(
        PLAN,
        {"input": {"name": "Indoor bay", "amount": RENT, "interval": "MONTHLY"}},
        token=owner,
    )
    assert plan["createBillingPlan"]["userErrors"] == []
    plan_id = plan["createBillingPlan"]["billingPlan"]["id"]
    rent = await _subscribe(paying, plan_id, start, autopay=True, storageLabel="Bay 4")
    storage = await _subscribe(paying, plan_id, start, unitPrice=STORAGE_FEE)
    settings = await paying.gql.data(
        COLLECTION,
        {
            "input": {
                "lateFeeKind": "FIXED",
                "lateFeeAmount": LATE_FEE,
                "lateFeeAfterDays": FEE_AFTER_DAYS,
                "lateFeeTarget": "OWN_INVOICE",
            }
        },
        token=owner,
    )
    assert settings["updateCollectionSettings"]["userErrors"] == []

    # The days go by: each day what the jobs loop runs, in its order.
    day = start
    while day <= today:
        noon = datetime.combine(day, time(12), UTC)
        await bill_due(paying.db, on=day, organization_id=org)
        await run_autopay(paying.db, now=noon)
        await collect(paying.db, on=day, organization_id=org)
        day += timedelta(days=1)
    # And again: nothing more happens on a day already run.
    await bill_due(paying.db, on=today, organization_id=org)
    await run_autopay(paying.db, now=datetime.combine(today, time(12), UTC))
    await collect(paying.db, on=today, organization_id=org)

    # One bill per month each, dated the first and due a week later.
    for subscription in (rent, storage):
        issued = await _issued(paying, subscription)
        assert [(r["issue_date"], r["due_date"]) for r in issued] == [
            (first, first + timedelta(days=TERMS_DAYS)) for first in months
        ]
    # Autopay charged the rent on each due date that has come: never twice.
    charged = [first for first in months if first + timedelta(days=TERMS_DAYS) <= today]
    rent_bills = await _issued(paying, rent)
    assert [r["status"] for r in rent_bills] == [
        "PAID" if first in charged else "OPEN" for first in months
    ]
    assert len(paying.stub.objects("payment_intent")) == len(charged)
    # The storage fee nobody paid: still open, each with one late fee on an invoice of its
    # own once five days overdue (not on the fees themselves: they do not compound).
    storage_bills = await _issued(paying, storage)
    assert {r["status"] for r in storage_bills} == {"OPEN"}
    fee_days = [
        first + timedelta(days=TERMS_DAYS + FEE_AFTER_DAYS)
        for first in months
        if first + timedelta(days=TERMS_DAYS + FEE_AFTER_DAYS) <= today
    ]

    # Every bill and every reminder went out by email, the fees' bills too. Reminders come
    # on the days -3, 0, +7 and +14 from the due date while money is due; never for the rent,
    # which autopay charges on its due date (no "due soon" for what is taken without asking).
    # The fees' invoices take the organization's terms.
    await deliver(paying.db, paying.smtp)
    subjects = inbox(paying.smtp, paying.customer_email)[paying.customer_email]
    fee_terms = 14
    storage_due = [first + timedelta(days=TERMS_DAYS) for first in months]
    fee_due = [d + timedelta(days=fee_terms) for d in fee_days]
    steps = (-3, 0, 7, 14)
    chased = storage_due + fee_due
    reminders = sum(1 for due in chased for s in steps if due + timedelta(s) <= today)
    bills = 2 * len(months) + len(fee_days)
    assert sum(1 for subject in subjects if subject.startswith("Reminder:")) == reminders
    assert sum(1 for subject in subjects if subject.startswith("Receipt")) == len(charged)
    assert len(subjects) == 1 + bills + reminders + len(charged), subjects  # 1: the sign-in

    # What the API shows today, worked out by hand.
    # The charges are received at the real clock: a walk that ends after midnight gets them
    # the next day, so the statement runs to tomorrow (nothing is billed after today).
    # What is overdue is judged by the day the API is asked on.
    until, asked = today + timedelta(days=1), local_today("UTC")
    account = await paying.gql.data(
        ACCOUNT,
        {"id": paying.customer_id, "from": start.isoformat(), "to": until.isoformat()},
        token=paying.tenant.staff_token,
    )
    customer = account["node"]
    open_rent = RENT * (len(months) - len(charged))
    owed = open_rent + STORAGE_FEE * len(months) + LATE_FEE * len(fee_days)
    past_due = [first for first in months if first + timedelta(days=TERMS_DAYS) < asked]
    overdue_storage = STORAGE_FEE * len(past_due)
    overdue_fees = LATE_FEE * sum(1 for d in fee_days if d + timedelta(days=fee_terms) < asked)
    assert customer["balance"] == {
        "owed": {"amount": owed},
        "overdue": {"amount": overdue_storage + overdue_fees},
        "credit": {"amount": 0},
    }
    statement = customer["statement"]
    assert statement["openingBalance"] == {"amount": 0}
    assert statement["closingBalance"] == {"amount": owed}
    billed = [e["amount"]["amount"] for e in statement["entries"] if e["kind"] == "INVOICE"]
    paid = [e["amount"]["amount"] for e in statement["entries"] if e["kind"] == "PAYMENT"]
    assert sorted(billed) == sorted([RENT] * 5 + [STORAGE_FEE] * 5 + [LATE_FEE] * len(fee_days))
    assert [abs(p) for p in paid] == [RENT] * len(charged)
    running = 0
    for entry in statement["entries"]:
        running += (
            entry["amount"]["amount"]
            if entry["kind"] == "INVOICE"
            else -abs(entry["amount"]["amount"])
        )
        assert entry["balance"] == {"amount": running}


COLLECTION_STATE = """
query C($id: ID!) { node(id: $id) { ... on Invoice { status collection {
  remindersSent { step } nextStep nextStepDate } } } }
"""


async def test_autopay_bills_get_reminders_only_once_a_charge_has_failed(paying: Paying):
    """A card that declines: before and on the due day nothing asks for the money (autopay
    will take it, and staff see the first step after the due date as the next); once the
    charge failed, the steps after the due date remind the customer."""
    org = paying.tenant.organization_id
    await paying.set_options(allow_autopay=True)
    assert (await _save_card(paying, declines=True))["userErrors"] == []
    owner = paying.tenant.owner_token
    plan = await paying.gql.data(
        PLAN, {"input": {"name": "Outdoor bay", "amount": RENT}}, token=owner
    )
    plan_id = plan["createBillingPlan"]["billingPlan"]["id"]
    today = local_today("UTC")
    start = today - timedelta(days=2)  # due in five days: its -3 step would come in two
    subscription = await _subscribe(paying, plan_id, start, autopay=True)
    await bill_due(paying.db, on=start, organization_id=org)
    [bill] = await _issued(paying, subscription)
    due = bill["due_date"]
    async with paying.db.connect() as conn:
        invoice_id = await conn.scalar(
            sa.select(invoices.c.id)
            .join(subscription_periods, subscription_periods.c.invoice_id == invoices.c.id)
            .where(subscription_periods.c.subscription_id == decode_id(subscription)[1])
        )
    node = encode_id("Invoice", invoice_id)
    state = await paying.gql.data(COLLECTION_STATE, {"id": node}, token=owner)
    assert state["node"]["collection"]["nextStep"] == 7  # not -3: autopay will charge it
    assert state["node"]["collection"]["nextStepDate"] == (due + timedelta(days=7)).isoformat()

    day = start
    while day <= due + timedelta(days=14):
        await run_autopay(paying.db, now=datetime.combine(day, time(12), UTC))
        await collect(paying.db, on=day, organization_id=org)
        day += timedelta(days=1)
    state = await paying.gql.data(COLLECTION_STATE, {"id": node}, token=owner)
    assert state["node"]["status"] == "OPEN"  # the card declined
    assert [r["step"] for r in state["node"]["collection"]["remindersSent"]] == [7, 14]
    assert len(paying.stub.objects("payment_intent")) == 1  # tried once, not again
