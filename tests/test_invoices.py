"""Staff draft, edit, send and void invoices; amounts and numbers come from the server."""

import asyncio
from datetime import date, timedelta

import sqlalchemy as sa

from models import Invoice, InvoiceLine, OutboxEmail
from tests.billing import (
    CREATE_INVOICE,
    LINE,
    SEND_INVOICE,
    UPDATE_INVOICE,
    VOID_INVOICE,
    draft_invoice,
    open_invoice,
)
from tests.helpers import not_found_at, user_errors
from tests.portal import make_contact, make_customer

LINES = [
    {
        "kind": "LABOUR",
        "description": "Diagnosis",
        "quantity": "1.5",
        "unitPrice": 9999,
        "taxRate": "8.25",
    },
    {
        "kind": "PARTS",
        "description": "Brake pads",
        "quantity": "2",
        "unitPrice": 4550,
        "taxRate": "8.25",
    },
    {"kind": "FEE", "description": "Shop supplies", "quantity": "1", "unitPrice": 333},
]


async def test_totals_are_computed_on_the_server_with_half_up_rounding(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    invoice = await draft_invoice(gql, tenant, customer_id, LINES)
    lines = invoice["lineItems"]
    # 1.5 x 99.99 = 149.985 -> 149.99; tax 8.25 % of 149.99 = 12.374... -> 12.37
    assert [line["subtotal"]["amount"] for line in lines] == [14999, 9100, 333]
    assert [line["tax"]["amount"] for line in lines] == [1237, 751, 0]
    assert lines[0]["quantity"] == "1.5" and lines[0]["taxRate"] == "8.25"
    assert invoice["subtotal"] == {"amount": 24432, "currency": "USD"}
    assert invoice["taxTotal"]["amount"] == 1988
    assert invoice["total"]["amount"] == 26420
    assert invoice["status"] == "DRAFT" and invoice["number"] is None
    assert invoice["amountDue"]["amount"] == 0  # a draft is owed nothing yet


async def test_bad_lines_are_named_and_nothing_is_written(gql, tenant, db):
    customer_id, _ = await make_customer(gql, tenant)
    bad = [
        {"description": " ", "quantity": "1", "unitPrice": 100},
        {"description": "Wax", "quantity": "0.0005", "unitPrice": 100},
        {"description": "Wax", "quantity": "1", "unitPrice": -1},
        {"description": "Wax", "quantity": "1", "unitPrice": 1, "taxRate": "101"},
        {"description": "Wax", "quantity": "1", "unitPrice": 1, "optional": True},
    ]
    data = await gql.data(
        CREATE_INVOICE,
        {"input": {"customerId": customer_id, "lineItems": bad}},
        token=tenant.staff_token,
    )
    assert user_errors(data["createInvoice"]) == [
        (["input", "lineItems", "0", "description"], "REQUIRED"),
        (["input", "lineItems", "1", "quantity"], "INVALID"),
        (["input", "lineItems", "2", "unitPrice"], "INVALID"),
        (["input", "lineItems", "3", "taxRate"], "INVALID"),
        (["input", "lineItems", "4", "optional"], "INVALID"),
    ]
    async with db.connect() as conn:
        invoices = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Invoice)
            .where(Invoice.organization_id == tenant.organization_id)
        )
        lines = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(InvoiceLine)
            .where(InvoiceLine.organization_id == tenant.organization_id)
        )
    assert (invoices, lines) == (0, 0)


async def test_only_drafts_change_and_sending_numbers_and_dates_them(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    draft = await draft_invoice(gql, tenant, customer_id)
    data = await gql.data(
        UPDATE_INVOICE,
        {"input": {"id": draft["id"], "lineItems": [{**LINE, "quantity": "3"}]}},
        token=tenant.staff_token,
    )
    assert data["updateInvoice"]["invoice"]["total"]["amount"] == 75000
    sent = (await gql.data(SEND_INVOICE, {"id": draft["id"]}, token=tenant.staff_token))[
        "sendInvoice"
    ]["invoice"]
    assert sent["status"] == "OPEN" and sent["number"] == 1
    assert sent["issueDate"] is not None and sent["dueDate"] > sent["issueDate"]
    assert sent["amountDue"]["amount"] == 75000 and sent["isOverdue"] is False
    again = await gql.data(SEND_INVOICE, {"id": draft["id"]}, token=tenant.staff_token)
    assert user_errors(again["sendInvoice"]) == [(["input", "id"], "NOT_EDITABLE")]
    edit = await gql.data(
        UPDATE_INVOICE, {"input": {"id": draft["id"], "notes": "x"}}, token=tenant.staff_token
    )
    assert user_errors(edit["updateInvoice"]) == [(["input", "id"], "NOT_EDITABLE")]
    second = await open_invoice(gql, tenant, customer_id)
    assert second["number"] == 2


async def test_concurrent_sends_never_share_a_number(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    drafts = [await draft_invoice(gql, tenant, customer_id) for _ in range(8)]
    results = await asyncio.gather(
        *(gql.data(SEND_INVOICE, {"id": d["id"]}, token=tenant.staff_token) for d in drafts)
    )
    numbers = sorted(r["sendInvoice"]["invoice"]["number"] for r in results)
    assert numbers == list(range(1, 9))


async def test_sending_emails_those_who_want_invoices(gql, tenant, db):
    customer_id, customer_email = await make_customer(gql, tenant)
    _, wants = await make_contact(gql, tenant, customer_id)
    _, declines = await make_contact(
        gql, tenant, customer_id, communicationPreferences={"invoices": False}
    )
    _, driver = await make_contact(gql, tenant, customer_id, portalScope="CARS")
    invoice = await open_invoice(gql, tenant, customer_id)
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.kind).where(
                    OutboxEmail.organization_id == tenant.organization_id
                )
            )
        ).all()
    assert sorted(r.to_address for r in rows) == sorted([customer_email, wants])
    assert all(r.subject.startswith(f"Invoice #{invoice['number']}") for r in rows)
    assert declines not in {r.to_address for r in rows} and driver not in {
        r.to_address for r in rows
    }


