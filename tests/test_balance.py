"""A customer's balance (Customer.balance), on SQLite and PostgreSQL.

What is owed is the sum of what is due on each issued invoice (not drafts, not void): its
total less what was paid towards it, net of refunds and of disputes lost; the overdue part
is what is due on invoices whose due date has passed in the organization's zone; credit is
zero (there is none in the data model yet). Only invoices in the organization's currency
count. The rule is computed here again in plain Python, from payments as generated, and
the API must agree: the executor, and on PostgreSQL the planner too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.sessions import start_session
from core.ids import decode_id, encode_id
from models import Contact, Customer, Invoice, Organization, Payment, PortalSettings
from models.db import Database
from models.enums import (
    DisputeStatus,
    InvoiceStatus,
    PaymentMethod,
    PaymentStatus,
    PortalScope,
    SessionKind,
)
from models.ledger import refund_status, settle
from models.writes import add_in_order
from portico.app import create_app
from tests.billing import (
    RECORD_PAYMENT,
    REFUND_PAYMENT,
    VOID_INVOICE,
    draft_invoice,
    open_invoice,
)
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.portal import make_customer

BALANCE = (
    "balance { owed { amount currency } overdue { amount currency } credit { amount currency } }"
)
STAFF_ONE = f"query B($id: ID!) {{ node(id: $id) {{ ... on Customer {{ name {BALANCE} }} }} }}"
STAFF_LIST = f"{{ customers(first: 50) {{ nodes {{ id name {BALANCE} }} }} }}"
PORTAL = f"{{ viewer {{ customer {{ id name {BALANCE} }} }} }}"
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "UTC"]


def balance(owed: int, overdue: int, currency: str = "USD") -> dict[str, Any]:
    return {
        "owed": {"amount": owed, "currency": currency},
        "overdue": {"amount": overdue, "currency": currency},
        "credit": {"amount": 0, "currency": currency},
    }


class Both:
    """Asks the executor-only app and the suite's app (planned on PostgreSQL) the same
    question and requires the same answer."""

    def __init__(self, db: Database, gql: GraphQLClient) -> None:
        self.gql = gql
        self.executed = create_app(db=db, run_mail_worker=False, plan_reads=False)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str
    ) -> dict[str, Any]:
        transport = httpx.ASGITransport(app=self.executed, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as c:
            executed = await GraphQLClient(c)(query, variables, token)
        answer = await self.gql(query, variables, token)
        assert answer == executed
        return answer


async def _portal_token(
    db: Database, tenant: Tenant, customer_id: uuid.UUID, contact_id: uuid.UUID | None = None
) -> str:
    async with db.write() as session:
        issued = await start_session(
            session,
            kind=SessionKind.PORTAL,
            organization_id=tenant.organization_id,
            customer_id=customer_id,
            contact_id=contact_id,
        )
    return issued.token


async def _set_due(db: Database, invoice_id: str, due: date | None) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(Invoice).where(Invoice.id == decode_id(invoice_id)[1]).values(due_date=due)
        )


async def _pay(gql: GraphQLClient, tenant: Tenant, invoice_id: str, amount: int) -> str:
    data = await gql.data(
        RECORD_PAYMENT,
        {"input": {"invoiceId": invoice_id, "amount": amount, "method": "CASH"}},
        token=tenant.staff_token,
    )
    assert data["recordPayment"]["userErrors"] == [], data
    return data["recordPayment"]["payment"]["id"]


def _lines(amount: int) -> list[dict[str, Any]]:
    return [{"description": "Work", "quantity": "1", "unitPrice": amount}]


# --- hand-computed ------------------------------------------------------------------


async def test_a_balance_worked_out_by_hand(db: Database, gql: GraphQLClient, tenant: Tenant):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant, "Alex Morgan")
    today = datetime.now(UTC).date()  # a new organization is on UTC

    overdue = await open_invoice(gql, tenant, customer, _lines(25000))  # 250.00 due, late
    await _set_due(db, overdue["id"], today - timedelta(days=1))
    partly = await open_invoice(gql, tenant, customer, _lines(10000))  # 100.00 due today
    await _set_due(db, partly["id"], today)
    payment = await _pay(gql, tenant, partly["id"], 6000)  # 60.00 paid ...
    refunded = await gql.data(
        REFUND_PAYMENT,
        {"input": {"paymentId": payment, "amount": 1000}},  # ... 10.00 of it given back
        token=tenant.staff_token,
    )
    assert refunded["refundPayment"]["userErrors"] == [], refunded
    assert refunded["refundPayment"]["payment"]["invoice"]["amountDue"] == {"amount": 5000}
    voided = await open_invoice(gql, tenant, customer, _lines(40000))
    await _set_due(db, voided["id"], today - timedelta(days=30))
    void = await gql.data(VOID_INVOICE, {"id": voided["id"]}, token=tenant.staff_token)
    assert void["voidInvoice"]["userErrors"] == []
    await draft_invoice(gql, tenant, customer, _lines(99900))  # not issued: owes nothing
    paid = await open_invoice(gql, tenant, customer, _lines(3000))
    await _set_due(db, paid["id"], today - timedelta(days=9))
    await _pay(gql, tenant, paid["id"], 3000)
    euros = await gql.data(
        """mutation C($input: CreateInvoiceInput!) {
             createInvoice(input: $input) { invoice { id currency } userErrors { code } } }""",
        {"input": {"customerId": customer, "lineItems": _lines(70000), "currency": "EUR"}},
        token=tenant.staff_token,
    )
    euro_invoice = euros["createInvoice"]["invoice"]
    assert euro_invoice["currency"] == "EUR"
    await gql.data(
        "mutation S($id: ID!) { sendInvoice(input: {id: $id}) { userErrors { code } } }",
        {"id": euro_invoice["id"]},
        token=tenant.staff_token,
    )
    await _set_due(db, euro_invoice["id"], today - timedelta(days=3))  # left out: EUR

    other, _ = await make_customer(gql, tenant, "Blake Other")
    await open_invoice(gql, tenant, other, _lines(1234))
    quiet, _ = await make_customer(gql, tenant, "Casey Quiet")  # no invoices at all

    expected = {
        customer: balance(25000 + 5000, 25000),
        other: balance(1234, 0),
        quiet: balance(0, 0),
    }
    for customer_id, value in expected.items():
        one = await both(STAFF_ONE, {"id": customer_id}, token=tenant.staff_token)
        assert one["data"]["node"]["balance"] == value
    listed = await both(STAFF_LIST, token=tenant.staff_token)
    assert {n["id"]: n["balance"] for n in listed["data"]["customers"]["nodes"]} == expected

    # The portal shows each customer their own balance, and nobody else's.
    for customer_id, value in expected.items():
        token = await _portal_token(db, tenant, decode_id(customer_id)[1])
        mine = await both(PORTAL, token=token)
        assert mine["data"]["viewer"]["customer"]["id"] == customer_id
        assert mine["data"]["viewer"]["customer"]["balance"] == value
        theirs = await both(STAFF_ONE, {"id": other}, token=token)
        if customer_id != other:
            assert (theirs.get("data") or {}).get("node") is None  # as if it did not exist
            assert "1234" not in str(theirs)


async def test_the_balance_follows_the_organization_currency_and_zone(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    """An organization billing in JPY sees its balance in JPY, its USD invoices left out;
    'overdue' reads the organization's day, not the UTC day."""
    now = datetime.now(UTC)
    zone = "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"
    local_today = now.astimezone(ZoneInfo(zone)).date()
    assert local_today != now.date()
    async with db.write() as session:
        await session.execute(
            sa.update(Organization)
            .where(Organization.id == tenant.organization_id)
            .values(currency="JPY", timezone=zone)
        )
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant)
    yen = await open_invoice(gql, tenant, customer, _lines(5000))
    assert yen["currency"] == "JPY"
    await _set_due(db, yen["id"], local_today - timedelta(days=1))  # late there
    edge = await open_invoice(gql, tenant, customer, _lines(700))
    await _set_due(db, edge["id"], local_today)  # due today there: not late yet
    dollars = await gql.data(
        """mutation C($input: CreateInvoiceInput!) {
             createInvoice(input: $input) { invoice { id } userErrors { code } } }""",
        {"input": {"customerId": customer, "lineItems": _lines(999), "currency": "USD"}},
        token=tenant.staff_token,
    )
    await gql.data(
        "mutation S($id: ID!) { sendInvoice(input: {id: $id}) { userErrors { code } } }",
        {"id": dollars["createInvoice"]["invoice"]["id"]},
        token=tenant.staff_token,
    )
    one = await both(STAFF_ONE, {"id": customer}, token=tenant.staff_token)
    assert one["data"]["node"]["balance"] == balance(5700, 5000, "JPY")


