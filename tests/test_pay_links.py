"""Pay links: the link in an invoice email pays that invoice, and only that, without a
portal sign-in; it expires, and dies once the invoice is paid or void."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from auth.pay_links import SALT, pay_link_token, read_pay_link
from core.ids import decode_id_of, encode_id
from models import AccessLog, OutboxEmail
from models.db import Database
from tests.billing import VOID_INVOICE, draft_invoice, open_invoice
from tests.helpers import error_codes, make_tenant, user_errors
from tests.payments import Paying
from tests.portal import make_customer
from tests.test_wallet import _save_card

LINK = re.compile(r"/pay/([A-Za-z0-9_\-.]+)")
OPEN = """
query L($token: String!) {
  payLink(token: $token) {
    organizationName invoiceNumber status dueDate total { amount currency }
    amountDue { amount currency } paysOnline savedCards { id last4 isDefault }
  }
}
"""
PAY = """
mutation P($input: PayInvoiceByLinkInput!) {
  payInvoiceByLink(input: $input) {
    payment { amount { amount currency } clientSecret stripeAccount paid }
    userErrors { field code message }
  }
}
"""


async def _emailed_token(db: Database, to: str, number: int) -> str | None:
    """The pay link's token in the email that announced invoice `number` to `to`."""
    async with db.connect() as conn:
        bodies = (
            await conn.execute(
                sa.select(OutboxEmail.body_text).where(
                    OutboxEmail.to_address == to, OutboxEmail.subject.contains(f"#{number} ")
                )
            )
        ).scalars()
        found = [LINK.search(body) for body in bodies]
    links = {match.group(1) for match in found if match}
    assert len(links) <= 1, links
    return links.pop() if links else None


async def _open(paying: Paying, token: str) -> Any:
    return await paying.gql(
        "query L($token: String!) { payLink(token: $token) { status } }", {"token": token}
    )


async def _pay(paying: Paying, token: str, key: str | None = None, **extra: Any) -> Any:
    variables = {"token": token, "idempotencyKey": key or uuid.uuid4().hex, **extra}
    return (await paying.gql.data(PAY, {"input": variables}))["payInvoiceByLink"]


async def _views(db: Database, invoice_id: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(AccessLog.action, AccessLog.customer_id).where(
                AccessLog.subject_type == "Invoice", AccessLog.subject_id == invoice_id
            )
        )
        return [(str(action), customer) for action, customer in rows]


