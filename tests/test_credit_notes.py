"""Credit notes (issueCreditNote, Invoice.creditNotes, the customer's credit), on SQLite and
PostgreSQL.

Abuse first: other organizations' staff, portal viewers (of another customer, without the
billing scope), anonymous callers, credits beyond what was invoiced, two credit notes at
once, a replayed Idempotency-Key. Then hand-computed cases, and the money rules of
domain/billing/credit.py against a plain-Decimal model with hypothesis.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ids import decode_id
from domain.billing.credit import (
    Credited,
    InvoicedLine,
    TooMuch,
    credit_to_use,
    line_credit,
    refundable_credit,
    split_credit,
)
from models import Contact, CreditNote, Invoice
from models.db import Database
from models.enums import InvoiceStatus, PortalScope
from models.money import amount_due, credit_left, line_amounts
from models.writes import add_in_order
from tests.billing import RECORD_PAYMENT, REFUND_PAYMENT, VOID_INVOICE, draft_invoice, open_invoice
from tests.helpers import GraphQLClient, Tenant, error_codes, user_errors
from tests.portal import make_customer
from tests.test_balance import BALANCE, Both, _portal_token

NOTE_FIELDS = """id number reason issueDate total { amount currency } subtotal { amount }
taxTotal { amount } lines { position description quantity subtotal { amount } tax { amount }
total { amount currency } }
invoice { id status amountDue { amount } creditedAmount { amount } creditApplied { amount } }"""
ISSUE = f"""mutation I($input: IssueCreditNoteInput!) {{
  issueCreditNote(input: $input) {{ creditNote {{ {NOTE_FIELDS} }} userErrors {{ field code }} }}
}}"""
INVOICE_NOTES = f"""query N($id: ID!) {{ node(id: $id) {{ ... on Invoice {{ id status
  amountDue {{ amount }} creditNotes {{ {NOTE_FIELDS} }} }} }} }}"""
NOTE = f"query N($id: ID!) {{ node(id: $id) {{ ... on CreditNote {{ {NOTE_FIELDS} }} }} }}"
CUSTOMER_BALANCE = f"query B($id: ID!) {{ node(id: $id) {{ ... on Customer {{ {BALANCE} }} }} }}"
PORTAL_INVOICES = """{ viewer { customer { invoices(first: 10) { nodes { id
  creditNotes { number total { amount } lines { total { amount } } } } } } } }"""

# Two lines: 2 x 100.00 at 10 % tax (220.00), and 1 x 50.00 untaxed: 270.00 in all.
TWO_LINES = [
    {"description": "Storage", "quantity": "2", "unitPrice": 10000, "taxRate": "10"},
    {"description": "Wash", "quantity": "1", "unitPrice": 5000},
]


async def issue(
    gql: GraphQLClient, token: str, invoice_id: str, reason: str = "Goodwill", **more: Any
) -> dict[str, Any]:
    result = await gql(ISSUE, {"input": {"invoiceId": invoice_id, "reason": reason, **more}}, token)
    assert "errors" not in result, result
    return result["data"]["issueCreditNote"]


async def pay(gql: GraphQLClient, tenant: Tenant, invoice_id: str, amount: int) -> str:
    data = await gql.data(
        RECORD_PAYMENT,
        {"input": {"invoiceId": invoice_id, "amount": amount, "method": "CASH"}},
        token=tenant.staff_token,
    )
    assert data["recordPayment"]["userErrors"] == [], data
    return data["recordPayment"]["payment"]["id"]


# --- abuse --------------------------------------------------------------------------


async def test_only_the_organizations_staff_issue_credit_notes(
    db: Database, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant
):
    customer, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer, TWO_LINES)
    # Another organization's staff: the invoice does not exist for them.
    stranger = await issue(gql, other_tenant.staff_token, invoice["id"])
    assert user_errors(stranger) == [(["input", "invoiceId"], "NOT_FOUND")]
    # Anonymous and the customer's own portal: refused before anything happens.
    anonymous = await gql(ISSUE, {"input": {"invoiceId": invoice["id"], "reason": "x"}})
    assert anonymous["data"] is None and error_codes(anonymous)
    portal = await _portal_token(db, tenant, decode_id(customer)[1])
    own = await gql(ISSUE, {"input": {"invoiceId": invoice["id"], "reason": "x"}}, portal)
    assert own["data"] is None and error_codes(own) == ["FORBIDDEN"]
    async with db.connect() as conn:
        # This organization's: other tests of the run issue credit notes of their own.
        mine = sa.select(sa.func.count()).where(
            CreditNote.organization_id == tenant.organization_id
        )
        assert await conn.scalar(mine) == 0
        due = await conn.scalar(
            sa.select(Invoice.total - Invoice.amount_paid - Invoice.credited_amount).where(
                Invoice.id == decode_id(invoice["id"])[1]
            )
        )
    assert due == 27000


async def test_portal_viewers_see_credit_notes_of_their_own_invoices_with_billing_scope(
    db: Database, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant
):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant, "Alex Morgan")
    invoice = await open_invoice(gql, tenant, customer, TWO_LINES)
    note = (await issue(gql, tenant.staff_token, invoice["id"], lines=[{"position": 1}]))[
        "creditNote"
    ]
    assert note["total"] == {"amount": 5000, "currency": "USD"}
    other, _ = await make_customer(gql, tenant, "Blake Other")
    customer_row = decode_id(customer)[1]
    async with db.write() as session:
        contacts = {
            scope: Contact(
                organization_id=tenant.organization_id,
                customer_id=customer_row,
                name=f"{scope.value.title()} contact",
                can_access_portal=True,
                portal_scope=scope,
            )
            for scope in (PortalScope.BILLING, PortalScope.CARS)
        }
        await add_in_order(session, list(contacts.values()))
    owner = await _portal_token(db, tenant, customer_row)
    bookkeeper = await _portal_token(db, tenant, customer_row, contacts[PortalScope.BILLING].id)
    driver = await _portal_token(db, tenant, customer_row, contacts[PortalScope.CARS].id)
    stranger = await _portal_token(db, tenant, decode_id(other)[1])
    for token in (owner, bookkeeper):
        mine = await both(PORTAL_INVOICES, token=token)
        [seen] = mine["data"]["viewer"]["customer"]["invoices"]["nodes"]
        assert seen["creditNotes"] == [
            {"number": 1, "total": {"amount": 5000}, "lines": [{"total": {"amount": 5000}}]}
        ]
        by_id = await both(NOTE, {"id": note["id"]}, token=token)
        assert by_id["data"]["node"]["number"] == 1
    # A driver (cars scope) and another customer's viewer: as if it did not exist.
    for token in (driver, stranger):
        by_id = await both(NOTE, {"id": note["id"]}, token=token)
        assert (by_id.get("data") or {}).get("node") is None, by_id
        assert "5000" not in str(by_id)
    elsewhere = await both(NOTE, {"id": note["id"]}, token=other_tenant.staff_token)
    assert (elsewhere.get("data") or {}).get("node") is None
    staff = await both(INVOICE_NOTES, {"id": invoice["id"]}, token=tenant.staff_token)
    assert [n["id"] for n in staff["data"]["node"]["creditNotes"]] == [note["id"]]


async def test_no_credit_beyond_what_was_invoiced(gql: GraphQLClient, tenant: Tenant):
    customer, _ = await make_customer(gql, tenant)
    draft = await draft_invoice(gql, tenant, customer, TWO_LINES)
    refused = await issue(gql, tenant.staff_token, draft["id"])
    assert user_errors(refused) == [(["input", "invoiceId"], "NOT_CREDITABLE")]
    invoice = await open_invoice(gql, tenant, customer, TWO_LINES)
    cases = [
        ([{"position": 0, "quantity": "2.001"}], "lines.0.quantity", "EXCEEDS_INVOICE"),
        ([{"position": 1, "amount": 5001}], "lines.0.amount", "EXCEEDS_INVOICE"),
        ([{"position": 2}], "lines.0.position", "INVALID"),
        ([{"position": 0}, {"position": 0}], "lines.1.position", "INVALID"),
        ([{"position": 0, "quantity": "1", "amount": 5}], "lines.0", "INVALID"),
        ([{"position": 0, "quantity": "-1"}], "lines.0.quantity", "INVALID"),
        ([], "lines", "EMPTY"),
    ]
    for lines, field, code in cases:
        answer = await issue(gql, tenant.staff_token, invoice["id"], lines=lines)
        assert answer["creditNote"] is None
        assert (["input", *field.split(".")], code) in user_errors(answer), (lines, answer)
    blank = await issue(gql, tenant.staff_token, invoice["id"], reason="  ")
    assert user_errors(blank) == [(["input", "reason"], "REQUIRED")]
    # All of it, then anything more is refused.
    whole = await issue(gql, tenant.staff_token, invoice["id"])
    assert whole["creditNote"]["total"]["amount"] == 27000
    assert whole["creditNote"]["invoice"]["status"] == "CREDITED"
    again = await issue(gql, tenant.staff_token, invoice["id"])
    assert user_errors(again) == [(["input", "invoiceId"], "EXCEEDS_INVOICE")]
    # A void invoice is credited no more; a credited one is not voided.
    voided = await gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=tenant.staff_token)
    assert user_errors(voided["voidInvoice"]) == [(["input", "id"], "NOT_EDITABLE")]
    other = await open_invoice(gql, tenant, customer, TWO_LINES)
    await gql.data(VOID_INVOICE, {"id": other["id"]}, token=tenant.staff_token)
    void = await issue(gql, tenant.staff_token, other["id"])
    assert user_errors(void) == [(["input", "invoiceId"], "NOT_CREDITABLE")]
    # A credited invoice takes no payment.
    paying = await gql.data(
        RECORD_PAYMENT,
        {"input": {"invoiceId": invoice["id"], "amount": 1, "method": "CASH"}},
        token=tenant.staff_token,
    )
    assert user_errors(paying["recordPayment"]) == [(["input", "invoiceId"], "NOT_PAYABLE")]


async def test_concurrent_credit_notes_never_over_credit(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    customer, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer, TWO_LINES)
    half = [{"position": 0, "quantity": "1.5"}, {"position": 1, "amount": 3000}]
    answers = await asyncio.gather(
        *(issue(gql, tenant.staff_token, invoice["id"], lines=half) for _ in range(4))
    )
    made = [a for a in answers if a["creditNote"]]
    assert len(made) == 1, answers  # 1.5 + 1.5 > 2: only one fits
    assert all(user_errors(a) for a in answers if not a["creditNote"])
    wholes = await asyncio.gather(
        *(issue(gql, tenant.staff_token, invoice["id"]) for _ in range(3))
    )
    assert len([a for a in wholes if a["creditNote"]]) == 1, wholes
    async with db.connect() as conn:
        row = (
            await conn.execute(
                sa.select(Invoice.credited_amount, Invoice.total).where(
                    Invoice.id == decode_id(invoice["id"])[1]
                )
            )
        ).one()
        numbers = sorted(
            (
                await conn.execute(
                    sa.select(CreditNote.number).where(
                        CreditNote.organization_id == tenant.organization_id
                    )
                )
            ).scalars()
        )
        summed = await conn.scalar(
            sa.select(sa.func.sum(CreditNote.total)).where(
                CreditNote.invoice_id == decode_id(invoice["id"])[1]
            )
        )
    assert row.credited_amount == row.total == summed == 27000
    assert numbers == [1, 2]  # gap-free, whatever was refused


async def test_a_replayed_idempotency_key_issues_one_credit_note(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    customer, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer, TWO_LINES)
    body = {
        "query": ISSUE,
        "variables": {
            "input": {"invoiceId": invoice["id"], "reason": "Late", "lines": [{"position": 1}]}
        },
    }
    headers = {"Authorization": f"Bearer {tenant.staff_token}", "Idempotency-Key": "cn-1"}
    answers: list[httpx.Response] = [
        await gql.http.post("/graphql", json=body, headers=headers) for _ in range(3)
    ]
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["data"]["issueCreditNote"]["creditNote"]["number"] == 1
    async with db.connect() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(CreditNote)
            .where(CreditNote.organization_id == tenant.organization_id)
        )
    assert count == 1


# --- hand-computed ------------------------------------------------------------------


async def test_credit_notes_worked_out_by_hand(db: Database, gql: GraphQLClient, tenant: Tenant):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer, TWO_LINES)
    # 0.5 of the storage line: 50.00 + 5.00 tax.
    first = await issue(
        gql,
        tenant.staff_token,
        invoice["id"],
        "Half a month",
        lines=[{"position": 0, "quantity": "0.5"}],
    )
    note = first["creditNote"]
    assert first["userErrors"] == []
    assert note["number"] == 1 and note["reason"] == "Half a month"
    assert note["lines"] == [
        {
            "position": 0,
            "description": "Storage",
            "quantity": "0.5",
            "subtotal": {"amount": 5000},
            "tax": {"amount": 500},
            "total": {"amount": 5500, "currency": "USD"},
        }
    ]
    assert note["invoice"]["amountDue"] == {"amount": 27000 - 5500}
    assert note["invoice"]["status"] == "OPEN"
    # 33.33 of the wash line's 50.00 as an amount (untaxed).
    second = await issue(
        gql, tenant.staff_token, invoice["id"], lines=[{"position": 1, "amount": 3333}]
    )
    assert second["creditNote"]["number"] == 2
    assert second["creditNote"]["lines"][0]["quantity"] is None
    assert second["creditNote"]["invoice"]["amountDue"] == {"amount": 27000 - 5500 - 3333}
    # Pay 100.00, then credit the rest of everything: 1.5 storage (165.00) and 16.67 wash.
    await pay(gql, tenant, invoice["id"], 10000)
    rest = await issue(gql, tenant.staff_token, invoice["id"])
    assert rest["creditNote"]["total"]["amount"] == 16500 + 1667
    assert [line["total"]["amount"] for line in rest["creditNote"]["lines"]] == [16500, 1667]
    assert rest["creditNote"]["invoice"]["status"] == "CREDITED"
    assert rest["creditNote"]["invoice"]["amountDue"] == {"amount": 0}
    # 100.00 was paid on an invoice now credited whole: it is the customer's credit.
    owed = await both(CUSTOMER_BALANCE, {"id": customer}, token=tenant.staff_token)
    assert owed["data"]["node"]["balance"]["credit"] == {"amount": 10000, "currency": "USD"}
    assert owed["data"]["node"]["balance"]["owed"] == {"amount": 0, "currency": "USD"}
    listed = await both(INVOICE_NOTES, {"id": invoice["id"]}, token=tenant.staff_token)
    assert [n["number"] for n in listed["data"]["node"]["creditNotes"]] == [1, 2, 3]


async def test_credit_goes_to_the_next_invoices_first_and_refunds_only_what_is_unused(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant)
    paid = await open_invoice(gql, tenant, customer, TWO_LINES)  # 270.00
    payment = await pay(gql, tenant, paid["id"], 27000)
    note = await issue(gql, tenant.staff_token, paid["id"], lines=[{"position": 1}])  # 50.00
    assert note["creditNote"]["invoice"]["status"] == "PAID"
    balance = await both(CUSTOMER_BALANCE, {"id": customer}, token=tenant.staff_token)
    assert balance["data"]["node"]["balance"]["credit"]["amount"] == 5000
    # The next invoice, 30.00, takes 30.00 of it; the one after, 40.00, the last 20.00.
    small = [{"description": "Wash", "quantity": "1", "unitPrice": 3000}]
    first = await open_invoice(gql, tenant, customer, small)
    assert first["amountDue"] == {"amount": 0} and first["status"] == "PAID"
    bigger = [{"description": "Wash", "quantity": "1", "unitPrice": 4000}]
    second = await open_invoice(gql, tenant, customer, bigger)
    assert second["amountDue"] == {"amount": 2000} and second["status"] == "PARTIALLY_PAID"
    balance = await both(CUSTOMER_BALANCE, {"id": customer}, token=tenant.staff_token)
    assert balance["data"]["node"]["balance"]["credit"]["amount"] == 0
    assert balance["data"]["node"]["balance"]["owed"]["amount"] == 2000
    # Its credit is spent: refunding the paid invoice's payment beyond its total is refused.
    refused = await gql.data(
        REFUND_PAYMENT, {"input": {"paymentId": payment, "amount": 1}}, token=tenant.staff_token
    )
    assert user_errors(refused["refundPayment"]) == [(["input", "amount"], "CREDIT_USED")]
    # Voiding the second invoice gives its 20.00 back; that much may be refunded.
    voided = await gql.data(VOID_INVOICE, {"id": second["id"]}, token=tenant.staff_token)
    assert voided["voidInvoice"]["userErrors"] == []
    balance = await both(CUSTOMER_BALANCE, {"id": customer}, token=tenant.staff_token)
    assert balance["data"]["node"]["balance"]["credit"]["amount"] == 2000
    too_much = await gql.data(
        REFUND_PAYMENT, {"input": {"paymentId": payment, "amount": 2001}}, token=tenant.staff_token
    )
    assert user_errors(too_much["refundPayment"]) == [(["input", "amount"], "CREDIT_USED")]
    refunded = await gql.data(
        REFUND_PAYMENT, {"input": {"paymentId": payment, "amount": 2000}}, token=tenant.staff_token
    )
    assert refunded["refundPayment"]["userErrors"] == []
    assert refunded["refundPayment"]["payment"]["invoice"]["amountDue"] == {"amount": 0}
    balance = await both(CUSTOMER_BALANCE, {"id": customer}, token=tenant.staff_token)
    assert balance["data"]["node"]["balance"] == {
        "owed": {"amount": 0, "currency": "USD"},
        "overdue": {"amount": 0, "currency": "USD"},
        "credit": {"amount": 0, "currency": "USD"},
    }


async def test_credit_is_kept_per_currency(db: Database, gql: GraphQLClient, tenant: Tenant):
    """Credit in euros is not spent on a dollar invoice, nor shown in a dollar balance."""
    customer, _ = await make_customer(gql, tenant)
    euros = await gql.data(
        """mutation C($input: CreateInvoiceInput!) {
             createInvoice(input: $input) { invoice { id } userErrors { code } } }""",
        {"input": {"customerId": customer, "lineItems": TWO_LINES, "currency": "EUR"}},
        token=tenant.staff_token,
    )
    euro_id = euros["createInvoice"]["invoice"]["id"]
    await gql.data(
        "mutation S($id: ID!) { sendInvoice(input: {id: $id}) { userErrors { code } } }",
        {"id": euro_id},
        token=tenant.staff_token,
    )
    await pay(gql, tenant, euro_id, 27000)
    await issue(gql, tenant.staff_token, euro_id)
    dollars = await open_invoice(gql, tenant, customer, TWO_LINES)
    assert dollars["amountDue"] == {"amount": 27000}
    owed = await gql.data(CUSTOMER_BALANCE, {"id": customer}, token=tenant.staff_token)
    assert owed["node"]["balance"]["credit"] == {"amount": 0, "currency": "USD"}


# --- the rules against a plain-Decimal model ------------------------------------------


def model_round(value: Decimal) -> int:
    """Half away from zero, to whole minor units."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


