"""The payment flow end to end against localstripe: a real card confirmation, Stripe's own
event shapes, a decline. localstripe has no Connect, so its events are relayed with the
connected account added, as Stripe names it on Connect webhooks."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import stripe

from models import AuditEvent, Organization
from models.db import Database
from portico.app import create_app
from tests.billing import open_invoice
from tests.helpers import GraphQLClient, make_tenant
from tests.payments import INVOICE_STATE, PAY, stripe_database
from tests.portal import make_customer, sign_in_by_invite

ACCOUNT = "acct_localstripe"


@pytest.fixture(scope="session")
async def localstripe_db(
    db: Database, database_url: str, _localstripe_server: Any
) -> AsyncIterator[Database]:
    database = stripe_database(database_url, _localstripe_server.url)
    yield database
    await database.dispose()


def _browser(base: str) -> stripe.StripeClient:
    """The customer's side: Stripe.js confirming with a card."""
    return stripe.StripeClient(
        "sk_test_browser", base_addresses={"api": base}, max_network_retries=0
    )


def _event_for(base: str, kind: str, intent_id: str) -> bytes:
    for event in _browser(base).v1.events.list(params={"limit": 100}).data:
        obj = event["data"]["object"]
        if event["type"] == kind and obj["id"] == intent_id:
            return json.dumps({**event.to_dict(), "account": ACCOUNT}).encode()
    raise AssertionError(f"localstripe sent no {kind} for {intent_id}")


async def test_card_payment_and_decline_through_localstripe(localstripe, localstripe_db, smtp):
    from tests.payments import Paying  # the webhook signer

    app = create_app(db=localstripe_db, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
        gql = GraphQLClient(http)
        tenant = await make_tenant(localstripe_db, gql)
        async with localstripe_db.write() as session:
            await session.execute(
                sa.update(Organization)
                .where(Organization.id == tenant.organization_id)
                .values(stripe_account_id=ACCOUNT, stripe_charges_enabled=True)
            )
        customer_id, email = await make_customer(gql, tenant)
        token = await sign_in_by_invite(
            gql, localstripe_db, smtp, tenant, email, customerId=customer_id
        )
        relay = Paying(
            localstripe_db,
            gql,
            http,
            None,
            tenant,
            ACCOUNT,  # type: ignore[arg-type]
            customer_id,
            email,
            token,
        )
        paid = await open_invoice(gql, tenant, customer_id)
        declined = await open_invoice(gql, tenant, customer_id)
        browser = _browser(localstripe)

        asked = await gql.data(
            PAY,
            {"input": {"invoiceIds": [paid["id"]], "idempotencyKey": "local-0001"}},
            token=token,
        )
        assert asked["payInvoice"]["userErrors"] == [], asked
        secret = asked["payInvoice"]["payment"]["clientSecret"]
        intent_id = secret.split("_secret_")[0]
        browser.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
        assert browser.v1.payment_intents.confirm(intent_id).status == "succeeded"
        await asyncio.sleep(0)
        response = await relay.deliver(
            _event_for(localstripe, "payment_intent.succeeded", intent_id)
        )
        assert response.status_code == 200, response.text
        state = await gql.data(INVOICE_STATE, {"id": paid["id"]}, token=tenant.staff_token)
        assert state["node"]["status"] == "PAID"

        asked = await gql.data(
            PAY,
            {"input": {"invoiceIds": [declined["id"]], "idempotencyKey": "local-0002"}},
            token=token,
        )
        intent_id = asked["payInvoice"]["payment"]["clientSecret"].split("_secret_")[0]
        browser.v1.payment_intents.update(
            intent_id, params={"payment_method": "pm_card_chargeCustomerFail"}
        )
        with pytest.raises(stripe.CardError):
            browser.v1.payment_intents.confirm(intent_id)
        response = await relay.deliver(
            _event_for(localstripe, "payment_intent.payment_failed", intent_id)
        )
        assert response.status_code == 200
        state = await gql.data(INVOICE_STATE, {"id": declined["id"]}, token=tenant.staff_token)
        assert state["node"]["status"] == "OPEN" and state["node"]["payments"]["nodes"] == []
        async with localstripe_db.connect() as conn:
            failed = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.organization_id == tenant.organization_id,
                    AuditEvent.action == "payment.failed",
                )
            )
        assert failed == 1