async def test_a_portal_without_its_invoices_section_answers_the_rest(
    db: Database, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant
):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant, "Alex Morgan")
    await open_invoice(gql, tenant, customer, _lines(4200))
    token = await _portal_token(db, tenant, decode_id(customer)[1])
    assert (await both(PORTAL, token=token))["data"]["viewer"]["customer"]["balance"] == balance(
        4200, 0
    )
    settings_table = PortalSettings.__table__
    async with db.write() as session:
        await session.execute(
            sa.update(settings_table)
            .where(settings_table.c.organization_id == tenant.organization_id)
            .values(show_invoices=False)
        )
    hidden = await both(PORTAL, token=token)
    assert error_codes(hidden) == ["SECTION_DISABLED"]
    assert hidden["errors"][0]["path"] == ["viewer", "customer", "balance"]
    assert hidden["data"]["viewer"]["customer"]["name"] == "Alex Morgan"
    assert hidden["data"]["viewer"]["customer"]["balance"] is None
    # Contacts: a bookkeeper (billing scope) sees the balance, a driver (cars scope), who
    # sees none of the invoices, is told the section is not open to them.
    async with db.write() as session:
        contacts = {
            scope: Contact(
                organization_id=tenant.organization_id,
                customer_id=decode_id(customer)[1],
                name=f"{scope.value.title()} contact",
                can_access_portal=True,
                portal_scope=scope,
            )
            for scope in (PortalScope.BILLING, PortalScope.CARS)
        }
        await add_in_order(session, list(contacts.values()))
        await session.execute(
            sa.update(settings_table)
            .where(settings_table.c.organization_id == tenant.organization_id)
            .values(show_invoices=True)
        )
    customer_row = decode_id(customer)[1]
    bookkeeper = await _portal_token(db, tenant, customer_row, contacts[PortalScope.BILLING].id)
    billing = await both(PORTAL, token=bookkeeper)
    assert billing["data"]["viewer"]["customer"]["balance"] == balance(4200, 0)
    driver = await _portal_token(db, tenant, customer_row, contacts[PortalScope.CARS].id)
    cars = await both(PORTAL, token=driver)
    assert error_codes(cars) == ["SECTION_DISABLED"]
    assert cars["data"]["viewer"]["customer"]["balance"] is None
    assert cars["data"]["viewer"]["customer"]["name"] == "Alex Morgan"
    # Staff of another organization do not see the customer at all.
    stranger = await both(STAFF_ONE, {"id": customer}, token=other_tenant.staff_token)
    assert error_codes(stranger) == ["NOT_FOUND"] and stranger["data"] is None
    assert "4200" not in str(stranger)