async def test_the_invoice_email_links_to_a_payment_that_needs_no_sign_in(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    token = await _emailed_token(paying.db, paying.customer_email, invoice["number"])
    assert token is not None, "the invoice email carries a pay link"

    # Opened by someone not signed in: what is due, and a VIEW in the customer's access log.
    opened = (await paying.gql.data(OPEN, {"token": token}))["payLink"]
    assert opened == {
        "organizationName": opened["organizationName"],
        "invoiceNumber": invoice["number"],
        "status": "OPEN",
        "dueDate": opened["dueDate"],
        "total": {"amount": 25000, "currency": "USD"},
        "amountDue": {"amount": 25000, "currency": "USD"},
        "paysOnline": True,
        "savedCards": [],
    }
    invoice_id = decode_id_of("Invoice", invoice["id"])
    customer_id = decode_id_of("Customer", paying.customer_id)
    assert await _views(paying.db, invoice_id) == [("VIEW", customer_id)]

    # Paid in full through the link: a PaymentIntent on the business's account, for this
    # invoice of this customer; a retry with the same key asks for nothing new.
    asked = await _pay(paying, token, key="link-pay-0001")
    assert asked["userErrors"] == []
    assert asked["payment"]["amount"] == {"amount": 25000, "currency": "USD"}
    assert asked["payment"]["stripeAccount"] == paying.account
    intent = paying.last_intent()
    assert intent["metadata"]["portico_customer"] == str(customer_id)
    assert intent["metadata"]["portico_allocation"] == f"{invoice_id}:25000"
    assert (await _pay(paying, token, key="link-pay-0001"))["userErrors"] == []
    assert len(paying.stub.objects("payment_intent")) == 1
    assert (await paying.invoice(invoice["id"]))["status"] == "OPEN"  # until Stripe confirms

    assert (await paying.succeed(intent["id"])).status_code == 200
    assert (await paying.invoice(invoice["id"]))["status"] == "PAID"
    # Paid: the link is dead, for reading and for paying.
    assert error_codes(await _open(paying, token)) == ["PAY_LINK_INVALID"]
    dead = await _pay(paying, token)
    assert user_errors(dead) == [(["input", "token"], "PAY_LINK_INVALID")]
    assert len(paying.stub.objects("payment_intent")) == 1


async def test_a_saved_card_is_offered_and_charged_through_the_link(paying: Paying):
    card = (await _save_card(paying))["paymentMethod"]
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    token = await _emailed_token(paying.db, paying.customer_email, invoice["number"])
    assert token is not None
    opened = (await paying.gql.data(OPEN, {"token": token}))["payLink"]
    assert opened["savedCards"] == [{"id": card["id"], "last4": "4242", "isDefault": True}]
    paid = await _pay(paying, token, paymentMethodId=card["id"])
    assert paid["userErrors"] == [] and paid["payment"]["paid"] is True
    assert (await paying.invoice(invoice["id"]))["status"] == "PAID"


async def test_a_link_opens_its_own_invoice_only(paying: Paying):
    # Another customer of the same business, with a saved card of their own: a link for
    # one invoice neither shows nor charges it, nor pays any other invoice.
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    token = await _emailed_token(paying.db, paying.customer_email, invoice["number"])
    assert token is not None
    other_id, _ = await make_customer(paying.gql, paying.tenant)
    theirs = await open_invoice(paying.gql, paying.tenant, other_id)
    their_card = encode_id("SavedPaymentMethod", uuid.uuid4())
    answer = await paying.gql(
        PAY,
        {"input": {"token": token, "idempotencyKey": "abcdefgh1", "paymentMethodId": their_card}},
    )
    assert error_codes(answer) == ["NOT_FOUND"]
    # The token is no session: nothing else answers to it.
    for query in ("{ viewer { customer { id } } }", "{ invoices { totalCount } }"):
        response = await paying.gql.post(query, None, token)
        assert error_codes(response.json()) == ["UNAUTHENTICATED"], response.text
    mine = (await paying.gql.data(OPEN, {"token": token}))["payLink"]
    assert mine["invoiceNumber"] == invoice["number"] != theirs["number"]
    assert paying.stub.objects("payment_intent") == []


async def test_tampered_expired_foreign_void_and_unsent_links_are_refused(
    paying: Paying, stripe_db: Database
):
    settings = stripe_db.settings
    org_id = paying.tenant.organization_id
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    invoice_id = decode_id_of("Invoice", invoice["id"])
    token = pay_link_token(settings, org_id, invoice_id)
    assert read_pay_link(settings, token) is not None

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - (settings.pay_link_days + 1) * 86_400

    keys = list(reversed(settings.secret_keys))
    expired = URLSafeTimedSerializer(keys, salt=SALT, signer=LongAgo).dumps(
        [org_id.hex, invoice_id.hex]
    )
    other_salt = URLSafeTimedSerializer(keys, salt="portico-download-link").dumps(
        [org_id.hex, invoice_id.hex]
    )
    # Signed by Portico, but naming this invoice under another business.
    other = await make_tenant(stripe_db, paying.gql)
    misrouted = pay_link_token(settings, other.organization_id, invoice_id)
    draft = await draft_invoice(paying.gql, paying.tenant, paying.customer_id)
    unsent = pay_link_token(settings, org_id, decode_id_of("Invoice", draft["id"]))
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    refused = [tampered, expired, other_salt, misrouted, unsent, "", "x" * 5000]
    for bad in refused:
        assert error_codes(await _open(paying, bad)) == ["PAY_LINK_INVALID"], bad[:20]
        assert user_errors(await _pay(paying, bad)) == [(["input", "token"], "PAY_LINK_INVALID")]
    await paying.gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=paying.tenant.staff_token)
    assert error_codes(await _open(paying, token)) == ["PAY_LINK_INVALID"]
    assert paying.stub.objects("payment_intent") == []
    assert await _views(paying.db, invoice_id) == []  # nothing was opened


async def test_no_pay_link_where_the_business_takes_no_card_payments(paying: Paying):
    await paying.set_options(allow_online_payment=False)
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    assert await _emailed_token(paying.db, paying.customer_email, invoice["number"]) is None
    # A link made while it did is shown but cannot pay.
    token = pay_link_token(
        paying.db.settings, paying.tenant.organization_id, decode_id_of("Invoice", invoice["id"])
    )
    opened = (await paying.gql.data(OPEN, {"token": token}))["payLink"]
    assert opened["paysOnline"] is False and opened["savedCards"] == []
    refused = await _pay(paying, token)
    assert user_errors(refused) == [(["input", "token"], "PAYMENTS_NOT_ENABLED")]