async def test_void_and_empty_invoices(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    empty = await draft_invoice(gql, tenant, customer_id, [{**LINE, "unitPrice": 0}])
    refused = await gql.data(SEND_INVOICE, {"id": empty["id"]}, token=tenant.staff_token)
    assert user_errors(refused["sendInvoice"]) == [(["input", "id"], "EMPTY")]
    invoice = await open_invoice(gql, tenant, customer_id)
    voided = (await gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=tenant.staff_token))[
        "voidInvoice"
    ]["invoice"]
    assert voided["status"] == "VOID" and voided["amountDue"]["amount"] == 0
    twice = await gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=tenant.staff_token)
    assert user_errors(twice["voidInvoice"]) == [(["input", "id"], "NOT_EDITABLE")]


async def test_other_tenants_invoices_are_not_found(gql, tenant, other_tenant):
    customer_id, _ = await make_customer(gql, tenant)
    invoice = await draft_invoice(gql, tenant, customer_id)
    result = await gql(SEND_INVOICE, {"id": invoice["id"]}, token=other_tenant.staff_token)
    not_found_at(result, "id")
    other_customer = await gql(
        CREATE_INVOICE,
        {"input": {"customerId": customer_id, "lineItems": [LINE]}},
        token=other_tenant.staff_token,
    )
    not_found_at(other_customer, "customerId")


PAYMENT_SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) {
    portalSettings { estimateDepositPercent invoiceDueDays hostedCheckout }
    userErrors { field code }
  }
}
"""


async def test_payment_terms_and_deposit_settings(gql, tenant):
    bad = await gql.data(
        PAYMENT_SETTINGS,
        {"input": {"estimateDepositPercent": "100.5", "invoiceDueDays": 400}},
        token=tenant.owner_token,
    )
    assert user_errors(bad["updatePortalSettings"]) == [
        (["input", "estimateDepositPercent"], "INVALID"),
        (["input", "invoiceDueDays"], "INVALID"),
    ]
    good = await gql.data(
        PAYMENT_SETTINGS,
        {"input": {"estimateDepositPercent": "12.5", "invoiceDueDays": 30}},
        token=tenant.owner_token,
    )
    assert good["updatePortalSettings"]["portalSettings"] == {
        "estimateDepositPercent": "12.5",
        "invoiceDueDays": 30,
        "hostedCheckout": False,
    }
    customer_id, _ = await make_customer(gql, tenant)
    sent = await open_invoice(gql, tenant, customer_id)
    issued = date.fromisoformat(sent["issueDate"])
    assert date.fromisoformat(sent["dueDate"]) == issued + timedelta(days=30)


async def test_the_first_invoice_brings_portal_access_where_the_organization_wants_it(
    gql, tenant, db
):
    await gql.data(
        "mutation { updatePortalSettings(input: {autoInviteWithFirstBill: true}) "
        "{ userErrors { code } } }",
        token=tenant.owner_token,
    )
    customer_id, email = await make_customer(gql, tenant)
    await open_invoice(gql, tenant, customer_id)
    state = await gql.data(
        "query C($id: ID!) { node(id: $id) { ... on Customer { portalStatus } } }",
        {"id": customer_id},
        token=tenant.staff_token,
    )
    assert state["node"]["portalStatus"] == "INVITED"
    async with db.connect() as conn:
        kinds = (
            (await conn.execute(sa.select(OutboxEmail.kind).where(OutboxEmail.to_address == email)))
            .scalars()
            .all()
        )
    assert sorted(kinds) == ["INVOICES", "SIGN_IN"]
    await open_invoice(gql, tenant, customer_id)  # the second one does not invite again
    async with db.connect() as conn:
        invites = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.to_address == email, OutboxEmail.kind == "SIGN_IN")
        )
    assert invites == 1


async def test_amounts_beyond_what_a_bill_can_hold_are_refused(gql, tenant, db):
    customer_id, _ = await make_customer(gql, tenant)
    most = 2**31 - 1  # minor units: what the amount columns and GraphQL's Int hold
    line = {"description": "Fleet", "quantity": "1", "unitPrice": most}
    invoice = await draft_invoice(gql, tenant, customer_id, [line])
    assert invoice["total"]["amount"] == most
    taxed = {**line, "taxRate": "0.01"}
    twice = [line, {**line, "unitPrice": 1}]
    for lines, where in ((([taxed], "0")), (twice, None)):
        data = await gql.data(
            CREATE_INVOICE,
            {"input": {"customerId": customer_id, "lineItems": lines}},
            token=tenant.staff_token,
        )
        at = ["input", "lineItems", *([where] if where else [])]
        assert user_errors(data["createInvoice"]) == [(at, "INVALID")]
    data = await gql.data(
        UPDATE_INVOICE,
        {"input": {"id": invoice["id"], "lineItems": [{**line, "quantity": "1000"}]}},
        token=tenant.staff_token,
    )
    assert user_errors(data["updateInvoice"]) == [(["input", "lineItems", "0"], "INVALID")]
    async with db.connect() as conn:
        totals = (
            await conn.scalars(
                sa.select(Invoice.total).where(Invoice.organization_id == tenant.organization_id)
            )
        ).all()
    assert totals == [most]