# --- generated invoices and payments against the plain-Python model -----------------

RECEIVED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
ISSUED = "ISSUED"  # sent: OPEN, PARTIALLY_PAID or PAID as the money decides


@dataclass
class GeneratedPayment:
    status: PaymentStatus  # PENDING, FAILED or SUCCEEDED (then refunds decide)
    amount: int
    refunded: int
    dispute: DisputeStatus | None
    disputed: int


@dataclass
class GeneratedInvoice:
    kind: str  # DRAFT, VOID or ISSUED
    currency: str
    total: int
    due_offset: int | None  # days from today in the organization's zone
    payments: list[GeneratedPayment] = field(default_factory=list)


def model_balance(invoices: list[GeneratedInvoice], currency: str, today: date) -> dict[str, int]:
    """The rule, written from the brief rather than from models/derived.py."""
    owed = overdue = 0
    for invoice in invoices:
        if invoice.kind != ISSUED or invoice.currency != currency:
            continue
        paid = 0
        for p in invoice.payments:
            if p.status is PaymentStatus.SUCCEEDED:  # money arrived; refunds come off
                paid += p.amount - p.refunded
                if p.dispute is DisputeStatus.LOST:
                    paid -= p.disputed
        due = max(invoice.total - paid, 0)
        owed += due
        if due and invoice.due_offset is not None and invoice.due_offset < 0:
            overdue += due
    return {"owed": owed, "overdue": overdue, "credit": 0}


