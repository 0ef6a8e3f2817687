"""The Stripe gateway against real HTTP peers, and webhook signature checks.

localstripe plays Stripe's payment flow (confirmation, declines); the stub plays what
localstripe does not: idempotency keys, connected accounts, late answers, outages, refunds.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
import stripe

from core.settings import Settings, settings_from_env
from payments.signature import BadSignature, sign_payload, verify_event
from payments.stripe_api import (
    NOT_CONFIGURED,
    PaymentIntentInfo,
    ProviderRejected,
    ProviderUnavailable,
    StripeGateway,
)
from tests.smtp import free_port
from tests.stripe_stub import StripeStub

SHOP = "acct_shopone"
OTHER_SHOP = "acct_shoptwo"
TIMEOUT = 0.5


def _settings(base: str, timeout: float = TIMEOUT) -> Settings:
    return Settings(
        stripe_secret_key="sk_test_portico", stripe_api_base=base, stripe_timeout_seconds=timeout
    )


@pytest.fixture
async def gateway(stripe_stub: StripeStub) -> AsyncIterator[StripeGateway]:
    stripe_stub.set_account(SHOP, charges_enabled=True, details_submitted=True)
    stripe_stub.set_account(OTHER_SHOP, charges_enabled=True, details_submitted=True)
    async with StripeGateway(_settings(stripe_stub.url)) as gw:
        yield gw


async def _intent(
    gw: StripeGateway, key: str = "invoice-inv1-attempt-1", amount: int = 12345
) -> PaymentIntentInfo:
    return await gw.create_payment_intent(
        account=SHOP,
        amount=amount,
        currency="USD",
        metadata={"invoice_id": "inv1", "organization_id": "org1"},
        idempotency_key=key,
        description="Invoice 1001",
        receipt_email="ada@example.test",
    )


# -- settings -------------------------------------------------------------------------------


def test_timeout_setting_is_read_from_the_environment() -> None:
    assert settings_from_env({}).stripe_timeout_seconds == 10.0
    assert settings_from_env({"STRIPE_TIMEOUT_SECONDS": "2.5"}).stripe_timeout_seconds == 2.5


async def test_without_a_secret_key_payment_is_not_configured() -> None:
    async with StripeGateway(Settings()) as gw:
        assert not gw.configured
        with pytest.raises(ProviderUnavailable, match=NOT_CONFIGURED):
            await gw.retrieve_payment_intent(account=SHOP, payment_intent_id="pi_x")


# -- localstripe: the payment flow ------------------------------------------------------------


async def test_localstripe_intent_confirmed_with_a_visa_succeeds(localstripe: str) -> None:
    async with StripeGateway(_settings(localstripe, timeout=10)) as gw:
        created = await gw.create_payment_intent(
            account="acct_local",
            amount=4200,
            currency="EUR",
            metadata={"invoice_id": "inv42"},
            idempotency_key="invoice-inv42-attempt-1",
        )
        assert created.id.startswith("pi_")
        assert created.status == "requires_payment_method"
        assert (created.amount, created.currency) == (4200, "EUR")
        assert created.client_secret and created.client_secret.startswith(created.id)

        # The customer's side: Stripe.js attaches the card and confirms.
        browser = stripe.StripeClient(
            "sk_test_browser", base_addresses={"api": localstripe}, max_network_retries=0
        )
        browser.v1.payment_intents.update(created.id, params={"payment_method": "pm_card_visa"})
        assert browser.v1.payment_intents.confirm(created.id).status == "succeeded"

        fetched = await gw.retrieve_payment_intent(
            account="acct_local", payment_intent_id=created.id
        )
        assert fetched.status == "succeeded"
        assert fetched.metadata == {"invoice_id": "inv42"}


async def test_localstripe_declined_card_is_rejected(localstripe: str) -> None:
    async with StripeGateway(_settings(localstripe, timeout=10)) as gw:
        with pytest.raises(ProviderRejected) as caught:
            await gw.create_payment_intent(
                account="acct_local",
                amount=500,
                currency="usd",
                metadata={"invoice_id": "inv43"},
                idempotency_key="invoice-inv43-attempt-1",
                payment_method="pm_card_chargeCustomerFail",
                confirm=True,
            )
    assert caught.value.code == "card_declined"
    assert caught.value.status == 402


# -- the stub: keys, accounts, failures -----------------------------------------------------


async def test_every_write_names_the_account_and_our_key(
    gateway: StripeGateway, stripe_stub: StripeStub
) -> None:
    intent = await _intent(gateway, key="k-intent")
    stripe_stub.set_status(intent.id, "succeeded")
    await gateway.create_checkout_session(
        account=SHOP,
        amount=100,
        currency="usd",
        name="Invoice 1002",
        metadata={"invoice_id": "inv2"},
        success_url="https://portal.example.test/paid",
        cancel_url="https://portal.example.test/invoice",
        idempotency_key="k-checkout",
    )
    await gateway.create_refund(
        account=SHOP, payment_intent_id=intent.id, amount=10, idempotency_key="k-refund"
    )
    await gateway.retrieve_payment_intent(account=SHOP, payment_intent_id=intent.id)
    await gateway.list_payment_intents(account=SHOP, created_gte=0)

    seen = [(r.method, r.path, r.stripe_account, r.idempotency_key) for r in stripe_stub.requests]
    assert seen == [
        ("POST", "/v1/payment_intents", SHOP, "k-intent"),
        ("POST", "/v1/checkout/sessions", SHOP, "k-checkout"),
        ("POST", "/v1/refunds", SHOP, "k-refund"),
        ("GET", f"/v1/payment_intents/{intent.id}", SHOP, None),
        ("GET", "/v1/payment_intents", SHOP, None),
    ]
    form = stripe_stub.requests[0].form
    assert form == {
        "amount": "12345",
        "currency": "usd",
        "metadata": {"invoice_id": "inv1", "organization_id": "org1"},
        "payment_method_types": ["card"],
        "description": "Invoice 1001",
        "receipt_email": "ada@example.test",
    }
    assert stripe_stub.owner(intent.id) == SHOP


async def test_a_retry_with_the_same_key_returns_the_same_intent(
    gateway: StripeGateway, stripe_stub: StripeStub
) -> None:
    first = await _intent(gateway)
    again = await _intent(gateway)
    assert again == first
    assert [pi["id"] for pi in stripe_stub.objects("payment_intent")] == [first.id]


async def test_the_same_key_with_another_amount_is_refused(
    gateway: StripeGateway, stripe_stub: StripeStub
) -> None:
    await _intent(gateway, amount=12345)
    with pytest.raises(ProviderRejected) as caught:
        await _intent(gateway, amount=12346)
    assert (caught.value.code, caught.value.status) == ("idempotency_error", 400)
    assert len(stripe_stub.objects("payment_intent")) == 1


async def test_a_late_answer_is_unavailable_and_the_retry_finds_the_late_intent(
    gateway: StripeGateway, stripe_stub: StripeStub
) -> None:
    stripe_stub.delay_seconds = 3
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await _intent(gateway)
    assert time.monotonic() - started < TIMEOUT + 0.5

    # Stripe did the work; only its answer was lost.
    [late] = stripe_stub.objects("payment_intent")
    stripe_stub.delay_seconds = 0
    retried = await _intent(gateway)
    assert retried.id == late["id"]
    assert len(stripe_stub.objects("payment_intent")) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_errors_and_rate_limits_are_unavailable(
    gateway: StripeGateway, stripe_stub: StripeStub, status: int
) -> None:
    stripe_stub.fail_next(status)
    with pytest.raises(ProviderUnavailable):
        await _intent(gateway)
    assert stripe_stub.objects("payment_intent") == []
    assert (await _intent(gateway)).status == "requires_payment_method"
    assert len(stripe_stub.objects("payment_intent")) == 1


async def test_an_unreachable_stripe_is_unavailable() -> None:
    async with StripeGateway(_settings(f"http://127.0.0.1:{free_port()}")) as gw:
        with pytest.raises(ProviderUnavailable):
            await gw.retrieve_payment_intent(account=SHOP, payment_intent_id="pi_x")


async def test_another_accounts_intent_is_missing(
    gateway: StripeGateway, stripe_stub: StripeStub
) -> None:
    intent = await _intent(gateway)
    with pytest.raises(ProviderRejected) as caught:
        await gateway.retrieve_payment_intent(account=OTHER_SHOP, payment_intent_id=intent.id)
    assert (caught.value.code, caught.value.status) == ("resource_missing", 404)
    assert await gateway.list_payment_intents(account=OTHER_SHOP, created_gte=0) == []
    with pytest.raises(ProviderRejected, match="resource_missing"):
        await gateway.create_refund(
            account=OTHER_SHOP, payment_intent_id=intent.id, amount=1, idempotency_key="r"
        )


async def test_an_account_the_platform_cannot_reach_is_refused(gateway: StripeGateway) -> None:
    with pytest.raises(ProviderRejected) as caught:
        await gateway.list_payment_intents(account="acct_unknown", created_gte=0)
    assert (caught.value.code, caught.value.status) == ("account_invalid", 403)


async def test_checkout_session(gateway: StripeGateway, stripe_stub: StripeStub) -> None:
    checkout = await gateway.create_checkout_session(
        account=SHOP,
        amount=2500,
        currency="USD",
        name="Invoice 1003",
        metadata={"invoice_id": "inv3"},
        success_url="https://portal.example.test/paid",
        cancel_url="https://portal.example.test/invoice",
        idempotency_key="invoice-inv3-checkout-1",
    )
    assert checkout.id.startswith("cs_")
    assert checkout.url and checkout.url.startswith("https://")
    assert checkout.payment_intent_id is None  # Stripe makes it when the customer pays
    form = stripe_stub.requests[-1].form
    assert form["mode"] == "payment"
    assert form["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "usd",
                "unit_amount": "2500",
                "product_data": {"name": "Invoice 1003"},
            },
        }
    ]
    assert form["payment_intent_data"] == {"metadata": {"invoice_id": "inv3"}}

    paid = stripe_stub.complete_checkout(checkout.id)
    intent = await gateway.retrieve_payment_intent(
        account=SHOP, payment_intent_id=paid["payment_intent"]
    )
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2500, "USD")
    assert intent.metadata == {"invoice_id": "inv3"}


async def test_connected_account_onboarding(
    gateway: StripeGateway, stripe_stub: StripeStub
) -> None:
    account = await gateway.create_account(email="owner@shop.test", idempotency_key="org1-acct")
    assert account.startswith("acct_")
    assert await gateway.create_account(email="owner@shop.test", idempotency_key="org1-acct") == (
        account
    )
    created = stripe_stub.requests[0]
    assert created.stripe_account is None  # the platform's own call
    assert created.form == {"type": "express", "email": "owner@shop.test"}

    url = await gateway.create_account_link(
        account=account,
        refresh_url="https://staff.example.test/stripe/refresh",
        return_url="https://staff.example.test/stripe/return",
    )
    assert url.startswith("https://")
    assert stripe_stub.requests[-1].form["type"] == "account_onboarding"

    info = await gateway.retrieve_account(account=account)
    assert (info.id, info.charges_enabled, info.details_submitted) == (account, False, False)
    stripe_stub.set_account(account, charges_enabled=True, details_submitted=True)
    info = await gateway.retrieve_account(account=account)
    assert (info.charges_enabled, info.details_submitted) == (True, True)


async def test_refunds_never_exceed_what_was_received(
    gateway: StripeGateway, stripe_stub: StripeStub
) -> None:
    intent = await _intent(gateway, amount=1000)

    async def refund(amount: int, key: str) -> int:
        info = await gateway.create_refund(
            account=SHOP, payment_intent_id=intent.id, amount=amount, idempotency_key=key
        )
        assert info.id.startswith("re_") and info.status == "succeeded"
        return info.amount

    with pytest.raises(ProviderRejected, match="charge_not_refundable"):
        await refund(100, "r0")
    stripe_stub.set_status(intent.id, "succeeded")
    assert await refund(600, "r1") == 600
    assert await refund(600, "r1") == 600  # a retry, not a second refund
    with pytest.raises(ProviderRejected) as caught:
        await refund(401, "r2")
    assert (caught.value.code, caught.value.status) == ("amount_too_large", 400)
    assert await refund(400, "r3") == 400
    with pytest.raises(ProviderRejected, match="charge_already_refunded"):
        await refund(1, "r4")
    assert sum(r["amount"] for r in stripe_stub.objects("refund")) == 1000


async def test_listing_follows_every_page(gateway: StripeGateway, stripe_stub: StripeStub) -> None:
    stripe_stub.max_list_limit = 2
    made = [(await _intent(gateway, key=f"k{n}", amount=100 + n)).id for n in range(5)]
    await gateway.create_payment_intent(
        account=OTHER_SHOP, amount=1, currency="usd", metadata={}, idempotency_key="k-other"
    )
    stripe_stub.requests.clear()

    listed = await gateway.list_payment_intents(account=SHOP, created_gte=int(time.time()) - 60)
    assert sorted(pi.id for pi in listed) == sorted(made)
    pages = [r.form for r in stripe_stub.requests]
    assert len(pages) == 3
    assert "starting_after" not in pages[0]
    assert [p["starting_after"] for p in pages[1:]] == [listed[1].id, listed[3].id]
    assert all(p["created"] == {"gte": pages[0]["created"]["gte"]} for p in pages)

    assert await gateway.list_payment_intents(account=SHOP, created_gte=int(time.time()) + 60) == []


def test_stub_events_look_like_stripes(stripe_stub: StripeStub) -> None:
    intent = {"id": "pi_1", "object": "payment_intent", "status": "succeeded"}
    event = json.loads(stripe_stub.event("payment_intent.succeeded", intent, SHOP))
    assert event["id"].startswith("evt_")
    assert event["object"] == "event"
    assert event["account"] == SHOP
    assert event["livemode"] is False
    assert event["type"] == "payment_intent.succeeded"
    assert event["data"] == {"object": intent}
    assert {"api_version", "created", "pending_webhooks", "request"} <= event.keys()
    assert "account" not in json.loads(stripe_stub.event("payment_intent.succeeded", intent))


# -- webhook signatures -----------------------------------------------------------------------

SECRET = "whsec_test_portico"
NOW = 1_800_000_000
BODY = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"}).encode()


def test_a_valid_signature_gives_the_event() -> None:
    event = verify_event(BODY, sign_payload(BODY, SECRET, NOW), SECRET, now=NOW)
    assert event["id"] == "evt_1"


def test_our_signatures_are_stripes() -> None:
    """The SDK's own check accepts what `sign_payload` makes (and so what the stub sends)."""
    now = int(time.time())
    event = stripe.Webhook.construct_event(BODY.decode(), sign_payload(BODY, SECRET, now), SECRET)
    assert event.id == "evt_1"