lines_strategy = st.builds(
    lambda quantity, price, rate: (quantity, price, rate),
    st.integers(1, 20_000),
    st.integers(1, 1_000_000),
    st.sampled_from([0, 500, 825, 1000, 2000, 2500]),
)
asks = st.lists(
    st.one_of(
        st.tuples(st.just("quantity"), st.integers(1, 20_000)),
        st.tuples(st.just("amount"), st.integers(1, 20_000_000)),
        st.tuples(st.just("rest"), st.just(0)),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(line=lines_strategy, asked=asks)
def test_line_credits_never_add_up_to_more_than_the_line(line: Any, asked: Any):
    quantity, price, rate = line
    amounts = line_amounts(quantity, price, rate)
    invoiced = InvoicedLine(quantity, price, rate, amounts.subtotal, amounts.tax)
    before = Credited()
    for kind, value in asked:
        left_q = quantity - before.quantity_milli
        left_sub = Decimal(amounts.subtotal - before.subtotal)
        left_tax = Decimal(amounts.tax - before.tax)
        try:
            if kind == "quantity":
                got = line_credit(invoiced, before, quantity_milli=value)
            elif kind == "amount":
                got = line_credit(invoiced, before, amount=value)
            else:
                got = line_credit(invoiced, before)
        except TooMuch:
            nothing_left = left_sub <= 0 and left_tax <= 0
            assert (
                nothing_left
                or (kind == "quantity" and value > left_q)
                or (kind == "amount" and value > left_sub)
            )
            continue
        # The model: a quantity priced as invoiced, an amount with the line's tax, both at
        # most what is left; crediting to the end takes exactly what is left.
        to_the_end = (kind == "quantity" and value == left_q) or (
            kind == "amount" and value == left_sub
        )
        if kind == "rest" or to_the_end:
            expected = (int(left_sub), int(left_tax))
        else:
            subtotal = (
                model_round(Decimal(value) * Decimal(price) / 1000) if kind == "quantity" else value
            )
            tax = model_round(Decimal(subtotal) * Decimal(rate) / 10_000)
            expected = (min(subtotal, int(left_sub)), min(tax, int(left_tax)))
        assert (got.subtotal, got.tax) == expected
        before = before + got
        assert 0 <= before.subtotal <= amounts.subtotal
        assert 0 <= before.tax <= amounts.tax
        assert before.quantity_milli <= quantity


invoice_events = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.integers(0, 50_000)),
        st.tuples(st.just("pay"), st.integers(0, 20), st.integers(1, 50_000)),
        st.tuples(st.just("credit"), st.integers(0, 20), st.integers(1, 50_000)),
        st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 50_000)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(events=invoice_events)
