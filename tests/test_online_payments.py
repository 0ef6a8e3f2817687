"""Paying invoices online: PaymentIntents on the connected account, confirmed only by
Stripe's signed webhooks, each payment recorded once whatever Stripe repeats."""

import asyncio
import itertools
import json
import random
import time
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from core.ids import decode_id_of
from domain.payments.reconcile import reconcile
from domain.payments.stripe_events import Outcome, handle_event
from models import (
    AuditEvent,
    Estimate,
    Notification,
    Organization,
    OutboxEmail,
    Payment,
    ProviderEvent,
    Refund,
)
from models.db import Database
from portico.app import create_app
from tests.billing import (
    APPROVE,
    INVOICE_ESTIMATE,
    REFUND_PAYMENT,
    SEND_INVOICE,
    VOID_INVOICE,
    open_invoice,
    sent_estimate,
)
from tests.helpers import GraphQLClient, error_codes, make_tenant, user_errors
from tests.payments import (
    WEBHOOK_SECRET,
    ExpectedMoney,
    Paying,
    StripeFact,
    expected_answer,
    expected_money,
    write_lock_is_free,
)
from tests.portal import make_customer
from tests.stripe_stub import RecordedRequest


async def _payments(db: Database, organization_id) -> list[Any]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(Payment.amount, Payment.status, Payment.provider_payment_intent_id).where(
                Payment.organization_id == organization_id
            )
        )
        return found.all()


async def test_full_payment_is_recorded_only_when_stripe_confirms(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    asked = await paying.pay([invoice["id"]], key="checkout-0001")
    assert asked["userErrors"] == []
    assert asked["payment"]["amount"] == {"amount": 25000, "currency": "USD"}
    assert asked["payment"]["clientSecret"] and asked["payment"]["stripeAccount"] == paying.account
    intent = paying.last_intent()
    assert (intent["amount"], intent["currency"]) == (25000, "usd")
    assert paying.stub.owner(intent["id"]) == paying.account  # a direct charge on their account
    create = [r for r in paying.stub.requests if r.path == "/v1/payment_intents"][-1]
    assert create.stripe_account == paying.account and create.idempotency_key
    # Nothing changes until Stripe confirms.
    assert (await paying.invoice(invoice["id"]))["status"] == "OPEN"
    assert await _payments(paying.db, paying.tenant.organization_id) == []
    response = await paying.succeed(intent["id"])
    assert response.status_code == 200
    state = await paying.invoice(invoice["id"])
    assert state["status"] == "PAID" and state["amountDue"]["amount"] == 0
    assert state["payments"]["nodes"] == [
        {
            "amount": {"amount": 25000},
            "method": "CARD_ONLINE",
            "status": "SUCCEEDED",
            "refundedAmount": {"amount": 0},
        }
    ]
    async with paying.db.connect() as conn:
        receipts = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.to_address == paying.customer_email, OutboxEmail.kind == "RECEIPT")
        )
        told = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(
                Notification.organization_id == paying.tenant.organization_id,
                Notification.kind == "PAYMENT_RECEIVED",
            )
        )
        audited = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.organization_id == paying.tenant.organization_id,
                AuditEvent.action == "payment.received",
            )
        )
    assert (receipts, told, audited) == (1, 2, 1)
    again = await paying.pay([invoice["id"]])
    assert user_errors(again) == [(["input", "invoiceIds"], "NOT_PAYABLE")]


