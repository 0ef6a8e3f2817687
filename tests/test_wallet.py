"""Cards saved for later, paying with them, and autopay charging each invoice at most once."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from core.ids import decode_id
from domain.payments.autopay import run_autopay
from models import AutopayCharge, Invoice, Notification, OutboxEmail, Payment
from tests.billing import open_invoice
from tests.helpers import error_codes, user_errors
from tests.payments import Paying

SETUP = """
mutation {
  startCardSetup { setup { clientSecret setupIntentId stripeAccount } userErrors { code } }
}
"""
SAVE = """
mutation S($id: String!) {
  saveCard(input: {setupIntentId: $id}) {
    paymentMethod { id brand last4 expMonth expYear isDefault } userErrors { field code }
  }
}
"""
CARDS = """
{ viewer { customer { autopayEnabled paymentMethods { nodes { id last4 isDefault } } } } }
"""
AUTOPAY = """
mutation A($on: Boolean!) {
  setAutopay(input: {enabled: $on}) { customer { autopayEnabled } userErrors { field code } }
}
"""


async def _save_card(paying: Paying, *, declines: bool = False) -> dict:
    setup = (await paying.gql.data(SETUP, token=paying.portal_token))["startCardSetup"]["setup"]
    assert setup["stripeAccount"] == paying.account and setup["clientSecret"]
    paying.stub.complete_setup(setup["setupIntentId"], declines_charges=declines)
    saved = await paying.gql.data(SAVE, {"id": setup["setupIntentId"]}, token=paying.portal_token)
    return saved["saveCard"]


async def test_a_card_is_saved_through_a_setup_intent_and_pays_an_invoice(paying: Paying):
    setup = (await paying.gql.data(SETUP, token=paying.portal_token))["startCardSetup"]["setup"]
    early = await paying.gql.data(SAVE, {"id": setup["setupIntentId"]}, token=paying.portal_token)
    assert user_errors(early["saveCard"]) == [(["input", "setupIntentId"], "NOT_CONFIRMED")]
    paying.stub.complete_setup(setup["setupIntentId"])
    card = (await paying.gql.data(SAVE, {"id": setup["setupIntentId"]}, token=paying.portal_token))[
        "saveCard"
    ]["paymentMethod"]
    assert (card["brand"], card["last4"], card["isDefault"]) == ("visa", "4242", True)
    again = await paying.gql.data(SAVE, {"id": setup["setupIntentId"]}, token=paying.portal_token)
    assert again["saveCard"]["paymentMethod"]["id"] == card["id"]  # kept once
    customer = paying.stub.objects("customer")
    assert len(customer) == 1 and paying.stub.owner(customer[0]["id"]) == paying.account

    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    paid = await paying.pay([invoice["id"]], paymentMethodId=card["id"])
    assert paid["userErrors"] == [] and paid["payment"]["paid"] is True
    state = await paying.invoice(invoice["id"])
    assert state["status"] == "PAID"
    intent = paying.last_intent()
    assert (
        await paying.deliver(paying.stub.event("payment_intent.succeeded", intent, paying.account))
    ).status_code == 200
    assert len((await paying.invoice(invoice["id"]))["payments"]["nodes"]) == 1  # not twice

    second = (await _save_card(paying))["paymentMethod"]
    assert second["isDefault"] is False
    removed = await paying.gql.data(
        "mutation R($id: ID!) { removeCard(input: {id: $id}) { userErrors { code } } }",
        {"id": card["id"]},
        token=paying.portal_token,
    )
    assert removed["removeCard"]["userErrors"] == []
    cards = (await paying.gql.data(CARDS, token=paying.portal_token))["viewer"]["customer"]
    assert cards["paymentMethods"]["nodes"] == [
        {"id": second["id"], "last4": "4242", "isDefault": True}
    ]


async def test_someone_elses_setup_intent_is_not_found(paying: Paying, stripe_db):
    from tests.portal import make_customer, sign_in_by_invite

    setup = (await paying.gql.data(SETUP, token=paying.portal_token))["startCardSetup"]["setup"]
    paying.stub.complete_setup(setup["setupIntentId"])
    other_id, email = await make_customer(paying.gql, paying.tenant)
    token = await sign_in_by_invite(
        paying.gql, stripe_db, paying.smtp, paying.tenant, email, customerId=other_id
    )
    theirs = await paying.gql(SAVE, {"id": setup["setupIntentId"]}, token=token)
    assert error_codes(theirs) == ["NOT_FOUND"]


async def _due_today(paying: Paying, invoice_id: str) -> None:
    _, row_id = decode_id(invoice_id)
    async with paying.db.write() as session:
        await session.execute(
            sa.update(Invoice)
            .where(Invoice.id == row_id)
            .values(due_date=datetime.now(UTC).date() - timedelta(days=1))
        )


async def test_autopay_charges_each_due_invoice_once(paying: Paying):
    refused = await paying.gql.data(AUTOPAY, {"on": True}, token=paying.portal_token)
    assert user_errors(refused["setAutopay"]) == [(["input", "enabled"], "NOT_ALLOWED")]
    allowed = await paying.gql.data(
        "mutation { updatePortalSettings(input: {allowAutopay: true}) { "
        "portalSettings { allowAutopay } userErrors { code } } }",
        token=paying.tenant.owner_token,
    )
    assert allowed["updatePortalSettings"]["portalSettings"] == {"allowAutopay": True}
    no_card = await paying.gql.data(AUTOPAY, {"on": True}, token=paying.portal_token)
    assert user_errors(no_card["setAutopay"]) == [(["input", "enabled"], "NO_CARD")]
    await _save_card(paying)
    on = await paying.gql.data(AUTOPAY, {"on": True}, token=paying.portal_token)
    assert on["setAutopay"]["customer"]["autopayEnabled"] is True
    due = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    later = await open_invoice(paying.gql, paying.tenant, paying.customer_id)  # due in 14 days
    await _due_today(paying, due["id"])

    first = await run_autopay(paying.db)
    second = await run_autopay(paying.db)
    assert (first.charged, second.charged) == (1, 0)
    assert (await paying.invoice(due["id"]))["status"] == "PAID"
    assert (await paying.invoice(later["id"]))["status"] == "OPEN"
    assert len(paying.stub.objects("payment_intent")) == 1
    _, row_id = decode_id(due["id"])
    async with paying.db.connect() as conn:
        charges = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(AutopayCharge)
            .where(AutopayCharge.invoice_id == row_id)
        )
        receipts = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.to_address == paying.customer_email, OutboxEmail.kind == "RECEIPT")
        )
        payments = await conn.scalar(
            sa.select(sa.func.count()).select_from(Payment).where(Payment.invoice_id == row_id)
        )
    assert (charges, receipts, payments) == (1, 1, 1)


async def test_a_declined_autopay_tells_both_sides_and_is_not_retried(paying: Paying):
    await paying.set_options(allow_autopay=True)
    await _save_card(paying, declines=True)
    await paying.gql.data(AUTOPAY, {"on": True}, token=paying.portal_token)
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await _due_today(paying, invoice["id"])
    run = await run_autopay(paying.db)
    assert (run.charged, run.failed) == (0, 1)
    assert (await run_autopay(paying.db)).failed == 0  # charged at most once, even failing
    assert (await paying.invoice(invoice["id"]))["status"] == "OPEN"
    async with paying.db.connect() as conn:
        kinds = (
            await conn.execute(
                sa.select(
                    Notification.recipient_customer_id.is_not(None),
                    Notification.recipient_staff_id.is_not(None),
                ).where(
                    Notification.organization_id == paying.tenant.organization_id,
                    Notification.kind == "PAYMENT_FAILED",
                )
            )
        ).all()
        mailed = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEmail)
            .where(
                OutboxEmail.to_address == paying.customer_email,
                OutboxEmail.subject.like("Autopay%declined"),
            )
        )
    assert sum(1 for to_customer, _ in kinds if to_customer) == 1
    assert sum(1 for _, to_staff in kinds if to_staff) == 2
    assert mailed == 1


async def test_saved_cards_page_after_a_cursor(gql, db, tenant):
    """The cards' order starts with a boolean (the default first): its cursors decode."""
    from models import SavedPaymentMethod
    from models.writes import add_in_order
    from tests.portal import make_customer

    customer_id, _ = await make_customer(gql, tenant)
    _, customer_pk = decode_id(customer_id)
    async with db.write() as session:
        await add_in_order(
            session,
            [
                SavedPaymentMethod(
                    organization_id=tenant.organization_id,
                    customer_id=customer_pk,
                    stripe_payment_method_id=f"pm_{customer_pk.hex[:8]}_{n}",
                    brand="visa",
                    last4=f"{n:04d}",
                    exp_month=12,
                    exp_year=2030,
                    is_default=n == 2,
                    created_at=datetime(2026, 1, 1 + n, tzinfo=UTC),
                )
                for n in range(1, 5)
            ],
        )
    query = """query Cards($id: ID!, $after: String) { node(id: $id) { ... on Customer {
      paymentMethods(first: 1, after: $after) { pageInfo { hasNextPage endCursor }
        nodes { last4 isDefault } } } } }"""
    seen, after = [], None
    for _ in range(5):
        data = await gql.data(query, {"id": customer_id, "after": after}, token=tenant.staff_token)
        page = data["node"]["paymentMethods"]
        seen += [card["last4"] for card in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["0002", "0004", "0003", "0001"]  # the default, then newest first
