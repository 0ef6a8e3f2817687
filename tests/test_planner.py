"""Planned reads answer exactly what the executor answers, in one SQL statement.

Every query runs twice against the same data: through an app that plans reads and through
one that never does. The JSON must be identical, for staff and for portal viewers of
every scope; the planned answer must cost one statement, on PostgreSQL and on SQLite
(where a few fields send the query to the executor: NOT_PLANNED_ON_SQLITE).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from auth.downloads import CAR_PHOTO, DOCUMENT, ESTIMATE_PDF, INVOICE_PDF, read_download_token
from auth.sessions import start_session
from bench.baseline import first_difference
from bench.queries import DASHBOARD, DEEP_PAGE, STAFF_DETAIL, STAFF_LIST
from core.ids import encode_id
from demo.seed import load_demo
from models import (
    AccessLog,
    AuditEvent,
    AuthSession,
    Contact,
    Customer,
    Organization,
    PortalSettings,
    StaffUser,
)
from models.db import Database
from models.enums import ActorKind, PortalScope, SessionKind, StaffRole
from planner import extension
from planner.coverage import unplannable_fields
from portico.app import create_app
from schema.node import ROW_TYPES
from schema.root import build_schema

EXTRA = [
    """{ invoices(first: 7, status: [OPEN, PARTIALLY_PAID]) { totalCount
          pageInfo { hasNextPage endCursor }
          nodes { number status dueDate isOverdue amountDue { amount } customer { name } } }
        estimates(first: 4) { nodes { number version status car { make } } } }""",
    """{ viewer { __typename kind organization { id name slug timezone paymentsEnabled }
                  staffUser { id email role } customer { id } } }""",
    """query { a: customers(first: 3) { edges { cursor node { __typename id ...Who } }
                 pageInfo { startCursor endCursor hasNextPage hasPreviousPage } }
               b: cars(first: 5, search: "porsche") { totalCount nodes { make owner { name } } } }
       fragment Who on Customer { name email portalStatus createdAt }""",
    """{ viewer { customer { ... on Customer { name } cars(first: 2) { totalCount
          edges { cursor node { id vin events(first: 2) { totalCount pageInfo { endCursor }
          nodes { kind data occurredAt } } } } } } } }""",
    """{ viewer { customer { invoices(first: 50) { nodes { number status issueDate
          subtotal { amount } taxTotal { currency amount } amountPaid { amount }
          payments(first: 5) { nodes { method status amount { amount } receivedAt } } } } } } }""",
    """{ viewer { customer { pastAppointments(first: 3) { totalCount pageInfo { endCursor }
          nodes { title status startsAt requestedAt cancelledAt car { make } } }
          upcomingAppointments(first: 3) { nodes { title kind requestedBy { name } } } } } }""",
    """{ customers(first: 40) { nodes { name subscriptions(first: 3) { totalCount nodes {
          id status quantity storageLabel startDate endDate anchorDay autopay pausedAt
          paymentTermsDays unitPrice { amount currency } customUnitPrice { amount }
          plan { name amount { amount currency } taxRate interval intervalMonths timing
                 archivedAt }
          car { make subscriptions { totalCount } } } } } } }""",
    """{ viewer { customer { subscriptions(first: 5) { totalCount nodes { status quantity
          unitPrice { amount currency } plan { name interval taxRate timing } } } } } }""",
    # Balances: the loaders' and the planner's expressions (models/derived.py).
    """{ customers(first: 40) { nodes { name balance { __typename owed { amount currency }
          overdue { amount currency } credit { amount } } } } }""",
    """{ viewer { customer { name balance { owed { amount currency } overdue { amount }
          credit { currency amount } } } } }""",
]


# Variables the request leaves out take their declared defaults; floats that are whole
# numbers are Ints; an explicit null is a null (issue 15 item 4).
WITH_DEFAULTS = """query Page($n: Int = 29, $search: String = "a") {
  customers(first: $n, search: $search) { totalCount pageInfo { hasNextPage endCursor }
    nodes { name cars(first: 2) { totalCount } } } }"""
PORTAL_WITH_DEFAULTS = """query Mine($cars: Int = 2, $events: Int = 3) { viewer { customer {
  cars(first: $cars) { totalCount nodes { make events(first: $events) { nodes { kind } } } }
} } }"""
# @include and @skip are decided with the variables while planning.
DIRECTIVES = """query D($full: Boolean!, $lean: Boolean = false) {
  customers(first: 3) { nodes { name email @include(if: $full) phone @skip(if: $lean)
    cars(first: 1) @include(if: $full) { totalCount }
    ... on Customer @skip(if: $lean) { city } } } }"""
# Root lists with filters bound as parameters: a week of appointments, the audit trail.
APPOINTMENTS = """query Week($from: DateTime, $to: DateTime, $status: [AppointmentStatus!]) {
  appointments(startsAfter: $from, startsBefore: $to, status: $status, first: 50) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id title kind status startsAt endsAt notes internalNotes requestedAt
      customer { name } car { make model } requestedBy { name } } } }"""
AUDIT = """query Trail($action: String, $customer: ID, $after: String) {
  auditEvents(action: $action, customerId: $customer, first: 10, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id action actorKind subjectType data createdAt
      actorStaff { email } actorContact { name } customer { name } } } } }"""
STAFF_USERS = """query Staff($status: StaffStatus, $after: String) {
  staffUsers(status: $status, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name email role status isActive lastSignInAt createdAt } } }"""
EMAILS = """query Emails($state: DeliveryState, $kind: MailKind, $recipient: String,
    $channel: Channel) {
  emailDeliveries(state: $state, kind: $kind, recipient: $recipient, channel: $channel,
      first: 3) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id channel toAddress kind subject state attempts lastError createdAt sentAt } } }"""
INBOX = """query Inbox($unread: Boolean = false, $first: Int = 20) {
  conversations(unreadOnly: $unread, first: $first) { totalCount
    pageInfo { hasNextPage endCursor }
    nodes { __typename unreadCount customer { id name email }
      latestMessage { id body authorKind createdAt readByStaffAt } } } }"""
DECISIONS = """{ estimates(first: 50) { nodes { number version status decision {
  __typename version decision reason decidedAt approvedLines declinedLines
  approvedTotal { amount currency } deposit { amount currency } contact { name } } } } }"""
SUBSCRIPTIONS = """{ customers(first: 60) { nodes { name subscriptions(first: 5) {
  nodes { status nextBillDate quantity unitPrice { amount currency } plan { name interval }
    car { make } } } } } }"""
PORTAL_SUBSCRIPTIONS = """{ viewer { customer { subscriptions(first: 5) {
  nodes { status nextBillDate unitPrice { amount } plan { name } } } } } }"""
SCHEDULES = """{ cars(first: 60) { nodes { make mileage maintenanceSchedules {
  __typename name everyMonths everyMiles lastDoneOn lastDoneMileage nextDueOn nextDueMileage
  isDue } } } }"""
SCHEDULES_PORTAL = """{ viewer { customer { cars(first: 5) { nodes { maintenanceSchedules {
  name nextDueOn nextDueMileage isDue } } } } } }"""
# Onboarding: the loaders' expressions (models/derived.py), over the demo's checklist.
ONBOARDING = """query O($filter: OnboardingFilter) { customers(first: 60, onboarding: $filter) {
  totalCount nodes { name onboarding { __typename completed total isComplete
    steps { __typename kind title done } } } } }"""
ONBOARDING_PORTAL = """{ viewer { customer { onboarding { isComplete completed
  steps { kind done } } } } }"""
ONBOARDING_STEPS = "{ organization { onboardingSteps { __typename kind title contractKind } } }"
# Connection fields without `first` (graphql-core gives None for a field's absent arguments).
WITHOUT_FIRST = [
    "{ customers { totalCount nodes { name cars { totalCount nodes { make } } } } }",
    "{ viewer { customer { cars { nodes { make events { totalCount } } }"
    " invoices { totalCount } } } }",
]


async def _world(db: Database) -> dict[str, Any]:
    await load_demo(db.settings, reset=True)
    async with db.connect() as conn:
        org = (
            await conn.execute(sa.select(Organization.id).where(Organization.slug == "demo"))
        ).scalar_one()
        # The owner: the demo's team has an open invite and a deactivated account too.
        owner = (
            await conn.execute(
                sa.select(StaffUser.id).where(
                    StaffUser.organization_id == org, StaffUser.role == StaffRole.OWNER
                )
            )
        ).scalar_one()
        customers = (
            (
                await conn.execute(
                    sa.select(Customer.id)
                    .where(Customer.organization_id == org)
                    .order_by(Customer.name)
                )
            )
            .scalars()
            .all()
        )
        contacts = (
            await conn.execute(
                sa.select(Contact.id, Contact.customer_id, Contact.portal_scope)
                .where(Contact.organization_id == org, Contact.can_access_portal.is_(True))
                .order_by(Contact.name)
            )
        ).all()
    tokens: list[str] = []
    async with db.write() as session:
        # An audit trail to list: staff and a contact acting about two customers.
        for n, customer_id in enumerate(customers[:2] * 3):
            session.add(
                AuditEvent(
                    organization_id=org,
                    action="customer.update" if n % 2 else "portal.sign_in",
                    actor_kind=ActorKind.STAFF if n % 2 else ActorKind.CONTACT,
                    actor_staff_id=owner if n % 2 else None,
                    actor_contact_id=None if n % 2 else contacts[0][0],
                    customer_id=customer_id,
                    subject_type="Customer",
                    subject_id=customer_id,
                    data={"n": n, "fields": ["phone"]},
                )
            )
        staff = await start_session(
            session, kind=SessionKind.STAFF, organization_id=org, staff_user_id=owner
        )
        tokens.append(staff.token)
        for customer_id in customers[:6]:
            issued = await start_session(
                session, kind=SessionKind.PORTAL, organization_id=org, customer_id=customer_id
            )
            tokens.append(issued.token)
        for scope in PortalScope:
            for contact_id, customer_id, contact_scope in contacts:
                if contact_scope is scope:
                    issued = await start_session(
                        session,
                        kind=SessionKind.PORTAL,
                        organization_id=org,
                        customer_id=customer_id,
                        contact_id=contact_id,
                    )
                    tokens.append(issued.token)
                    break
    return {"staff": tokens[0], "portal": tokens[1:], "customers": customers, "org": org}


async def _post_raw(app: Any, query: str, variables: dict[str, Any], token: str) -> bytes:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    return response.content


async def _post(app: Any, query: str, variables: dict[str, Any], token: str) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
async def apps(db: Database) -> Any:
    world = await _world(db)
    planned = create_app(db=db, run_mail_worker=False, plan_reads=True)
    executed = create_app(db=db, run_mail_worker=False, plan_reads=False)
    return world, planned, executed


MOVING_IN = """{ organization { dataImports(first: 5) { totalCount nodes { id filename sizeBytes
  state rows customersCreated contactsCreated carsCreated errorCount mapping ignoredColumns
  createdAt importedBy { name } } }
  bulkInvites(first: 5) { nodes { id state filter total sent skipped cancelledAt finishedAt
    createdAt startedBy { email } items(first: 5) { nodes { id state reason doneAt
      customer { name } } } } } } }"""


def _cases(world: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    staff, portal = world["staff"], world["portal"]
    cases = [(DASHBOARD, {}, token) for token in portal]
    cases += [(PORTAL_SUBSCRIPTIONS, {}, token) for token in portal]
    cases += [(SCHEDULES_PORTAL, {}, token) for token in portal[:3]]
    cases += [(q, {}, token) for q in EXTRA for token in (staff, *portal[:2], portal[-1])]
    cases += [
        (STAFF_LIST, {}, staff),
        (STAFF_LIST, {"search": "a"}, staff),
        (STAFF_LIST, {"search": "morgan"}, staff),
        (DEEP_PAGE, {}, staff),
        # Nothing found: a count alone, and a count with an empty page.
        ('{ cars(search: "zz-nothing") { totalCount } }', {}, staff),
        (
            '{ customers(search: "zz-nothing") { totalCount pageInfo { hasNextPage } '
            "nodes { id } } }",
            {},
            staff,
        ),
    ]
    cases += [
        (WITH_DEFAULTS, {}, staff),
        (WITH_DEFAULTS, {"n": 7.0}, staff),
        (WITH_DEFAULTS, {"search": None}, staff),  # a null search: everyone, 29 of them
        (WITH_DEFAULTS, {"n": None}, staff),  # null for `first: Int! = 20`: an error
        (WITH_DEFAULTS, {"n": "many"}, staff),  # a variable error
        (WITH_DEFAULTS, {"n": 2.5}, staff),
        *((PORTAL_WITH_DEFAULTS, {}, token) for token in portal[:2]),
        (PORTAL_WITH_DEFAULTS, {"cars": 1.0, "events": None}, portal[0]),
        (WITHOUT_FIRST[0], {}, staff),
        (DIRECTIVES, {"full": True}, staff),
        (DIRECTIVES, {"full": False, "lean": True}, staff),
        (DIRECTIVES, {"full": "yes"}, staff),  # a variable error
        (
            "{ customers(first: 2) { nodes { name @skip(if: true) email @include(if: true) } } }",
            {},
            staff,
        ),
        *((WITHOUT_FIRST[1], {}, token) for token in (staff, *portal[:2])),
    ]
    cases += [
        (STAFF_DETAIL, {"id": encode_id("Customer", customer)}, staff)
        for customer in world["customers"][:8]
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    weeks = [(now + timedelta(days=7 * k), now + timedelta(days=7 * (k + 1))) for k in (-2, 0, 1)]
    cases += [(APPOINTMENTS, {"from": a.isoformat(), "to": b.isoformat()}, staff) for a, b in weeks]
    cases += [
        (APPOINTMENTS, {}, staff),
        (APPOINTMENTS, {"from": now.isoformat()}, staff),
        (APPOINTMENTS, {"to": now.isoformat(), "status": ["COMPLETED", "CANCELLED"]}, staff),
        (APPOINTMENTS, {"from": "not a time"}, staff),  # a variable error
        (
            '{ appointments(startsAfter: "2026-01-01T00:00:00Z", first: 3) '
            "{ nodes { title startsAt } } }",
            {},
            staff,
        ),
        (APPOINTMENTS, {}, world["portal"][0]),  # refused to the portal
        (AUDIT, {}, staff),
        (AUDIT, {"action": ""}, staff),  # "" is no filter, as the executor reads it
        (AUDIT, {"customer": encode_id("Customer", world["customers"][0])}, staff),
        (AUDIT, {"customer": encode_id("Customer", world["customers"][1])}, staff),
        (AUDIT, {"customer": encode_id("Car", world["customers"][1])}, staff),  # wrong type
        ('{ auditEvents(action: "customer.create") { totalCount nodes { action } } }', {}, staff),
        (
            "{ contracts(first: 5) { totalCount nodes { title kind status sentAt signedAt "
            "customer { name unreadMessageCountForStaff } car { make } } } }",
            {},
            staff,
        ),
        ("{ contracts(status: [SENT]) { totalCount nodes { title } } }", {}, staff),
        (STAFF_USERS, {}, staff),
        (STAFF_USERS, {"status": "ACTIVE"}, staff),
        (STAFF_USERS, {"status": "NOT_A_STATUS"}, staff),  # a variable error
        (STAFF_USERS, {}, world["portal"][0]),  # refused to the portal
        ("{ staffUsers { totalCount nodes { name role status } } }", {}, staff),
        (EMAILS, {}, staff),
        (EMAILS, {"state": "QUEUED"}, staff),
        (EMAILS, {"state": "DEAD", "kind": "SIGN_IN"}, staff),
        (EMAILS, {"kind": "SIGN_IN", "recipient": ""}, staff),  # "" is no filter
        (EMAILS, {"recipient": "NOBODY@nowhere.test"}, staff),
        (EMAILS, {"channel": "EMAIL"}, staff),
        (EMAILS, {"channel": "SMS", "state": "QUEUED"}, staff),
        (EMAILS, {"state": "NOT_A_STATE"}, staff),  # a variable error
        (EMAILS, {}, world["portal"][0]),  # refused to the portal
        (INBOX, {}, staff),
        (INBOX, {"unread": True}, staff),
        (INBOX, {"first": 2}, staff),
        (DECISIONS, {}, staff),
        (
            "query P($all: Boolean) { billingPlans(includeArchived: $all) { totalCount "
            "nodes { id name amount { amount currency } interval intervalMonths } } }",
            {"all": True},
            staff,
        ),
        ("{ billingPlans(first: 2) { pageInfo { hasNextPage } nodes { name } } }", {}, staff),
        (SUBSCRIPTIONS, {}, staff),
        (SCHEDULES, {}, staff),
        (
            "{ customers(first: 60) { nodes { contacts(first: 5) { nodes { name portalScope "
            "cars { make model } } } } } }",
            {},
            staff,
        ),
        ("{ organization { integrationKeys { id name prefix scope revokedAt } } }", {}, staff),
        (
            "{ organization { webhookEndpoints { id url eventTypes enabled secretPrefix "
            "deliveries(first: 3) { nodes { id eventType status attempts responseCode } } } } }",
            {},
            staff,
        ),
        (MOVING_IN, {}, staff),
        (MOVING_IN, {}, world["portal"][0]),  # refused to the portal
        (
            "{ organization { portalSettings { enabled showCars estimateDepositPercent } } }",
            {},
            staff,
        ),
        (
            "{ conversations(first: 5) { nodes { latestMessage { attachments { filename "
            "sizeBytes contentType } } } } }",
            {},
            staff,
        ),
        (
            "{ cars(first: 5) { nodes { telematicsReadings(first: 3) { nodes { engineHours } } "
            "documents(first: 3) { nodes { accessLog(first: 3) { nodes { subjectId action } } "
            "} } } } }",
            {},
            staff,
        ),
        (
            "{ customers(first: 30) { nodes { name unreadMessageCountForStaff } } }",
            {},
            staff,
        ),
        (ONBOARDING, {}, staff),
        *((ONBOARDING, {"filter": f}, staff) for f in ("COMPLETE", "INCOMPLETE")),
        *((ONBOARDING_PORTAL, {}, token) for token in portal),
        (ONBOARDING_STEPS, {}, staff),
    ]
    return cases


async def test_planned_answers_equal_executed_answers(apps: Any, dialect: str, count_statements):
    world, planned, executed = apps
    for query, variables, token in _cases(world):
        expected = await _post(executed, query, variables, token)
        if query in (INBOX, APPOINTMENTS, AUDIT, STAFF_USERS) and "errors" not in expected:
            (connection,) = expected["data"].values()
            assert connection["totalCount"] > 0, (query[:40], variables)  # not vacuous
        if query == EMAILS and not variables and "errors" not in expected:
            assert expected["data"]["emailDeliveries"]["totalCount"] > 0  # not vacuous
        if query == SUBSCRIPTIONS:
            dates = [
                sub["nextBillDate"]
                for customer in expected["data"]["customers"]["nodes"]
                for sub in customer["subscriptions"]["nodes"]
            ]
            assert None in dates and any(dates), dates  # paused or ended, and billed
        if query == SCHEDULES:
            due = [
                (schedule["isDue"], schedule["nextDueOn"], schedule["nextDueMileage"])
                for car in expected["data"]["cars"]["nodes"]
                for schedule in car["maintenanceSchedules"]
            ]
            assert {d[0] for d in due} == {True, False}, due  # not vacuous
            assert any(d[1] for d in due) and any(d[2] for d in due), due
        if query == ONBOARDING and not variables:
            shown = [c["onboarding"] for c in expected["data"]["customers"]["nodes"]]
            assert {o["isComplete"] for o in shown} == {True, False}, shown  # not vacuous
            assert {s["done"] for o in shown for s in o["steps"]} == {True, False}, shown
        if query == DECISIONS:
            decided = [e["decision"] for e in expected["data"]["estimates"]["nodes"]]
            assert any(d and d["approvedLines"] for d in decided), decided
        count_statements.statements.clear()
        answer = await _post(planned, query, variables, token)
        assert answer == expected, (query[:60], variables, first_difference(answer, expected))
        if "errors" not in expected and _planned_on(dialect, query):
            reads = [s for s in count_statements.statements if not _session_check(s)]
            reads = [s for s in reads if not s.startswith("SELECT contact_cars.car_id")]
            assert len(reads) == 1, [s[:60] for s in reads]  # the planned statement alone


def _session_check(statement: str) -> bool:
    """The session check on its own (not the planned statement that starts with it)."""
    return "FROM auth_sessions" in statement and not _planned_statement(statement)


def _planned_statement(statement: str) -> bool:
    return "json_build_object" in statement or "json_object(" in statement


# What SQLite's planner refuses, for the executor to answer (planner/sqlite_sql.py): none
# of these workloads today.
NOT_PLANNED_ON_SQLITE: tuple[str, ...] = ()


def _planned_on(dialect: str, query: str) -> bool:
    return dialect == "postgresql" or not any(part in query for part in NOT_PLANNED_ON_SQLITE)


async def test_a_page_after_a_cursor_is_planned_too(apps: Any):
    world, planned, executed = apps
    first = await _post(executed, DEEP_PAGE, {}, world["staff"])
    cursor = first["data"]["customers"]["pageInfo"]["endCursor"]
    expected = await _post(executed, DEEP_PAGE, {"after": cursor}, world["staff"])
    assert await _post(planned, DEEP_PAGE, {"after": cursor}, world["staff"]) == expected
    assert expected["data"]["customers"]["nodes"]


NESTED_PAGE = """query P($id: ID!, $after: String) { node(id: $id) { ... on Customer { name
  invoices(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { number } } } } }"""
# A nested cursor applies to every parent's rows, as the loaders apply it.
NESTED_UNDER_LIST = """query L($after: String) { customers(first: 4) { nodes { name
  invoices(first: 1, after: $after) { pageInfo { hasNextPage } nodes { number } } } } }"""


async def test_a_nested_page_after_a_cursor_is_planned_too(
    apps: Any, dialect: str, count_statements
):
    world, planned, executed = apps
    walked = 0
    for customer_id in world["customers"][:4]:
        variables: dict[str, Any] = {"id": encode_id("Customer", customer_id), "after": None}
        while True:
            expected = await _post(executed, NESTED_PAGE, variables, world["staff"])
            count_statements.statements.clear()
            answer = await _post(planned, NESTED_PAGE, variables, world["staff"])
            assert answer == expected, (variables, first_difference(answer, expected))
            if dialect == "postgresql":
                reads = [s for s in count_statements.statements if not _session_check(s)]
                assert len(reads) == 1, [s[:60] for s in reads]  # planned, not executed
            page = expected["data"]["node"]["invoices"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            variables = {**variables, "after": page["pageInfo"]["endCursor"]}
            walked += 1
        last = variables["after"]
        if last is not None:
            under_list = {"after": last}
            expected = await _post(executed, NESTED_UNDER_LIST, under_list, world["staff"])
            answer = await _post(planned, NESTED_UNDER_LIST, under_list, world["staff"])
            assert answer == expected, first_difference(answer, expected)
    assert walked > 0  # not vacuous: some customer has a second page


async def test_refusals_still_come_from_the_executor(apps: Any):
    world, planned, executed = apps
    portal = world["portal"][0]
    for query in (
        "{ customers { totalCount } }",
        "{ viewer { customer { internalNotes } } }",
        '{ node(id: "bm9uZQ") { id } }',
        "{ viewer { customer { cars(first: 500) { totalCount } } } }",
    ):
        assert await _post(planned, query, {}, portal) == await _post(executed, query, {}, portal)


async def test_repeated_queries_take_the_prepared_answer_with_the_same_answer(
    apps: Any, dialect: str, count_statements, caplog
):
    world, planned, executed = apps
    staff = world["staff"]
    cases = [
        (STAFF_LIST, {"search": "a"}),
        (DEEP_PAGE, {}),
        (STAFF_DETAIL, {"id": encode_id("Customer", world["customers"][1])}),
    ]
    viewers = [(case, staff) for case in cases]
    # Portal viewers too, contacts of every scope among them (list-valued car scopes).
    viewers += [((DASHBOARD, {}), token) for token in world["portal"][-3:]]
    for (query, variables), token in viewers:
        expected_raw = await _post_raw(executed, query, variables, token)
        expected = orjson.loads(expected_raw)
        await _post(planned, query, variables, token)  # plans it
        count_statements.statements.clear()
        raw = await _post_raw(planned, query, variables, token)  # the prepared path
        assert orjson.loads(raw) == expected
        if dialect == "sqlite":
            assert raw == expected_raw  # SQLite writes JSON as compactly as the executor
        if token == staff and _planned_on(dialect, query):
            # The session check and the plan in one statement, whose JSON is sent as the
            # database wrote it.
            (statement,) = count_statements.statements
            assert "FROM auth_sessions" in statement and _planned_statement(statement)
            assert (b'" : ' if dialect == "postgresql" else b'":') in raw
    assert "prepared planned answer failed" not in caplog.text


async def test_the_prepared_answer_rereads_the_session_with_every_answer(apps: Any, db: Database):
    """A token's last viewer only picks the plan: a section switched off since, or a
    session revoked since, is seen by the very next request."""
    world, planned, executed = apps
    org = world["org"]
    async with db.write() as session:
        issued = await start_session(
            session,
            kind=SessionKind.PORTAL,
            organization_id=org,
            customer_id=world["customers"][0],
        )
    token = issued.token
    before = await _post(executed, DASHBOARD, {}, token)
    assert before["data"]["viewer"]["customer"]["openInvoices"]
    for _ in range(2):  # the second takes the prepared path
        assert await _post(planned, DASHBOARD, {}, token) == before

    settings = PortalSettings.__table__
    show = sa.update(settings).where(settings.c.organization_id == org)
    async with db.write() as session:
        await session.execute(show.values(show_invoices=False))
    try:
        hidden = await _post(executed, DASHBOARD, {}, token)
        assert hidden != before
        assert await _post(planned, DASHBOARD, {}, token) == hidden
        assert await _post(planned, DASHBOARD, {}, token) == hidden
    finally:
        async with db.write() as session:
            await session.execute(show.values(show_invoices=True))
    assert await _post(planned, DASHBOARD, {}, token) == before

    async with db.write() as session:
        await session.execute(
            sa.update(AuthSession.__table__)
            .where(AuthSession.__table__.c.id == issued.session_id)
            .values(revoked_at=sa.func.now())
        )
    transport = httpx.ASGITransport(app=planned)
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        response = await client.post(
            "/graphql",
            json={"query": DASHBOARD},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["data"] is None


async def test_one_plan_serves_every_id_cursor_and_search_of_the_same_shape(
    apps: Any, dialect: str, count_statements
):
    """Variables that only fill parameters (a node's id, a cursor, a search) do not make a
    new plan: the values are bound per request, and the answers stay the executor's."""
    world, planned, executed = apps
    staff = world["staff"]
    customers = world["customers"]
    first_page = await _post(executed, DEEP_PAGE, {}, staff)
    cursors: list[str] = [first_page["data"]["customers"]["pageInfo"]["endCursor"]]
    for _ in range(3):
        page = await _post(executed, DEEP_PAGE, {"after": cursors[-1]}, staff)
        cursors.append(page["data"]["customers"]["pageInfo"]["endCursor"])
    rotating = [
        *((STAFF_DETAIL, {"id": encode_id("Customer", c)}) for c in customers[:10]),
        *((DEEP_PAGE, {"after": cursor}) for cursor in cursors),
        *((STAFF_LIST, {"search": word}) for word in ("a", "mor", "son", "e", "lee")),
        *((STAFF_LIST, {"search": f"{word} 2019"}) for word in ("a", "e")),
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    weeks = [
        (APPOINTMENTS, {"from": (now + timedelta(days=d)).isoformat(), "to": now.isoformat()})
        for d in range(-28, 0, 7)
    ]
    trails = [(AUDIT, {"customer": encode_id("Customer", c), "action": "x"}) for c in customers[:4]]
    for query, variables in rotating[:1] + rotating[10:11] + rotating[14:15] + rotating[19:20]:
        await _post(planned, query, variables, staff)  # one plan per shape
    for query, variables in (weeks[0], trails[0]):
        await _post(planned, query, variables, staff)
    rotating += weeks + trails
    # A query the planner refuses has no plan to share (the staff detail on SQLite).
    rotating = [(query, variables) for query, variables in rotating if _planned_on(dialect, query)]
    plans_before = len(extension._plans)
    for query, variables in rotating:
        expected = await _post(executed, query, variables, staff)
        count_statements.statements.clear()
        assert await _post(planned, query, variables, staff) == expected, variables
        if _planned_on(dialect, query):
            reads = [s for s in count_statements.statements if not _session_check(s)]
            assert len(reads) == 1, [s[:60] for s in reads]
    assert len(extension._plans) == plans_before  # no value made a plan of its own
    # A value that does not decode, or names another type, is the executor's to answer.
    for query, variables in (
        (STAFF_DETAIL, {"id": "not-an-id"}),
        (STAFF_DETAIL, {"id": encode_id("Car", customers[0])}),
        (DEEP_PAGE, {"after": "bm9wZQ"}),
    ):
        for _ in range(2):  # planned (or not), then the prepared path
            assert await _post(planned, query, variables, staff) == await _post(
                executed, query, variables, staff
            )


LITERAL_DETAIL = """{ node(id: "%s") { id ... on Customer { name email
  cars(first: 3) { totalCount nodes { make status } }
  invoices(first: 2) { nodes { number status } } } } }"""


async def test_literal_values_share_one_plan_with_the_executors_answers(
    apps: Any, count_statements
):
    """A client that writes ids and sizes into the text, a new text per customer: the
    values are lifted into variables (planner/literals.py), so one plan serves them all,
    first by way of the executor's path and then straight from the body."""
    world, planned, executed = apps
    staff = world["staff"]
    texts = [LITERAL_DETAIL % encode_id("Customer", c) for c in world["customers"][:8]]
    await _post(planned, texts[0], {}, staff)  # the shape's one plan
    plans_before = len(extension._plans)
    for text in texts:
        expected = await _post(executed, text, {}, staff)
        assert (expected.get("data") or {}).get("node"), expected  # not vacuous
        for _ in range(2):  # the executor's path with its extension, then the prepared path
            count_statements.statements.clear()
            assert await _post(planned, text, {}, staff) == expected
            reads = [s for s in count_statements.statements if not _session_check(s)]
            assert len(reads) == 1, [s[:60] for s in reads]
    assert len(extension._plans) == plans_before  # no literal made a plan of its own
    # What the executor refuses keeps its errors, at their places in the client's text.
    refused = [
        LITERAL_DETAIL % "not-an-id",
        LITERAL_DETAIL % encode_id("Car", world["customers"][0]),
        (LITERAL_DETAIL % encode_id("Customer", world["customers"][0])).replace(
            "first: 3", 'first: "3"'
        ),
        (LITERAL_DETAIL % encode_id("Customer", world["customers"][0])).replace(
            "first: 3", "first: 3000"
        ),
    ]
    for text in refused:
        expected = await _post(executed, text, {}, staff)
        assert expected.get("errors"), expected
        for _ in range(2):
            assert await _post(planned, text, {}, staff) == expected


# Fields a query may select that the planner has no SQL for: selecting one sends the whole
# query to the executor. A field added without its SQL joins this list and fails the test
# below; planning one of these removes it. Each line says why it is here.
NOT_PLANNED = {
    # A staff member's choice kept as the kinds not emailed, turned around in Python
    # (domain/staff/notification_emails.py); read on one's own settings page.
    "StaffUser.emailedNotificationKinds",
    # Root lists and look-ups not written as SQL yet (the executor's loaders batch them).
    "Query.events",
    "Query.nodes",
    # A preview computed from settings and a person's state in Python.
    "Query.portalInvitePreview",
    # A signed token checked in Python, and a view written to the access log.
    "Query.payLink",
    # Counts and answers of community events (models/attendance.py aggregates).
    "CommunityEvent.goingCount",
    "CommunityEvent.guestCount",
    "CommunityEvent.myRsvp",
    "CommunityEvent.notGoingCount",
    "CommunityEvent.spotsLeft",
    "EventRsvp.name",
    # Collections (staff only): the next step is worked out in Python from the schedule and
    # the reminders sent (domain/collections/rules.py); the loaders batch the rows.
    "Invoice.collection",
    # A statement's rows are computed in Python (domain/billing/statements.py) from its
    # ledger, loaded in four statements whatever its size.
    "Customer.statement",
    "Organization.collectionSettings",
    # The event's global id, encoded in Python: the delivery log is the OWNER's, read rarely.
    "WebhookDelivery.eventId",
    # An import's row errors, typed from the JSON kept with its record; the import history
    # is read by OWNERs and ADMINs now and then, one page at a time.
    "DataImport.errors",
}


def test_every_field_is_planned_or_listed_with_its_reason():
    schema = build_schema()._schema
    assert set(unplannable_fields(schema, ROW_TYPES)) == NOT_PLANNED


# Signed links: the statement marks them and the planner signs them after it returns.
LINKS_PORTAL = """{ viewer { customer { invoices(first: 5) { nodes { number pdfUrl } }
  cars(first: 3) { nodes { make documents(first: 5) { nodes { name downloadUrl } }
    photos(first: 3) { nodes { url } } jobs(first: 2) { nodes { photos(first: 2) {
      nodes { url } } } } } } } } }"""
LINKS_STAFF = """query L($id: ID!) { node(id: $id) { ... on Customer { name
  invoices(first: 5) { nodes { number pdfUrl } } estimates(first: 5) { nodes { pdfUrl } }
  cars(first: 3) { nodes { documents(first: 5) { nodes { name downloadUrl } }
    photos(first: 3) { nodes { url } } } } } } }"""


def _grants(value: Any, settings: Any, found: list[Any]) -> Any:
    """The answer with every link replaced by what it grants (its timestamp aside)."""
    if isinstance(value, dict):
        return {key: _grants(item, settings, found) for key, item in value.items()}
    if isinstance(value, list):
        return [_grants(item, settings, found) for item in value]
    prefix = f"{settings.public_url}/downloads/"
    if isinstance(value, str) and value.startswith(prefix):
        grant = read_download_token(settings, value.removeprefix(prefix))
        assert grant is not None, value
        found.append(grant)
        return ("link", grant.session_id.hex, grant.kind, grant.row_id.hex)
    return value


async def _views(db: Database) -> list[tuple[str, str, str]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(AccessLog.subject_type, AccessLog.subject_id, AccessLog.action)
        )
        return sorted((kind, str(row_id), str(action)) for kind, row_id, action in rows)


async def test_signed_links_are_planned_and_leave_the_executors_access_log(
    apps: Any, db: Database, dialect: str, count_statements
):
    world, planned, executed = apps
    customer = encode_id("Customer", world["customers"][0])
    cases = [(LINKS_PORTAL, {}, token) for token in world["portal"][:3]]
    cases += [
        (LINKS_STAFF, {"id": encode_id("Customer", c)}, world["staff"])
        for c in world["customers"][:6]
    ]
    kinds: set[str] = set()
    for query, variables, token in cases:
        before = await _views(db)
        expected = await _post(executed, query, variables, token)
        by_executor = Counter(await _views(db)) - Counter(before)
        for attempt in ("planned", "prepared"):
            before = await _views(db)
            count_statements.statements.clear()
            answer = await _post(planned, query, variables, token)
            statements = list(count_statements.statements)
            by_plan = Counter(await _views(db)) - Counter(before)
            found: list[Any] = []
            assert _grants(answer, db.settings, found) == _grants(expected, db.settings, []), (
                attempt,
                first_difference(answer, expected),
            )
            kinds |= {grant.kind for grant in found}
            # The same VIEWs, written by the access log's batch, not one per link.
            assert by_plan == by_executor, attempt
            if _planned_on(dialect, query):
                reads = [s for s in statements if not _session_check(s)]
                reads = [s for s in reads if not s.startswith("SELECT contact_cars.car_id")]
                reads = [s for s in reads if not s.startswith("INSERT INTO access_logs")]
                assert len(reads) == 1, [s[:60] for s in reads]
    # Not vacuous: every kind of link reachable here was made, and portal views were logged.
    assert kinds >= {INVOICE_PDF, ESTIMATE_PDF, DOCUMENT, CAR_PHOTO}, kinds
    assert any(action == "VIEW" for _, _, action in await _views(db)), customer