def test_customer_credit_and_amounts_due_match_a_plain_model(events: Any):
    """Invoices issued, paid, credited and refunded in any order: what is due on each and
    the customer's credit, by the rules (models/money.py, domain/billing/credit.py) and by a
    ledger kept in Decimal (credit is a pot: credit notes beyond what was due fill it,
    refunds of that money and newly issued invoices draw on it)."""
    rows: list[dict[str, Any]] = []
    model_due: list[Decimal] = []
    model_paid: list[Decimal] = []
    pot = Decimal(0)

    def available() -> int:
        return sum(credit_left(row) for row in rows)

    for event in events:
        if event[0] == "issue":
            total = event[1]
            row = {
                "status": InvoiceStatus.OPEN,
                "total": total,
                "amount_paid": 0,
                "credited_amount": 0,
                "credit_applied": 0,
            }
            used = credit_to_use(available(), amount_due(row))
            row["credit_applied"] = used
            rows.append(row)
            take = min(pot, Decimal(total))
            pot -= take
            model_due.append(Decimal(total) - take)
            model_paid.append(Decimal(0))
            assert used == take
            continue
        if not rows:
            continue
        index, amount = event[1] % len(rows), event[2]
        row = rows[index]
        if event[0] == "pay":
            amount = min(amount, amount_due(row))
            row["amount_paid"] += amount
            model_due[index] -= amount
            model_paid[index] += amount
        elif event[0] == "credit":
            room = row["total"] - row["credited_amount"]
            if room <= 0:
                continue
            amount = min(amount, room)
            off_due, to_credit = split_credit(amount_due(row), amount)
            row["credited_amount"] += amount
            off = min(model_due[index], Decimal(amount))
            model_due[index] -= off
            pot += Decimal(amount) - off
            assert (off_due, to_credit) == (int(off), amount - int(off))
        else:  # a refund of the invoice's payments: allowed while it takes back unused credit
            amount = min(amount, row["amount_paid"])
            if amount <= 0:
                continue
            invoice = Invoice(
                organization_id=uuid.uuid4(), customer_id=uuid.uuid4(), currency="USD", **row
            )
            allowed = refundable_credit(invoice, 0, amount, available())
            # The model: money beyond the invoice's total is the pot's; the rest is owed again.
            covered = Decimal(row["total"]) - model_due[index]
            beyond = max(
                Decimal(row["amount_paid"] + row["credited_amount"] + row["credit_applied"])
                - row["total"],
                Decimal(0),
            )
            from_pot = min(beyond, Decimal(amount))
            assert allowed == (from_pot <= pot), (row, amount, pot)
            if not allowed:
                continue
            pot -= from_pot
            row["amount_paid"] -= amount
            model_paid[index] -= amount
            model_due[index] += Decimal(amount) - from_pot
            assert covered >= 0
        for r, due in zip(rows, model_due, strict=True):
            assert amount_due(r) == int(due), (r, due)
        assert available() == int(pot)
        assert pot >= 0


def test_split_and_use_by_hand():
    assert split_credit(10000, 2500) == (2500, 0)
    assert split_credit(1000, 2500) == (1000, 1500)
    assert split_credit(0, 2500) == (0, 2500)
    assert credit_to_use(1500, 4000) == 1500
    assert credit_to_use(5000, 4000) == 4000
    assert credit_to_use(0, 4000) == 0
    # 1.5 of 2 x 3.33 at 8.25 %: 5.00 (4.995 rounded half up) and 0.41 tax (0.4125).
    line = InvoicedLine(2000, 333, 825, 666, 55)
    assert line_credit(line, Credited(), quantity_milli=1500) == Credited(1500, 500, 41)
    # The rest: exactly what is left (1.66 and 0.14), not 1.67 and 0.14 computed afresh.
    assert line_credit(line, Credited(1500, 500, 41)) == Credited(500, 166, 14)
