"""Customer statements (Customer.statement), on SQLite and PostgreSQL.

Worked out by hand through the API (invoice, payment, refund, credit note), checked against
the balance (closing on today = owed - credit), refused to those who may not see the
customer's invoices, and checked on generated ledgers against a plain-Python model.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.downloads import STATEMENT_PDF, download_url
from core.ids import decode_id, encode_id
from models import AccessLog, AuditEvent, Contact, CreditNote, Customer, Invoice, Payment, Refund
from models.db import Database
from models.enums import InvoiceStatus, PaymentMethod, PaymentStatus, PortalScope, RefundStatus
from models.ledger import settle
from models.writes import add_in_order
from tests.billing import RECORD_PAYMENT, REFUND_PAYMENT, open_invoice
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.pdf_text import pdf_text
from tests.portal import deliver, make_customer
from tests.smtp import SmtpServer
from tests.test_balance import BALANCE, Both, _portal_token
from tests.test_credit_notes import issue
from tests.test_invoice_pdf import _viewer
from tests.test_preferences import Household, inbox

ENTRIES = "entries { date kind description number amount { amount } balance { amount } }"
STATEMENT = f"""statement(from: $from, to: $to) {{ from to currency
  openingBalance {{ amount currency }} closingBalance {{ amount currency }} {ENTRIES} }}"""
STAFF = f"""query S($id: ID!, $from: Date!, $to: Date!) {{ node(id: $id) {{ ... on Customer {{
  name {STATEMENT} {BALANCE} }} }} }}"""
PORTAL = f"""query S($from: Date!, $to: Date!) {{ viewer {{ customer {{ name {STATEMENT} }} }} }}"""


def _lines(amount: int) -> list[dict[str, Any]]:
    return [{"description": "Storage", "quantity": "1", "unitPrice": amount}]


async def test_a_statement_worked_out_by_hand(
    db: Database, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant
):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant, "Alex Morgan")
    today = datetime.now(UTC).date()  # a new organization is on UTC
    first = await open_invoice(gql, tenant, customer, _lines(25000))  # +250.00
    second = await open_invoice(gql, tenant, customer, _lines(10000))  # +100.00
    paid = await gql.data(
        RECORD_PAYMENT,
        {"input": {"invoiceId": second["id"], "amount": 10000, "method": "CASH"}},
        token=tenant.staff_token,
    )  # -100.00
    payment = paid["recordPayment"]["payment"]["id"]
    refunded = await gql.data(
        REFUND_PAYMENT, {"input": {"paymentId": payment, "amount": 3000}}, token=tenant.staff_token
    )  # +30.00
    assert refunded["refundPayment"]["userErrors"] == []
    note = await issue(gql, tenant.staff_token, first["id"])  # -250.00 credited
    assert note["userErrors"] == [], note
    # The second invoice was paid 70.00 net of its 100.00; the first credited whole.
    variables = {"id": customer, "from": today.isoformat(), "to": today.isoformat()}
    answer = await both(STAFF, variables, token=tenant.staff_token)
    node = answer["data"]["node"]
    shown = node["statement"]
    assert shown["from"] == shown["to"] == today.isoformat()
    assert shown["currency"] == "USD"
    assert shown["openingBalance"] == {"amount": 0, "currency": "USD"}
    assert [
        (e["kind"], e["amount"]["amount"], e["balance"]["amount"]) for e in shown["entries"]
    ] == [
        ("INVOICE", 25000, 25000),
        ("INVOICE", 10000, 35000),
        ("CREDIT_NOTE", -25000, 10000),
        ("PAYMENT", -10000, 0),
        ("REFUND", 3000, 3000),
    ]
    assert shown["closingBalance"] == {"amount": 3000, "currency": "USD"}
    balance = node["balance"]
    assert balance["owed"]["amount"] - balance["credit"]["amount"] == 3000
    assert shown["entries"][0]["description"] == f"Invoice {first['number']}"

    # A range after today opens with everything and has no entries; one before, nothing.
    later = today + timedelta(days=3)
    after = await both(
        STAFF,
        {**variables, "from": later.isoformat(), "to": later.isoformat()},
        token=tenant.staff_token,
    )
    assert after["data"]["node"]["statement"]["openingBalance"]["amount"] == 3000
    assert after["data"]["node"]["statement"]["entries"] == []
    earlier = today - timedelta(days=40)
    before = await both(
        STAFF,
        {**variables, "from": earlier.isoformat(), "to": (today - timedelta(1)).isoformat()},
        token=tenant.staff_token,
    )
    assert before["data"]["node"]["statement"]["closingBalance"]["amount"] == 0

    # The customer's portal, and their bookkeeper, see the same; a driver does not.
    token = await _portal_token(db, tenant, decode_id(customer)[1])
    mine = await both(PORTAL, {"from": variables["from"], "to": variables["to"]}, token=token)
    assert mine["data"]["viewer"]["customer"]["statement"] == shown
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
    row = decode_id(customer)[1]
    dates = {"from": variables["from"], "to": variables["to"]}
    bookkeeper = await _portal_token(db, tenant, row, contacts[PortalScope.BILLING].id)
    billing = await both(PORTAL, dates, token=bookkeeper)
    assert billing["data"]["viewer"]["customer"]["statement"] == shown
    driver = await _portal_token(db, tenant, row, contacts[PortalScope.CARS].id)
    cars = await both(PORTAL, dates, token=driver)
    assert error_codes(cars) == ["SECTION_DISABLED"]
    assert cars["data"]["viewer"]["customer"]["statement"] is None
    assert "25000" not in str(cars)

    # Another customer's portal viewer, another organization's staff, nobody signed in.
    other, _ = await make_customer(gql, tenant, "Blake Other")
    theirs = await _portal_token(db, tenant, decode_id(other)[1])
    nosy = await both(STAFF, variables, token=theirs)
    assert (nosy.get("data") or {}).get("node") is None and "25000" not in str(nosy)
    stranger = await both(STAFF, variables, token=other_tenant.staff_token)
    assert error_codes(stranger) == ["NOT_FOUND"] and "25000" not in str(stranger)
    anonymous = await gql(STAFF, variables)
    assert error_codes(anonymous) in (["UNAUTHENTICATED"], ["NOT_FOUND"]) and "25000" not in str(
        anonymous
    )


async def test_a_range_the_wrong_way_round_or_too_long_is_refused(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    customer, _ = await make_customer(gql, tenant)
    for start, end, field in [
        ("2026-03-02", "2026-03-01", "from"),
        ("2020-01-01", "2026-01-02", "to"),
    ]:
        answer = await gql(STAFF, {"id": customer, "from": start, "to": end}, tenant.staff_token)
        assert error_codes(answer) == ["INVALID_INPUT"], answer
        extensions = answer["errors"][0]["extensions"]
        assert extensions["reason"] == "STATEMENT_RANGE" and extensions["field"] == field
        assert answer["data"]["node"]["statement"] is None
    fine = await gql(
        STAFF, {"id": customer, "from": "2021-01-01", "to": "2026-01-01"}, tenant.staff_token
    )
    assert "errors" not in fine, fine


# --- generated ledgers against a plain-Python model -------------------------------------

BASE = date(2026, 1, 10)


@dataclass
class Made:
    """One invoice of a generated ledger, days counted from BASE."""

    kind: str  # DRAFT, VOID, ISSUED
    currency: str
    total: int
    issued: int
    payments: list[tuple[int, int, list[tuple[int, int]]]]  # (day, amount, refunds (day, amount))
    credit: tuple[int, int] | None  # (day, amount)


def made_strategy() -> st.SearchStrategy[Made]:
    def build(
        kind: str, currency: str, total: int, issued: int, paid: list[Any], credit: Any
    ) -> Made:
        # Paid and credited at most the total together: the balance counts no overpayment.
        payments, left = [], total
        for day, share, refund_days in paid:
            amount = min(left, max(1, total * share // 4))
            if amount <= 0:
                break
            left -= amount
            refunds = [(issued + day + d, max(1, amount // 3)) for d in refund_days[:1]]
            payments.append((issued + day, amount, refunds))
        note = (issued + credit[0], min(credit[1], total)) if credit and total else None
        return Made(kind, currency, total, issued, payments, note)

    return st.builds(
        build,
        st.sampled_from(["DRAFT", "VOID", "ISSUED", "ISSUED", "ISSUED"]),
        st.sampled_from(["USD", "USD", "USD", "EUR"]),
        st.integers(1, 20_000),
        st.integers(0, 30),
        st.lists(
            st.tuples(
                st.integers(0, 10), st.integers(1, 4), st.lists(st.integers(0, 5), max_size=1)
            ),
            max_size=2,
        ),
        st.none() | st.tuples(st.integers(0, 10), st.integers(1, 20_000)),
    )


def model(made: list[Made], start: int, end: int) -> tuple[int, list[int], int]:
    """Opening balance, entry amounts (sorted by day, then amount), closing balance: each
    invoice issued adds its total, a credit note takes off its amount, a payment its amount
    and a refund gives back its own; drafts, void invoices and euros count for nothing."""
    moves: list[tuple[int, int]] = []
    for m in made:
        if m.kind != "ISSUED" or m.currency != "USD":
            continue
        moves.append((m.issued, m.total))
        for day, amount, refunds in m.payments:
            moves.append((day, -amount))
            moves += [(d, a) for d, a in refunds]
        if m.credit:
            moves.append((m.credit[0], -m.credit[1]))
    opening = sum(a for d, a in moves if d < start)
    inside = [a for d, a in moves if start <= d <= end]
    return opening, sorted(inside), opening + sum(inside)


async def _store(db: Database, org: uuid.UUID, made: list[Made]) -> uuid.UUID:
    customer = Customer(organization_id=org, name=f"Generated {uuid.uuid4().hex[:6]}")

    def at(day: int) -> datetime:
        return datetime.combine(BASE + timedelta(day), datetime.min.time(), UTC) + timedelta(
            hours=12
        )

    async with db.write() as session:
        await add_in_order(session, [customer])
        number = int(uuid.uuid4().int % 1_000_000) * 100
        for m in made:
            number += 1
            invoice = Invoice(
                organization_id=org,
                customer_id=customer.id,
                currency=m.currency,
                total=m.total,
                subtotal=m.total,
                number=None if m.kind == "DRAFT" else number,
                status=InvoiceStatus.DRAFT if m.kind == "DRAFT" else InvoiceStatus.OPEN,
                issue_date=None if m.kind == "DRAFT" else BASE + timedelta(m.issued),
                credited_amount=m.credit[1] if m.credit else 0,
            )
            rows: list[Any] = [invoice]
            for day, amount, refunds in m.payments:
                back = sum(a for _, a in refunds)
                payment = Payment(
                    organization_id=org,
                    customer_id=customer.id,
                    invoice_id=invoice.id,
                    amount=amount,
                    currency=m.currency,
                    method=PaymentMethod.CASH,
                    status=PaymentStatus.PARTIALLY_REFUNDED if back else PaymentStatus.SUCCEEDED,
                    refunded_amount=back,
                    received_at=at(day),
                )
                rows.append(payment)
                rows += [
                    Refund(
                        organization_id=org,
                        payment_id=payment.id,
                        amount=a,
                        status=RefundStatus.SUCCEEDED,
                        created_at=at(d),
                    )
                    for d, a in refunds
                ]
            if m.credit:
                rows.append(
                    CreditNote(
                        organization_id=org,
                        customer_id=customer.id,
                        invoice_id=invoice.id,
                        number=number,
                        reason="Generated",
                        issue_date=BASE + timedelta(m.credit[0]),
                        currency=m.currency,
                        total=m.credit[1],
                        subtotal=m.credit[1],
                    )
                )
            await add_in_order(session, rows)
            await settle(session, invoice)
            if m.kind == "VOID":
                invoice.status = InvoiceStatus.VOID
    return customer.id


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    made=st.lists(made_strategy(), max_size=5),
    start=st.integers(-2, 45),
    length=st.integers(0, 30),
)
async def test_generated_statements_match_the_model(
    db: Database, gql: GraphQLClient, tenant: Tenant, made: list[Made], start: int, length: int
):
    customer = await _store(db, tenant.organization_id, made)
    variables = {
        "id": encode_id("Customer", customer),
        "from": (BASE + timedelta(start)).isoformat(),
        "to": (BASE + timedelta(start + length)).isoformat(),
    }
    answer = await Both(db, gql)(STAFF, variables, token=tenant.staff_token)
    shown = answer["data"]["node"]["statement"]
    opening, amounts, closing = model(made, start, start + length)
    assert shown["openingBalance"]["amount"] == opening
    assert sorted(e["amount"]["amount"] for e in shown["entries"]) == amounts
    assert shown["closingBalance"]["amount"] == closing
    running = opening
    for entry in shown["entries"]:
        running += entry["amount"]["amount"]
        assert entry["balance"]["amount"] == running
    assert [e["date"] for e in shown["entries"]] == sorted(e["date"] for e in shown["entries"])
    # Up to today, the statement closes on what the balance says.
    today = datetime.now(UTC).date()
    whole = await gql(
        STAFF, {**variables, "from": "2025-12-01", "to": today.isoformat()}, tenant.staff_token
    )
    node = whole["data"]["node"]
    assert node["statement"]["closingBalance"]["amount"] == (
        node["balance"]["owed"]["amount"] - node["balance"]["credit"]["amount"]
    )


# --- the statement as a PDF ----------------------------------------------------------------

PDF_STAFF = """query S($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on Customer {
  statement(from: $from, to: $to) { pdfUrl closingBalance { amount } } } } }"""
PDF_PORTAL = """query S($from: Date!, $to: Date!) { viewer { customer {
  statement(from: $from, to: $to) { pdfUrl } } } }"""


def _path(url: str) -> str:
    return "/downloads/" + url.rsplit("/downloads/", 1)[1]


async def test_the_statement_pdf_link_works_and_is_logged(
    db: Database, gql: GraphQLClient, http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    customer, _ = await make_customer(gql, tenant, "Alex Morgan")
    await open_invoice(gql, tenant, customer, _lines(25000))
    today = datetime.now(UTC).date().isoformat()
    dates = {"from": today, "to": today}
    staff = await gql.data(PDF_STAFF, {"id": customer, **dates}, token=tenant.staff_token)
    response = await http.get(_path(staff["node"]["statement"]["pdfUrl"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="statement-{today}-{today}.pdf"'
    )
    text = pdf_text(response.content)
    assert "Alex Morgan" in text and "Closing balance" in text and "250.00" in text

    row = decode_id(customer)[1]
    token = await _portal_token(db, tenant, row)
    mine = await gql.data(PDF_PORTAL, dates, token=token)
    opened = await http.get(
        _path(mine["viewer"]["customer"]["statement"]["pdfUrl"]),
        headers={"User-Agent": "Alex's laptop"},
    )
    assert opened.status_code == 200 and "Invoice" in pdf_text(opened.content)
    await db.access_log.flush()
    async with db.connect() as conn:
        logged = await conn.execute(
            sa.select(AccessLog.subject_type, AccessLog.subject_id, AccessLog.action).where(
                AccessLog.customer_id == row
            )
        )
        assert sorted(tuple(r) for r in logged) == [
            ("Customer", row, "DOWNLOAD"),
            ("Customer", row, "VIEW"),
        ]

    # A valid link opened by nobody else: another organization's staff, another customer.
    settings = db.settings
    other, _ = await make_customer(gql, tenant, "Blake Other")
    blake = await _portal_token(db, tenant, decode_id(other)[1])
    for viewer_token in (other_tenant.staff_token, blake):
        viewer = await _viewer(db, viewer_token)
        url = download_url(settings, viewer, STATEMENT_PDF, row, f"{today}/{today}")
        assert (await http.get(_path(url))).status_code == 404
    # A link whose range was never valid, or with no range at all.
    staff_viewer = await _viewer(db, tenant.staff_token)
    for detail in ("2026-03-02/2026-03-01", "nonsense", None):
        url = download_url(settings, staff_viewer, STATEMENT_PDF, row, detail)
        assert (await http.get(_path(url))).status_code == 404


# --- sendStatement ------------------------------------------------------------------------

SEND = """mutation S($input: SendStatementInput!) {
  sendStatement(input: $input) { customer { id } userErrors { field code } } }"""


async def test_send_statement_mails_the_invoice_recipients_and_is_audited(
    db: Database, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    house = await Household(tenant).make(gql)
    await open_invoice(gql, tenant, house.customer_id, _lines(25000))
    await deliver(db, smtp)
    smtp.handler._messages.clear()  # type: ignore[attr-defined]
    today = datetime.now(UTC).date().isoformat()
    send = {"customerId": house.customer_id, "from": today, "to": today}

    # Refusals first: nothing queued for any of them.
    stranger = await gql(SEND, {"input": send}, other_tenant.staff_token)
    assert stranger["data"]["sendStatement"]["customer"] is None
    assert stranger["data"]["sendStatement"]["userErrors"][0]["code"] == "NOT_FOUND"
    backwards = await gql.data(
        SEND,
        {"input": {**send, "from": "2026-03-02", "to": "2026-03-01"}},
        token=tenant.staff_token,
    )
    assert backwards["sendStatement"]["userErrors"] == [
        {"field": ["input", "from"], "code": "STATEMENT_RANGE"}
    ]
    portal = await _portal_token(db, tenant, decode_id(house.customer_id)[1])
    refused = await gql(SEND, {"input": send}, portal)
    assert error_codes(refused) == ["FORBIDDEN"]
    anonymous = await gql(SEND, {"input": send})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert await deliver(db, smtp) == 0

    sent = await gql.data(SEND, {"input": send}, token=tenant.staff_token)
    assert sent["sendStatement"] == {"customer": {"id": house.customer_id}, "userErrors": []}
    await deliver(db, smtp)
    got = inbox(smtp, *house.emails())
    for who in ("customer", "wanted", "bookkeeper"):
        assert [s for s in got[house.email(who)] if "statement" in s] != [], who
    assert got[house.email("driver")] == [] and got[house.email("unwanted")] == []
    body = next(
        m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for m in smtp.messages
        if house.email("bookkeeper") in str(m["To"])
    )
    assert "Invoice 1  USD 250.00" in body and "Closing balance: USD 250.00." in body, body
    async with db.connect() as conn:
        audited = await conn.execute(
            sa.select(AuditEvent.action, AuditEvent.subject_id).where(
                AuditEvent.organization_id == tenant.organization_id,
                AuditEvent.action == "customer.statement_sent",
            )
        )
        assert [tuple(r) for r in audited] == [
            ("customer.statement_sent", decode_id(house.customer_id)[1])
        ]