async def test_replays_and_out_of_order_events_never_count_money_twice(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent = paying.stub.set_status(paying.last_intent()["id"], "succeeded")
    success = paying.stub.event("payment_intent.succeeded", intent, paying.account)
    failure = paying.stub.event(
        "payment_intent.payment_failed",
        {
            **intent,
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined"},
        },
        paying.account,
    )
    second_success = paying.stub.event("payment_intent.succeeded", intent, paying.account)
    for body in (failure, success, success, failure, second_success):
        assert (await paying.deliver(body)).status_code == 200
    # Two processes receiving the same event at once: still one payment.
    responses = await asyncio.gather(*(paying.deliver(success) for _ in range(4)))
    assert {r.status_code for r in responses} == {200}
    assert len(await _payments(paying.db, paying.tenant.organization_id)) == 1
    state = await paying.invoice(invoice["id"])
    assert state["status"] == "PAID" and state["amountPaid"]["amount"] == 25000


async def test_partial_payments_follow_the_organizations_rules(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    refused = await paying.pay([invoice["id"]], amount=10000)
    assert user_errors(refused) == [(["input", "amount"], "PARTIAL_PAYMENT_NOT_ALLOWED")]
    await paying.set_options(allow_partial_payment=True, minimum_partial_amount=5000)
    low = await paying.pay([invoice["id"]], amount=4999)
    assert user_errors(low) == [(["input", "amount"], "BELOW_MINIMUM")]
    over = await paying.pay([invoice["id"]], amount=25001)
    assert user_errors(over) == [(["input", "amount"], "OVERPAYMENT")]
    part = await paying.pay([invoice["id"]], amount=10000)
    assert part["payment"]["amount"]["amount"] == 10000
    await paying.succeed(paying.last_intent()["id"])
    state = await paying.invoice(invoice["id"])
    assert state["status"] == "PARTIALLY_PAID" and state["amountDue"]["amount"] == 15000
    rest = await paying.pay([invoice["id"]])
    assert rest["payment"]["amount"]["amount"] == 15000


async def test_several_invoices_in_one_payment(paying: Paying):
    first = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    second = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    asked = await paying.pay([first["id"], second["id"]])
    assert asked["payment"]["amount"]["amount"] == 50000
    await paying.succeed(paying.last_intent()["id"])
    assert (await paying.invoice(first["id"]))["status"] == "PAID"
    assert (await paying.invoice(second["id"]))["status"] == "PAID"


async def test_void_paid_and_foreign_invoices_cannot_be_paid(paying: Paying, db, smtp):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=paying.tenant.staff_token)
    void = await paying.pay([invoice["id"]])
    assert user_errors(void) == [(["input", "invoiceIds"], "NOT_PAYABLE")]
    other_id, _ = await make_customer(paying.gql, paying.tenant)
    theirs = await open_invoice(paying.gql, paying.tenant, other_id)
    result = await paying.gql(
        "mutation P($input: PayInvoiceInput!) { payInvoice(input: $input) { __typename } }",
        {"input": {"invoiceIds": [theirs["id"]], "idempotencyKey": "abcdefgh"}},
        token=paying.portal_token,
    )
    assert error_codes(result) == ["NOT_FOUND"]
    assert paying.stub.objects("payment_intent") == []


async def test_stripe_unreachable_or_late_records_nothing_and_a_retry_is_safe(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    paying.stub.fail_next(503)
    down = await paying.pay([invoice["id"]], key="retry-key-1")
    assert user_errors(down) == [(["input", "invoiceIds"], "PAYMENT_PROVIDER_UNAVAILABLE")]
    assert paying.stub.objects("payment_intent") == []
    paying.stub.delay_seconds = 1.5  # Stripe creates the intent but answers after our timeout
    late = await paying.pay([invoice["id"]], key="retry-key-1")
    assert user_errors(late) == [(["input", "invoiceIds"], "PAYMENT_PROVIDER_UNAVAILABLE")]
    paying.stub.delay_seconds = 0
    await asyncio.sleep(1)  # let the late request finish at the stub
    retried = await paying.pay([invoice["id"]], key="retry-key-1")
    assert retried["userErrors"] == []
    assert len(paying.stub.objects("payment_intent")) == 1  # one intent, never a second charge
    assert await _payments(paying.db, paying.tenant.organization_id) == []
    assert (await paying.invoice(invoice["id"]))["status"] == "OPEN"


async def test_the_same_key_for_a_different_amount_is_refused(paying: Paying):
    await paying.set_options(allow_partial_payment=True)
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]], key="same-key-01", amount=1000)
    reused = await paying.pay([invoice["id"]], key="same-key-01", amount=2000)
    assert user_errors(reused) == [(["input", "idempotencyKey"], "IDEMPOTENCY_KEY_REUSED")]


