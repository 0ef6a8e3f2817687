"""Recurring billing through the API: billing plans and subscriptions.

Abuse first (other organizations, portal viewers, anonymous callers), then what staff do
(create, change, pause, resume, end, with audit rows), bad input that changes nothing, the
derived status against its Python form, and statements that do not grow with rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.ids import decode_id, encode_id
from domain.billing.proration import next_bill_date
from domain.subscriptions.subscriptions import status_of
from models import AuditEvent, BillingPlan, BillingSubscription, Car, Customer, PortalSettings
from models.db import Database
from models.enums import BillingTiming
from models.tables import subscriptions as subscriptions_table
from models.writes import add_in_order
from tests.helpers import GraphQLClient, Tenant, error_codes, make_tenant, not_found_at, user_errors
from tests.portal import make_car, make_contact, make_customer, sign_in_by_invite
from tests.smtp import SmtpServer

PLAN_FIELDS = "id name amount { amount currency } taxRate interval intervalMonths timing archivedAt"
SUB_FIELDS = """
id status quantity storageLabel startDate endDate anchorDay paymentTermsDays autopay pausedAt
unitPrice { amount currency } customUnitPrice { amount } nextBillDate
plan { id name } car { id } customer { id }
"""
CREATE_PLAN = f"""
mutation P($input: CreateBillingPlanInput!) {{
  createBillingPlan(input: $input) {{
    billingPlan {{ {PLAN_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
UPDATE_PLAN = f"""
mutation P($input: UpdateBillingPlanInput!) {{
  updateBillingPlan(input: $input) {{
    billingPlan {{ {PLAN_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
ARCHIVE_PLAN = f"""
mutation P($input: ArchiveBillingPlanInput!) {{
  archiveBillingPlan(input: $input) {{
    billingPlan {{ {PLAN_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
CREATE = f"""
mutation S($input: CreateSubscriptionInput!) {{
  createSubscription(input: $input) {{
    subscription {{ {SUB_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
CHANGE = f"""
mutation S($input: ChangeSubscriptionInput!) {{
  changeSubscription(input: $input) {{
    subscription {{ {SUB_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
PAUSE = f"""
mutation S($input: SubscriptionIdInput!) {{
  pauseSubscription(input: $input) {{
    subscription {{ {SUB_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
RESUME = f"""
mutation S($input: SubscriptionIdInput!) {{
  resumeSubscription(input: $input) {{
    subscription {{ {SUB_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
END = f"""
mutation S($input: EndSubscriptionInput!) {{
  endSubscription(input: $input) {{
    subscription {{ {SUB_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
NODE = f"""
query N($id: ID!) {{
  node(id: $id) {{
    id ... on BillingSubscription {{ {SUB_FIELDS} }} ... on BillingPlan {{ name }}
  }}
}}
"""
PLANS = "{ billingPlans(first: 100) { totalCount nodes { id name } } }"
PORTAL_BILLING = """
{ viewer { customer {
    subscriptions { totalCount nodes {
      id status nextBillDate quantity unitPrice { amount currency } plan { id name }
    } }
} } }
"""


def today() -> date:
    return datetime.now(UTC).date()  # test organizations keep UTC


async def make_plan(gql: GraphQLClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    payload = {"name": "Indoor storage", "amount": 25_000, "interval": "MONTHLY", **fields}
    data = await gql.data(CREATE_PLAN, {"input": payload}, token=tenant.staff_token)
    result = data["createBillingPlan"]
    assert result["userErrors"] == [], result
    return result["billingPlan"]


async def subscribe(
    gql: GraphQLClient, tenant: Tenant, customer_id: str, plan_id: str, **fields: Any
) -> dict[str, Any]:
    payload = {
        "customerId": customer_id,
        "planId": plan_id,
        "startDate": today().isoformat(),
        **fields,
    }
    data = await gql.data(CREATE, {"input": payload}, token=tenant.staff_token)
    return data["createSubscription"]


async def setup(gql: GraphQLClient, tenant: Tenant) -> dict[str, Any]:
    """A customer with a car on a plan, by global ID."""
    customer_id, email = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "911")
    plan = await make_plan(gql, tenant)
    created = await subscribe(gql, tenant, customer_id, plan["id"], carId=car_id)
    assert created["userErrors"] == [], created
    return {
        "customer": customer_id,
        "email": email,
        "car": car_id,
        "plan": plan["id"],
        "subscription": created["subscription"]["id"],
    }


async def snapshot(db: Database) -> list[tuple[Any, ...]]:
    """Every subscription and plan row and audit count, to show nothing changed."""
    async with db.connect() as conn:
        subs = (await conn.execute(sa.select(subscriptions_table).order_by("id"))).all()
        plans = (await conn.execute(sa.select(BillingPlan).order_by(BillingPlan.id))).all()
        audits = (
            await conn.execute(sa.select(sa.func.count()).select_from(AuditEvent))
        ).scalar_one()
    return [*(tuple(r) for r in subs), *(tuple(r) for r in plans), (audits,)]


async def audit_actions(db: Database, gid: str) -> list[str]:
    _, row_id = decode_id(gid)
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(AuditEvent.action)
            .where(AuditEvent.subject_id == row_id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
        return list(rows.scalars())


# --- abuse ------------------------------------------------------------------------------


async def test_other_organizations_staff_see_and_change_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    mine = await setup(gql, tenant)
    missing = encode_id("BillingSubscription", uuid.uuid4())
    nowhere = await gql(NODE, {"id": missing}, token=other_tenant.staff_token)
    for gid in (mine["subscription"], mine["plan"]):
        theirs = await gql(NODE, {"id": gid}, token=other_tenant.staff_token)
        assert error_codes(theirs) == ["NOT_FOUND"]
        assert theirs["errors"][0]["message"] == nowhere["errors"][0]["message"]
        assert theirs["data"] == nowhere["data"]
    listed = await gql.data(PLANS, token=other_tenant.staff_token)
    assert listed["billingPlans"] == {"totalCount": 0, "nodes": []}

    before = await snapshot(db)
    sub, plan = mine["subscription"], mine["plan"]
    for query, payload in (
        (CHANGE, {"id": sub, "quantity": 3}),
        (PAUSE, {"id": sub}),
        (RESUME, {"id": sub}),
        (END, {"id": sub}),
        (UPDATE_PLAN, {"id": plan, "amount": 1}),
        (ARCHIVE_PLAN, {"id": plan}),
    ):
        result = await gql(query, {"input": payload}, token=other_tenant.staff_token)
        not_found_at(result, "id")
    assert await snapshot(db) == before


async def test_nothing_of_another_organization_can_be_attached(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    mine = await setup(gql, tenant)
    own_customer, _ = await make_customer(gql, other_tenant)
    own_plan = await make_plan(gql, other_tenant)
    own = await subscribe(gql, other_tenant, own_customer, own_plan["id"])
    own_sub = own["subscription"]["id"]
    before = await snapshot(db)

    attempts = [
        (CREATE, {"customerId": mine["customer"], "planId": own_plan["id"]}, "customerId"),
        (CREATE, {"customerId": own_customer, "planId": mine["plan"]}, "planId"),
        (
            CREATE,
            {"customerId": own_customer, "planId": own_plan["id"], "carId": mine["car"]},
            "carId",
        ),
        (CHANGE, {"id": own_sub, "planId": mine["plan"]}, "planId"),
        (CHANGE, {"id": own_sub, "carId": mine["car"]}, "carId"),
    ]
    for query, payload, field in attempts:
        if query is CREATE:
            payload = {"startDate": today().isoformat(), **payload}
        result = await gql(query, {"input": payload}, token=other_tenant.staff_token)
        not_found_at(result, field)
    assert await snapshot(db) == before


async def test_portal_viewers_see_their_own_subscriptions_only_and_change_none(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    mine = await setup(gql, tenant)
    theirs_customer, _ = await make_customer(gql, tenant, "Sam Other")
    other_plan = await make_plan(gql, tenant, name="Outdoor bay", amount=9_000)
    theirs = await subscribe(gql, tenant, theirs_customer, other_plan["id"], quantity=2)
    assert theirs["userErrors"] == []
    theirs_id = theirs["subscription"]["id"]

    session = await sign_in_by_invite(
        gql, db, smtp, tenant, mine["email"], customerId=mine["customer"]
    )
    data = await gql.data(PORTAL_BILLING, token=session)
    listed = data["viewer"]["customer"]["subscriptions"]
    assert listed["totalCount"] == 1
    [seen] = listed["nodes"]
    assert seen["id"] == mine["subscription"]
    assert seen["status"] == "ACTIVE" and seen["nextBillDate"] == today().isoformat()
    assert seen["unitPrice"] == {"amount": 25_000, "currency": "USD"}
    assert seen["plan"] == {"id": mine["plan"], "name": "Indoor storage"}

    # Another customer's subscription, and a plan only they are on: like missing ones.
    missing = await gql(NODE, {"id": encode_id("BillingSubscription", uuid.uuid4())}, token=session)
    for gid in (theirs_id, other_plan["id"]):
        hidden = await gql(NODE, {"id": gid}, token=session)
        assert error_codes(hidden) == ["NOT_FOUND"]
        assert hidden["errors"][0]["message"] == missing["errors"][0]["message"]
    own_plan = await gql.data(NODE, {"id": mine["plan"]}, token=session)
    assert own_plan["node"]["name"] == "Indoor storage"
    assert error_codes(await gql(PLANS, token=session)) == ["FORBIDDEN"]

    before = await snapshot(db)
    for query, payload in (
        (CHANGE, {"id": mine["subscription"], "quantity": 5}),
        (PAUSE, {"id": mine["subscription"]}),
        (END, {"id": mine["subscription"]}),
        (
            CREATE,
            {"customerId": mine["customer"], "planId": mine["plan"], "startDate": "2030-01-01"},
        ),
        (CREATE_PLAN, {"name": "Free", "amount": 0}),
        (UPDATE_PLAN, {"id": mine["plan"], "amount": 1}),
    ):
        refused = await gql(query, {"input": payload}, token=session)
        assert error_codes(refused) == ["FORBIDDEN"], refused
    assert await snapshot(db) == before


async def test_portal_subscriptions_follow_the_billing_section_and_contact_scope(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    mine = await setup(gql, tenant)
    bookkeeper, bookkeeper_email = await make_contact(
        gql, tenant, mine["customer"], portalScope="BILLING"
    )
    driver, driver_email = await make_contact(gql, tenant, mine["customer"], portalScope="CARS")
    billing = await sign_in_by_invite(gql, db, smtp, tenant, bookkeeper_email, contactId=bookkeeper)
    seen = await gql.data(PORTAL_BILLING, token=billing)
    assert [n["id"] for n in seen["viewer"]["customer"]["subscriptions"]["nodes"]] == [
        mine["subscription"]
    ]
    # A driver's access covers cars, not billing: no subscription, nor the plan behind it.
    cars_only = await sign_in_by_invite(gql, db, smtp, tenant, driver_email, contactId=driver)
    driven = await gql(PORTAL_BILLING, token=cars_only)
    listed = (driven["data"]["viewer"]["customer"] or {}).get("subscriptions")
    assert listed is None or listed["nodes"] == []
    for gid in (mine["subscription"], mine["plan"]):
        assert error_codes(await gql(NODE, {"id": gid}, token=cars_only)) == ["NOT_FOUND"]

    # The business switches the billing section off: the customer sees none either.
    session = await sign_in_by_invite(
        gql, db, smtp, tenant, mine["email"], customerId=mine["customer"]
    )
    async with db.write() as write:
        await write.execute(
            sa.update(PortalSettings)
            .where(PortalSettings.organization_id == tenant.organization_id)
            .values(show_invoices=False)
        )
    closed = await gql(PORTAL_BILLING, token=session)
    assert closed["data"]["viewer"]["customer"]["subscriptions"] is None
    assert error_codes(closed) == ["SECTION_DISABLED"]
    for gid in (mine["subscription"], mine["plan"]):
        assert error_codes(await gql(NODE, {"id": gid}, token=session)) == ["NOT_FOUND"]


async def test_anonymous_callers_get_nothing(gql: GraphQLClient, db: Database, tenant: Tenant):
    mine = await setup(gql, tenant)
    before = await snapshot(db)
    for gid in (mine["subscription"], mine["plan"]):
        found = await gql(NODE, {"id": gid})
        assert found["data"] is None or found["data"]["node"] is None
    assert (await gql(PLANS))["data"] is None
    refused = await gql(PAUSE, {"input": {"id": mine["subscription"]}})
    assert refused["data"] is None and refused["errors"]
    assert await snapshot(db) == before


# --- staff ------------------------------------------------------------------------------


async def test_plans_are_created_changed_and_archived(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    plan = await make_plan(
        gql, tenant, name="Winter storage", amount=60_000, taxRate="8.25", interval="QUARTERLY"
    )
    assert plan["amount"] == {"amount": 60_000, "currency": "USD"}
    assert plan["taxRate"] == "8.25" and plan["timing"] == "IN_ADVANCE"
    assert (plan["interval"], plan["intervalMonths"]) == ("QUARTERLY", 3)
    custom = await make_plan(
        gql,
        tenant,
        name="Bi-monthly wash",
        amount=5_000,
        interval=None,
        intervalMonths=2,
        timing="IN_ARREARS",
        currency="eur",
    )
    assert (custom["interval"], custom["intervalMonths"]) == (None, 2)
    assert custom["amount"]["currency"] == "EUR" and custom["timing"] == "IN_ARREARS"

    changed = await gql.data(
        UPDATE_PLAN,
        {"input": {"id": plan["id"], "amount": 65_000, "intervalMonths": 12}},
        token=tenant.staff_token,
    )
    updated = changed["updateBillingPlan"]["billingPlan"]
    assert updated["amount"]["amount"] == 65_000 and updated["interval"] == "YEARLY"
    assert updated["name"] == "Winter storage"

    archived = await gql.data(ARCHIVE_PLAN, {"input": {"id": plan["id"]}}, token=tenant.staff_token)
    assert archived["archiveBillingPlan"]["billingPlan"]["archivedAt"]
    listed = await gql.data(PLANS, token=tenant.staff_token)
    assert [p["name"] for p in listed["billingPlans"]["nodes"]] == ["Bi-monthly wash"]
    # An archived plan takes no new subscriptions.
    customer_id, _ = await make_customer(gql, tenant)
    refused = await subscribe(gql, tenant, customer_id, plan["id"])
    assert user_errors(refused) == [(["input", "planId"], "PLAN_ARCHIVED")]
    assert await audit_actions(db, plan["id"]) == [
        "billing_plan.created",
        "billing_plan.updated",
        "billing_plan.archived",
    ]


async def test_bad_plans_change_nothing(gql: GraphQLClient, db: Database, tenant: Tenant):
    plan = await make_plan(gql, tenant)
    before = await snapshot(db)
    cases = [
        (CREATE_PLAN, {"name": "X", "amount": -1}, [(["input", "amount"], "NEGATIVE_AMOUNT")]),
        (
            CREATE_PLAN,
            {"name": "X", "amount": 1, "intervalMonths": 0},
            [(["input", "intervalMonths"], "NOT_POSITIVE")],
        ),
        (
            CREATE_PLAN,
            {"name": "X", "amount": 1, "interval": "YEARLY", "intervalMonths": 3},
            [(["input", "intervalMonths"], "INTERVAL_MISMATCH")],
        ),
        (CREATE_PLAN, {"name": " ", "amount": 1}, [(["input", "name"], "REQUIRED")]),
        (
            UPDATE_PLAN,
            {"id": plan["id"], "amount": -5, "taxRate": "101"},
            [(["input", "taxRate"], "INVALID"), (["input", "amount"], "NEGATIVE_AMOUNT")],
        ),
    ]
    for query, payload, expected in cases:
        data = await gql.data(query, {"input": payload}, token=tenant.staff_token)
        [result] = data.values()
        assert sorted(user_errors(result)) == sorted(expected), result
    assert await snapshot(db) == before


async def test_subscriptions_are_created_changed_paused_resumed_and_ended(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "356")
    plan = await make_plan(gql, tenant, amount=30_000, interval="QUARTERLY")
    other_plan = await make_plan(gql, tenant, name="Premium bay", amount=40_000)
    start = today() - timedelta(days=40)
    created = await subscribe(
        gql,
        tenant,
        customer_id,
        plan["id"],
        startDate=start.isoformat(),
        anchorDay=31,
        quantity=2,
        carId=car_id,
        storageLabel=" B-14 ",
        autopay=True,
    )
    assert created["userErrors"] == []
    sub = created["subscription"]
    assert sub["status"] == "ACTIVE" and sub["quantity"] == 2 and sub["autopay"] is True
    assert sub["storageLabel"] == "B-14" and sub["anchorDay"] == 31
    assert sub["paymentTermsDays"] == 14  # the organization's invoice terms
    assert sub["unitPrice"] == {"amount": 30_000, "currency": "USD"}
    assert sub["customUnitPrice"] is None
    assert sub["car"] == {"id": car_id} and sub["customer"] == {"id": customer_id}
    expected = next_bill_date(today(), start, 31, 3, BillingTiming.IN_ADVANCE)
    assert sub["nextBillDate"] == expected.isoformat()

    changed = await gql.data(
        CHANGE,
        {"input": {"id": sub["id"], "unitPrice": 27_500, "quantity": 1, "carId": None}},
        token=tenant.staff_token,
    )
    after = changed["changeSubscription"]["subscription"]
    assert after["unitPrice"]["amount"] == 27_500 and after["customUnitPrice"]["amount"] == 27_500
    assert after["quantity"] == 1 and after["car"] is None
    moved = await gql.data(
        CHANGE,
        {"input": {"id": sub["id"], "planId": other_plan["id"], "unitPrice": None}},
        token=tenant.staff_token,
    )
    after = moved["changeSubscription"]["subscription"]
    assert after["plan"]["id"] == other_plan["id"] and after["unitPrice"]["amount"] == 40_000
    # Monthly now: the next bill follows the new plan's interval.
    monthly = next_bill_date(today(), start, 31, 1, BillingTiming.IN_ADVANCE)
    assert after["nextBillDate"] == monthly.isoformat()

    paused = await gql.data(PAUSE, {"input": {"id": sub["id"]}}, token=tenant.staff_token)
    paused = paused["pauseSubscription"]["subscription"]
    assert paused["status"] == "PAUSED" and paused["pausedAt"] and paused["nextBillDate"] is None
    again = await gql.data(PAUSE, {"input": {"id": sub["id"]}}, token=tenant.staff_token)
    assert user_errors(again["pauseSubscription"]) == [(["input", "id"], "ALREADY_PAUSED")]
    resumed = await gql.data(RESUME, {"input": {"id": sub["id"]}}, token=tenant.staff_token)
    resumed = resumed["resumeSubscription"]["subscription"]
    assert resumed["status"] == "ACTIVE" and resumed["pausedAt"] is None
    not_paused = await gql.data(RESUME, {"input": {"id": sub["id"]}}, token=tenant.staff_token)
    assert user_errors(not_paused["resumeSubscription"]) == [(["input", "id"], "NOT_PAUSED")]

    # At the end of the period running today.
    ended = await gql.data(END, {"input": {"id": sub["id"]}}, token=tenant.staff_token)
    ended = ended["endSubscription"]["subscription"]
    assert ended["endDate"] == monthly.isoformat() and ended["status"] == "ACTIVE"
    # On a given day: today ends it now.
    now_ended = await gql.data(
        END, {"input": {"id": sub["id"], "endDate": today().isoformat()}}, token=tenant.staff_token
    )
    done = now_ended["endSubscription"]["subscription"]
    assert done["status"] == "ENDED" and done["endDate"] == today().isoformat()
    late = await gql.data(
        CHANGE, {"input": {"id": sub["id"], "quantity": 4}}, token=tenant.staff_token
    )
    assert user_errors(late["changeSubscription"]) == [(["input", "id"], "ALREADY_ENDED")]

    assert await audit_actions(db, sub["id"]) == [
        "subscription.created",
        "subscription.changed",
        "subscription.changed",
        "subscription.paused",
        "subscription.resumed",
        "subscription.ended",
        "subscription.ended",
    ]
    audit = await gql.data(
        '{ auditEvents(action: "subscription.changed") { nodes { data subjectType } } }',
        token=tenant.owner_token,
    )
    newest = audit["auditEvents"]["nodes"][0]
    assert newest["subjectType"] == "BillingSubscription"
    assert newest["data"]["changes"]["plan_id"] == [plan["id"], other_plan["id"]]
    assert newest["data"]["changes"]["custom_unit_price"] == [27_500, None]


async def test_bad_subscriptions_change_nothing(gql: GraphQLClient, db: Database, tenant: Tenant):
    mine = await setup(gql, tenant)
    someone_else, _ = await make_customer(gql, tenant, "Pat Else")
    their_car = await make_car(gql, tenant, someone_else, "Cayenne")
    before = await snapshot(db)
    start = today().isoformat()
    cases = [
        (
            CREATE,
            {
                "customerId": mine["customer"],
                "planId": mine["plan"],
                "startDate": start,
                "quantity": 0,
            },
            [(["input", "quantity"], "NOT_POSITIVE")],
        ),
        (
            CREATE,
            {
                "customerId": mine["customer"],
                "planId": mine["plan"],
                "startDate": start,
                "unitPrice": -100,
            },
            [(["input", "unitPrice"], "NEGATIVE_AMOUNT")],
        ),
        (
            CREATE,
            {
                "customerId": mine["customer"],
                "planId": mine["plan"],
                "startDate": start,
                "carId": their_car,
            },
            [(["input", "carId"], "NOT_THEIR_CAR")],
        ),
        (
            CREATE,
            {
                "customerId": mine["customer"],
                "planId": mine["plan"],
                "startDate": start,
                "endDate": (today() - timedelta(days=1)).isoformat(),
                "anchorDay": 32,
            },
            [(["input", "endDate"], "ENDS_BEFORE_START"), (["input", "anchorDay"], "INVALID")],
        ),
        (
            CHANGE,
            {"id": mine["subscription"], "quantity": 0, "unitPrice": -1},
            [(["input", "quantity"], "NOT_POSITIVE"), (["input", "unitPrice"], "NEGATIVE_AMOUNT")],
        ),
        (
            CHANGE,
            {"id": mine["subscription"], "carId": their_car},
            [(["input", "carId"], "NOT_THEIR_CAR")],
        ),
        (
            END,
            {"id": mine["subscription"], "endDate": (today() - timedelta(days=3)).isoformat()},
            [(["input", "endDate"], "ENDS_BEFORE_START")],
        ),
    ]
    for query, payload, expected in cases:
        data = await gql.data(query, {"input": payload}, token=tenant.staff_token)
        [result] = data.values()
        assert sorted(user_errors(result)) == sorted(expected), result
        assert result["subscription"] is None
    assert await snapshot(db) == before


async def test_status_is_its_python_form_around_the_end_date(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    """models/derived.py subscription_status against domain `status_of`, on the
    organization's day, for ends before, on and after today, paused or not."""
    customer_id, _ = await make_customer(gql, tenant)
    plan = await make_plan(gql, tenant)
    ids = []
    for offset in (-1, 0, 1, None):
        for paused in (False, True):
            start = today() - timedelta(days=30)
            end = None if offset is None else (today() + timedelta(days=offset)).isoformat()
            created = await subscribe(
                gql, tenant, customer_id, plan["id"], startDate=start.isoformat(), endDate=end
            )
            gid = created["subscription"]["id"]
            if paused:
                async with db.write() as session:
                    row = await session.get(BillingSubscription, decode_id(gid)[1])
                    assert row is not None
                    row.paused_at = datetime.now(UTC)
            ids.append(gid)
    for gid in ids:
        shown = (await gql.data(NODE, {"id": gid}, token=tenant.staff_token))["node"]["status"]
        async with db.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(BillingSubscription).where(
                        BillingSubscription.id == decode_id(gid)[1]
                    )
                )
            ).one()
        assert shown == status_of(row, today()).value  # type: ignore[arg-type]


# --- batching ---------------------------------------------------------------------------

NESTED = """
query Nested($first: Int!) {
  customers(first: $first) {
    nodes {
      id
      subscriptions(first: 5) {
        totalCount
        nodes {
          id status nextBillDate unitPrice { amount }
          plan { id name amount { amount } }
          car { id make subscriptions(first: 5) { nodes { id } } }
        }
      }
    }
  }
  billingPlans(first: 50) { nodes { id subscriptions(first: 5) { nodes { id } } } }
}
"""


async def _seed(db: Database, organization_id: uuid.UUID, count: int) -> None:
    plans = [
        BillingPlan(
            organization_id=organization_id,
            name=f"Plan {i}",
            amount=1000 * (i + 1),
            currency="USD",
            interval_months=i + 1,
        )
        for i in range(3)
    ]
    rows: list[Any] = [*plans]
    start = today() - timedelta(days=45)
    for i in range(count):
        customer = Customer(organization_id=organization_id, name=f"Subscriber {i:04d}")
        car = Car(
            organization_id=organization_id, customer_id=customer.id, make="Porsche", model="911"
        )
        rows += [customer, car]
        for j in range(2):
            rows.append(
                BillingSubscription(
                    organization_id=organization_id,
                    customer_id=customer.id,
                    plan_id=plans[(i + j) % 3].id,
                    car_id=car.id if j == 0 else None,
                    currency="USD",
                    start_date=start,
                    anchor_day=start.day,
                    custom_unit_price=500 if j else None,
                )
            )
    async with db.write() as session:
        await add_in_order(session, rows)


async def _statements(db: Database, gql: GraphQLClient, count_statements, size: int):
    tenant = await make_tenant(db, gql)
    await _seed(db, tenant.organization_id, size)
    count_statements.statements.clear()
    data = await gql.data(NESTED, {"first": size}, token=tenant.staff_token)
    customers = data["customers"]["nodes"]
    assert len(customers) == size
    first = customers[0]["subscriptions"]
    assert first["totalCount"] == 2 and all(n["plan"]["name"] for n in first["nodes"])
    assert all(n["nextBillDate"] for n in first["nodes"])
    return count_statements.count, list(count_statements.statements)


async def test_statements_do_not_grow_with_subscriptions(
    db: Database, gql: GraphQLClient, count_statements
):
    small, _ = await _statements(db, gql, count_statements, 4)
    large, statements = await _statements(db, gql, count_statements, 30)
    assert small == large, statements