payments_strategy = st.builds(
    lambda status, amount, refund_share, dispute, dispute_share: GeneratedPayment(
        status=status,
        amount=amount,
        refunded=amount * refund_share // 4,
        dispute=dispute,
        disputed=(amount - amount * refund_share // 4) * dispute_share // 2 if dispute else 0,
    ),
    st.sampled_from([PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]),
    st.integers(1, 8000),
    st.integers(0, 4),  # quarters refunded
    st.none() | st.sampled_from(list(DisputeStatus)),
    st.integers(0, 2),  # halves of the rest disputed
)
invoices_strategy = st.lists(
    st.builds(
        GeneratedInvoice,
        kind=st.sampled_from(["DRAFT", "VOID", ISSUED, ISSUED]),
        currency=st.sampled_from(["USD", "USD", "USD", "EUR"]),
        total=st.integers(0, 20_000),
        due_offset=st.none() | st.integers(-3, 2),
        payments=st.lists(payments_strategy, max_size=3),
    ),
    max_size=6,
)


async def _store(
    db: Database, org: uuid.UUID, zone: str, invoices: list[GeneratedInvoice]
) -> uuid.UUID:
    """The customer and their rows, each invoice's paid amount and status settled by the
    ledger (models/ledger.py) from its payments, as every payment path does."""
    today = datetime.now(ZoneInfo(zone)).date()
    customer = Customer(organization_id=org, name=f"Generated {uuid.uuid4().hex[:6]}")
    async with db.write() as session:
        await add_in_order(session, [customer])
        for spec in invoices:
            invoice = Invoice(
                organization_id=org,
                customer_id=customer.id,
                currency=spec.currency,
                total=spec.total,
                subtotal=spec.total,
                status=InvoiceStatus.DRAFT if spec.kind == "DRAFT" else InvoiceStatus.OPEN,
                due_date=None if spec.due_offset is None else today + timedelta(spec.due_offset),
            )
            rows: list[Any] = [invoice]
            for p in spec.payments:
                status = p.status
                if status is PaymentStatus.SUCCEEDED:
                    status = refund_status(p.amount, p.refunded)
                rows.append(
                    Payment(
                        organization_id=org,
                        customer_id=customer.id,
                        invoice_id=invoice.id,
                        amount=p.amount,
                        currency=spec.currency,
                        method=PaymentMethod.CARD_ONLINE,
                        status=status,
                        refunded_amount=p.refunded if status in RECEIVED else 0,
                        dispute_status=p.dispute,
                        disputed_amount=p.disputed,
                    )
                )
            await add_in_order(session, rows)
            await settle(session, invoice)
            if spec.kind == "VOID":
                invoice.status = InvoiceStatus.VOID
    return customer.id


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(invoices=invoices_strategy, zone=st.sampled_from(ZONES))
async def test_generated_balances_match_the_model(
    db: Database, gql: GraphQLClient, tenant: Tenant, invoices: list[GeneratedInvoice], zone: str
):
    async with db.write() as session:
        await session.execute(
            sa.update(Organization)
            .where(Organization.id == tenant.organization_id)
            .values(timezone=zone)
        )
    customer = await _store(db, tenant.organization_id, zone, invoices)
    expected = model_balance(invoices, "USD", datetime.now(ZoneInfo(zone)).date())
    answer = await Both(db, gql)(
        STAFF_ONE, {"id": encode_id("Customer", customer)}, token=tenant.staff_token
    )
    shown = answer["data"]["node"]["balance"]
    assert {part: shown[part]["amount"] for part in expected} == expected
    assert {shown[part]["currency"] for part in expected} == {"USD"}
    # The customer's portal shows the same.
    token = await _portal_token(db, tenant, customer)
    mine = await Both(db, gql)(PORTAL, token=token)
    assert mine["data"]["viewer"]["customer"]["balance"] == shown