async def test_forged_stale_and_misrouted_webhooks_change_nothing(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent = paying.stub.set_status(paying.last_intent()["id"], "succeeded")
    body = paying.stub.event("payment_intent.succeeded", intent, paying.account)
    assert (await paying.deliver(body, secret="whsec_wrong")).status_code == 400
    altered = body.replace(b'"amount_received": 25000', b'"amount_received": 99999')
    header = (await _signed(body))["Stripe-Signature"]
    tampered = await paying.http.post(
        "/webhooks/stripe", content=altered, headers={"Stripe-Signature": header}
    )
    assert altered != body and tampered.status_code == 400
    stale = await paying.deliver(body, timestamp=int(time.time()) - 301)
    future = await paying.deliver(body, timestamp=int(time.time()) + 301)
    missing = await paying.http.post("/webhooks/stripe", content=body)
    assert (stale.status_code, future.status_code, missing.status_code) == (400, 400, 400)
    elsewhere = paying.stub.event("payment_intent.succeeded", intent, "acct_someone_else")
    assert (await paying.deliver(elsewhere)).status_code == 400
    assert await _payments(paying.db, paying.tenant.organization_id) == []
    assert (await paying.invoice(invoice["id"]))["status"] == "OPEN"
    assert (await paying.deliver(body)).status_code == 200  # the genuine one still applies
    assert (await paying.invoice(invoice["id"]))["status"] == "PAID"


async def _signed(body: bytes) -> dict[str, str]:
    from payments.signature import sign_payload

    return {"Stripe-Signature": sign_payload(body, WEBHOOK_SECRET, int(time.time()))}


async def test_test_mode_events_are_ignored_in_production(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent = paying.stub.set_status(paying.last_intent()["id"], "succeeded")
    event = json.loads(paying.stub.event("payment_intent.succeeded", intent, paying.account))
    assert await handle_event(paying.db, event, production=True) == Outcome.IGNORED
    assert await _payments(paying.db, paying.tenant.organization_id) == []
    assert await handle_event(paying.db, event, production=False) == Outcome.APPLIED


async def test_refunds_at_stripe_and_by_staff_keep_totals_consistent(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent = paying.last_intent()
    await paying.succeed(intent["id"])
    charge = {
        "id": "ch_test",
        "object": "charge",
        "payment_intent": intent["id"],
        "amount": 25000,
        "amount_refunded": 5000,
        "refunded": False,
        "metadata": {},
    }
    refunded = paying.stub.event("charge.refunded", charge, paying.account)
    assert (await paying.deliver(refunded)).status_code == 200
    assert (await paying.deliver(refunded)).status_code == 200
    state = await paying.invoice(invoice["id"])
    assert state["status"] == "PARTIALLY_PAID" and state["amountDue"]["amount"] == 5000
    payment = state["payments"]["nodes"][0]
    assert payment["status"] == "PARTIALLY_REFUNDED" and payment["refundedAmount"]["amount"] == 5000
    payment_id = (
        await paying.gql.data(
            "query I($id: ID!) { node(id: $id) { ... on Invoice { payments(first: 1) {"
            " nodes { id } } } } }",
            {"id": invoice["id"]},
            token=paying.tenant.staff_token,
        )
    )["node"]["payments"]["nodes"][0]["id"]
    by_staff = await paying.gql.data(
        REFUND_PAYMENT,
        {"input": {"paymentId": payment_id, "amount": 7000}},
        token=paying.tenant.staff_token,
    )
    assert by_staff["refundPayment"]["userErrors"] == []
    refund = paying.stub.objects("refund")[-1]
    assert refund["amount"] == 7000 and paying.stub.owner(refund["id"]) == paying.account
    # Stripe then reports the cumulative amount: nothing is counted twice.
    later = paying.stub.event(
        "charge.refunded", {**charge, "amount_refunded": 12000}, paying.account
    )
    assert (await paying.deliver(later)).status_code == 200
    state = await paying.invoice(invoice["id"])
    assert state["payments"]["nodes"][0]["refundedAmount"]["amount"] == 12000
    assert state["amountPaid"]["amount"] == 13000 and state["status"] == "PARTIALLY_PAID"


async def test_reconciliation_settles_payments_whose_webhook_never_came(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    paying.stub.set_status(paying.last_intent()["id"], "succeeded")  # no webhook arrives
    assert (await paying.invoice(invoice["id"]))["status"] == "OPEN"
    first = await reconcile(paying.db)
    assert first.settled >= 1
    assert (await paying.invoice(invoice["id"]))["status"] == "PAID"
    await reconcile(paying.db)
    assert len(await _payments(paying.db, paying.tenant.organization_id)) == 1


async def test_hosted_checkout_where_the_organization_prefers_it(paying: Paying):
    await paying.set_options(hosted_checkout=True)
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    asked = await paying.pay([invoice["id"]])
    assert asked["payment"]["checkoutUrl"].startswith("http")
    assert asked["payment"]["clientSecret"] is None
    session = paying.stub.objects("checkout.session")[-1]
    paid = paying.stub.complete_checkout(session["id"])
    intent = paying.stub.get(paid["payment_intent"])
    event = paying.stub.event("payment_intent.succeeded", intent, paying.account)
    assert (await paying.deliver(event)).status_code == 200
    assert (await paying.invoice(invoice["id"]))["status"] == "PAID"


async def test_no_online_payment_until_charges_are_enabled(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    async with paying.db.write() as session:
        await session.execute(
            sa.update(Organization)
            .where(Organization.id == paying.tenant.organization_id)
            .values(stripe_charges_enabled=False)
        )
    refused = await paying.pay([invoice["id"]])
    assert user_errors(refused) == [(["input", "invoiceIds"], "PAYMENTS_NOT_ENABLED")]
    # Stripe says onboarding is finished: the account.updated event turns payments on.
    account = paying.stub.set_account(paying.account, charges_enabled=True)
    updated = paying.stub.event("account.updated", account, paying.account)
    assert (await paying.deliver(updated)).status_code == 200
    assert (await paying.pay([invoice["id"]]))["userErrors"] == []


ONBOARD = """
mutation { startStripeOnboarding { onboardingUrl organization { paymentsEnabled }
                                   userErrors { code } } }
"""


async def test_an_owner_connects_the_organizations_stripe_account(paying: Paying, stripe_db):
    tenant = await make_tenant(stripe_db, paying.gql)
    refused = await paying.gql(ONBOARD, token=tenant.staff_token)
    assert error_codes(refused) == ["OWNER_REQUIRED"]
    started = (await paying.gql.data(ONBOARD, token=tenant.owner_token))["startStripeOnboarding"]
    assert started["onboardingUrl"].startswith("http")
    assert (await paying.http.get("/stripe/onboarding/done")).status_code == 200
    assert started["organization"]["paymentsEnabled"] is False
    async with stripe_db.connect() as conn:
        account = await conn.scalar(
            sa.select(Organization.stripe_account_id).where(
                Organization.id == tenant.organization_id
            )
        )
    assert account and paying.stub.get(account)["object"] == "account"
    again = (await paying.gql.data(ONBOARD, token=tenant.owner_token))["startStripeOnboarding"]
    assert again["userErrors"] == []
    assert len(paying.stub.objects("account")) == 2  # this one and the fixture's: not a third
    paying.stub.set_account(account, charges_enabled=True)
    refreshed = await paying.gql.data(
        "mutation { refreshStripeAccount { organization { paymentsEnabled } } }",
        token=tenant.owner_token,
    )
    assert refreshed["refreshStripeAccount"]["organization"]["paymentsEnabled"] is True


async def test_approval_takes_the_deposit_in_the_same_step(paying: Paying):
    await paying.set_options(estimate_deposit_bp=2500)
    estimate = await sent_estimate(paying.gql, paying.tenant, paying.customer_id)
    approved = (
        await paying.gql.data(
            APPROVE,
            {"input": {"estimateId": estimate["id"], "version": 1, "declinedLines": [2]}},
            token=paying.portal_token,
        )
    )["approveEstimate"]
    assert approved["userErrors"] == []
    deposit = approved["depositPayment"]
    assert deposit["amount"] == {"amount": 10500, "currency": "USD"}  # 25 % of 420.00
    assert approved["estimate"]["decision"]["deposit"]["amount"] == 10500
    intent = paying.last_intent()
    assert intent["metadata"]["portico_kind"] == "deposit"
    await paying.succeed(intent["id"])
    made = await paying.gql.data(
        INVOICE_ESTIMATE, {"id": estimate["id"]}, token=paying.tenant.staff_token
    )
    invoice = made["invoiceEstimate"]["invoice"]
    assert invoice["amountPaid"]["amount"] == 10500 and invoice["status"] == "DRAFT"
    sent = await paying.gql.data(
        SEND_INVOICE, {"id": invoice["id"]}, token=paying.tenant.staff_token
    )
    assert sent["sendInvoice"]["invoice"]["status"] == "PARTIALLY_PAID"
    assert sent["sendInvoice"]["invoice"]["amountDue"]["amount"] == 31500


async def _estimate_lock_is_free(db: Database, estimate_id: uuid.UUID) -> bool:
    return await write_lock_is_free(db, "estimates", estimate_id)


async def test_the_deposit_is_asked_of_stripe_with_no_write_lock_held(paying: Paying):
    await paying.set_options(estimate_deposit_bp=2500)
    estimate = await sent_estimate(paying.gql, paying.tenant, paying.customer_id)
    estimate_id = decode_id_of("Estimate", estimate["id"])
    free_during_call: list[bool] = []

    async def probe(call: RecordedRequest) -> None:
        if call.method == "POST" and call.path == "/v1/payment_intents":
            free_during_call.append(await _estimate_lock_is_free(paying.db, estimate_id))

    paying.stub.during_call = probe
    variables = {"input": {"estimateId": estimate["id"], "version": 1}}
    approved = (await paying.gql.data(APPROVE, variables, token=paying.portal_token))[
        "approveEstimate"
    ]
    assert approved["userErrors"] == [] and approved["estimate"]["status"] == "APPROVED"
    assert free_during_call == [True]
    # The probe can tell: inside a write transaction the same probe finds the lock taken.
    async with paying.db.write() as session:
        await session.execute(
            sa.update(Estimate)
            .where(Estimate.id == estimate_id)
            .values(updated_at=Estimate.updated_at)
        )
        assert not await asyncio.to_thread(_run, _estimate_lock_is_free(paying.db, estimate_id))


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def test_approval_is_not_recorded_when_the_deposit_cannot_be_asked_for(paying: Paying):
    await paying.set_options(estimate_deposit_bp=1000)
    estimate = await sent_estimate(paying.gql, paying.tenant, paying.customer_id)
    paying.stub.fail_next(503)
    variables = {"input": {"estimateId": estimate["id"], "version": 1}}
    down = (await paying.gql.data(APPROVE, variables, token=paying.portal_token))["approveEstimate"]
    assert user_errors(down) == [(["input", "estimateId"], "PAYMENT_PROVIDER_UNAVAILABLE")]
    retried = (await paying.gql.data(APPROVE, variables, token=paying.portal_token))[
        "approveEstimate"
    ]
    assert retried["estimate"]["status"] == "APPROVED"


@pytest.mark.logs_errors  # an event that cannot be applied is a fault on purpose
async def test_an_event_that_cannot_be_applied_gets_5xx_and_leaves_nothing(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent = paying.stub.set_status(paying.last_intent()["id"], "succeeded")
    broken = {**intent, "metadata": {**intent["metadata"], "portico_customer": str(uuid.uuid4())}}
    body = paying.stub.event("payment_intent.succeeded", broken, paying.account)
    response = await paying.deliver(body)
    assert response.status_code == 500  # Stripe will deliver it again
    event_id = json.loads(body)["id"]
    async with paying.db.connect() as conn:
        recorded = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(ProviderEvent)
            .where(ProviderEvent.id == event_id)
        )
    assert recorded == 0 and await _payments(paying.db, paying.tenant.organization_id) == []
    assert (await paying.invoice(invoice["id"]))["status"] == "OPEN"


async def test_two_processes_receiving_one_event_at_once_record_one_payment(
    paying: Paying, stripe_db: Database, database_url: str, _stripe_stub_server: Any
):
    """Two server processes (two apps, two connection pools) get the same delivery."""
    from tests.payments import stripe_database

    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent = paying.stub.set_status(paying.last_intent()["id"], "succeeded")
    body = paying.stub.event("payment_intent.succeeded", intent, paying.account)
    other_db = stripe_database(database_url, _stripe_stub_server.url)
    try:
        other = create_app(db=other_db, run_mail_worker=False)
        transport = httpx.ASGITransport(app=other, client=("127.0.0.1", 50003))
        async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
            second = Paying(
                other_db,
                GraphQLClient(http),
                http,
                paying.stub,
                paying.tenant,
                paying.account,
                paying.customer_id,
                paying.customer_email,
                paying.portal_token,
            )
            answers = await asyncio.gather(
                *(side.deliver(body) for side in (paying, second, paying, second))
            )
    finally:
        await other_db.dispose()
    assert {a.status_code for a in answers} == {200}
    assert len(await _payments(paying.db, paying.tenant.organization_id)) == 1
    assert (await paying.invoice(invoice["id"]))["amountPaid"]["amount"] == 25000


async def _stripe_events(
    paying: Paying, invoice_id: str, outcome: str
) -> list[tuple[StripeFact, bytes]]:
    """An invoice of 250.00 paid online, then at Stripe: 100.00 refunded in the dashboard,
    and the rest (150.00) disputed by the cardholder, the dispute ending `outcome`; plus an
    earlier attempt that was declined. Each as the event Stripe sends, signed on delivery."""
    await paying.pay([invoice_id])
    intent_id = paying.last_intent()["id"]
    intent = paying.stub.set_status(intent_id, "succeeded")
    declined = {
        **intent,
        "status": "requires_payment_method",
        "amount_received": 0,
        "latest_charge": None,
        "last_payment_error": {"code": "card_declined"},
    }
    paying.stub.refund_at_stripe(intent_id, 10000)
    charge = paying.stub.charge(intent_id)
    opened = paying.stub.dispute(intent_id, 15000)
    closed = paying.stub.dispute(intent_id, 15000, status=outcome)
    assert (charge["amount_refunded"], opened["status"], closed["status"]) == (
        10000,
        "needs_response",
        outcome,
    )

    def event(kind: str, obj: dict[str, Any]) -> bytes:
        return paying.stub.event(kind, obj, paying.account)

    return [
        (StripeFact("succeeded", 25000), event("payment_intent.succeeded", intent)),
        (StripeFact("failed"), event("payment_intent.payment_failed", declined)),
        (StripeFact("refunded", 10000), event("charge.refunded", charge)),
        (StripeFact("dispute_opened", 15000), event("charge.dispute.created", opened)),
        (StripeFact("dispute_closed", 15000, outcome), event("charge.dispute.closed", closed)),
    ]


async def _money_of(paying: Paying, invoice_id: str) -> ExpectedMoney:
    """What the server ends with, in the model's terms."""
    state = await paying.invoice(invoice_id)
    async with paying.db.connect() as conn:
        found = await conn.execute(
            sa.select(Payment.status, Payment.refunded_amount, Payment.dispute_status).where(
                Payment.invoice_id == decode_id_of("Invoice", invoice_id)
            )
        )
        rows = found.all()
    assert len(rows) <= 1 and len(state["payments"]["nodes"]) == len(rows)
    status, refunded, dispute = rows[0] if rows else (None, 0, None)
    if rows:  # the API says what the table says
        node = state["payments"]["nodes"][0]
        assert (node["status"], node["refundedAmount"]["amount"]) == (status, refunded)
    return ExpectedMoney(
        state["status"],
        state["amountPaid"]["amount"],
        None if status is None else str(status),
        refunded,
        None if dispute is None else str(dispute),
    )


def _with_repeats(order: tuple[int, ...], rng: random.Random) -> list[int]:
    """The order, with a second delivery of every event somewhere after its first."""
    sequence = list(order)
    for index in order:
        first = sequence.index(index)
        sequence.insert(rng.randint(first + 1, len(sequence)), index)
    return sequence


async def test_every_order_of_payment_refund_dispute_and_failure_ends_the_same(paying: Paying):
    """All 120 orders of succeeded / failed / refunded / dispute opened / dispute closed,
    each event also delivered a second time somewhere later, through the signed webhook:
    the server ends as the model says, and kept nothing it did not apply."""
    rng = random.Random(21)
    cases = []
    for n, order in enumerate(itertools.permutations(range(5))):
        outcome = "lost" if n % 2 == 0 else "won"
        invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
        events = await _stripe_events(paying, invoice["id"], outcome)
        delivered: list[StripeFact] = []
        for index in _with_repeats(order, rng):
            fact, body = events[index]
            response = await paying.deliver(body)
            answer = (response.status_code, response.json()["code"])
            if fact in delivered:
                assert answer == (200, "IGNORED"), (order, fact)
            else:
                assert answer == expected_answer(fact, delivered), (order, fact)
                delivered.append(fact)
        cases.append((order, invoice["id"], expected_money(25000, {f for f, _ in events})))
    ends = {expected.invoice_status for _, _, expected in cases}
    assert ends == {"OPEN", "PARTIALLY_PAID"}  # lost: 0 kept of 250.00; won: 150.00
    for order, invoice_id, expected in cases:
        assert await _money_of(paying, invoice_id) == expected, order
    async with paying.db.connect() as conn:
        waiting = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(ProviderEvent)
            .where(ProviderEvent.waiting_for.is_not(None))  # type: ignore[union-attr]
        )
        receipts = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.to_address == paying.customer_email, OutboxEmail.kind == "RECEIPT")
        )
    assert (waiting, receipts) == (0, 120)
    # Stripe's own lists say the same as its events did: reconciliation changes nothing.
    again = await reconcile(paying.db)
    assert (again.settled, again.refunds_applied, again.disputes_applied) == (0, 0, 0)
    assert again.checked == 120
    for order, invoice_id, expected in cases[:10]:
        assert await _money_of(paying, invoice_id) == expected, order


async def test_a_full_refund_reported_before_its_payment_is_kept_and_applied(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent_id = paying.last_intent()["id"]
    intent = paying.stub.set_status(intent_id, "succeeded")
    paying.stub.refund_at_stripe(intent_id, 25000)
    refunded = paying.stub.event("charge.refunded", paying.stub.charge(intent_id), paying.account)
    early = await paying.deliver(refunded)
    assert (early.status_code, early.json()) == (202, {"received": True, "code": "PENDING"})
    assert (await paying.invoice(invoice["id"]))["payments"]["nodes"] == []
    succeeded = paying.stub.event("payment_intent.succeeded", intent, paying.account)
    assert (await paying.deliver(succeeded)).json()["code"] == "APPLIED"
    state = await paying.invoice(invoice["id"])
    assert (state["status"], state["amountPaid"]["amount"]) == ("OPEN", 0)
    assert state["payments"]["nodes"][0]["status"] == "REFUNDED"
    assert state["payments"]["nodes"][0]["refundedAmount"]["amount"] == 25000


async def test_reconciliation_applies_refunds_and_disputes_whose_webhooks_never_came(
    paying: Paying,
):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    await paying.pay([invoice["id"]])
    intent_id = paying.last_intent()["id"]
    await paying.succeed(intent_id)
    paying.stub.refund_at_stripe(intent_id, 5000)  # in Stripe's dashboard; no webhook comes
    first = await reconcile(paying.db)
    assert (first.refunds_applied, first.disputes_applied) == (1, 0)
    state = await paying.invoice(invoice["id"])
    assert (state["status"], state["amountPaid"]["amount"]) == ("PARTIALLY_PAID", 20000)
    paying.stub.refund_at_stripe(intent_id, 3000)  # a second one: the total is compared
    paying.stub.dispute(intent_id, 17000, status="lost")
    second = await reconcile(paying.db)
    assert (second.refunds_applied, second.disputes_applied) == (1, 1)
    state = await paying.invoice(invoice["id"])
    assert (state["status"], state["amountPaid"]["amount"]) == ("OPEN", 0)
    assert state["payments"]["nodes"][0]["refundedAmount"]["amount"] == 8000
    third = await reconcile(paying.db)
    assert (third.settled, third.refunds_applied, third.disputes_applied) == (0, 0, 0)
    async with paying.db.connect() as conn:
        refunds = await conn.scalar(
            sa.select(sa.func.sum(Refund.amount)).where(
                Refund.organization_id == paying.tenant.organization_id
            )
        )
    assert refunds == 8000


async def test_a_refund_and_its_payment_arriving_at_once_leave_nothing_waiting(paying: Paying):
    """Delivered at the same moment, each sees the other or waits for it: never a refund
    kept for a payment that the other transaction recorded without seeing it."""
    invoices = []
    for _ in range(8):
        invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
        await paying.pay([invoice["id"]])
        intent_id = paying.last_intent()["id"]
        intent = paying.stub.set_status(intent_id, "succeeded")
        paying.stub.refund_at_stripe(intent_id, 25000)
        bodies = [
            paying.stub.event("charge.refunded", paying.stub.charge(intent_id), paying.account),
            paying.stub.event("payment_intent.succeeded", intent, paying.account),
        ]
        invoices.append((invoice["id"], bodies))
    answers = await asyncio.gather(
        *(paying.deliver(body) for _, bodies in invoices for body in bodies)
    )
    assert {a.status_code for a in answers} <= {200, 202}
    for invoice_id, _ in invoices:
        state = await paying.invoice(invoice_id)
        assert (state["status"], state["payments"]["nodes"][0]["status"]) == ("OPEN", "REFUNDED")