def test_the_wrong_secret_is_refused() -> None:
    with pytest.raises(BadSignature, match="no matching signature"):
        verify_event(BODY, sign_payload(BODY, "whsec_other", NOW), SECRET, now=NOW)


def test_an_altered_body_is_refused() -> None:
    header = sign_payload(BODY, SECRET, NOW)
    with pytest.raises(BadSignature, match="no matching signature"):
        verify_event(BODY.replace(b"evt_1", b"evt_2"), header, SECRET, now=NOW)


@pytest.mark.parametrize("age", [301, -301])
def test_a_timestamp_outside_300_seconds_either_way_is_refused(age: int) -> None:
    header = sign_payload(BODY, SECRET, NOW - age)
    with pytest.raises(BadSignature, match="tolerance"):
        verify_event(BODY, header, SECRET, now=NOW)


@pytest.mark.parametrize("age", [300, -300])
def test_a_timestamp_at_300_seconds_is_accepted(age: int) -> None:
    assert verify_event(BODY, sign_payload(BODY, SECRET, NOW - age), SECRET, now=NOW)


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_header_is_refused(header: str | None) -> None:
    with pytest.raises(BadSignature, match="missing"):
        verify_event(BODY, header, SECRET, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=,v1=abc",
        "t=12x,v1=abc",
        f"t={NOW},t={NOW},v1=abc",
        f"t={NOW}",
        "v1=abc",
        f"t={NOW},v0=abc",
    ],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(BadSignature):
        verify_event(BODY, header, SECRET, now=NOW)


def test_one_right_signature_among_several_is_enough() -> None:
    right = sign_payload(BODY, SECRET, NOW).split("v1=")[1]
    wrong = sign_payload(BODY, "whsec_old", NOW).split("v1=")[1]
    header = f"t={NOW},v1={wrong},v1={right},v0=deadbeef"
    assert verify_event(BODY, header, SECRET, now=NOW)["id"] == "evt_1"


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused(body: bytes) -> None:
    with pytest.raises(BadSignature, match="JSON"):
        verify_event(body, sign_payload(body, SECRET, NOW), SECRET, now=NOW)
