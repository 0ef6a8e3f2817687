"""No call to Stripe while a write lock is held: every mutation that asks Stripe something
does it between its transactions. A probe run by the stub Stripe while it is being called
checks that another connection could take the write lock (SQLite: the database's only
one; PostgreSQL: the rows the mutation writes)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import sqlalchemy as sa

from core.ids import decode_id_of
from models import Organization
from tests.billing import open_invoice
from tests.helpers import make_tenant
from tests.payments import Paying, write_lock_is_free
from tests.stripe_stub import RecordedRequest

SETUP = "mutation { startCardSetup { setup { setupIntentId } userErrors { code } } }"
SAVE = """
mutation S($id: String!) {
  saveCard(input: {setupIntentId: $id}) { paymentMethod { id } userErrors { code } }
}
"""
REMOVE = "mutation R($id: ID!) { removeCard(input: {id: $id}) { userErrors { code } } }"
ONBOARD = "mutation { startStripeOnboarding { onboardingUrl userErrors { code } } }"
REFRESH = "mutation { refreshStripeAccount { userErrors { code } } }"


class Probe:
    """Records, for each call Stripe gets, whether the rows were free to lock."""

    def __init__(self, paying: Paying) -> None:
        self.db = paying.db
        self.rows: list[tuple[str, uuid.UUID]] = []
        self.seen: list[tuple[str, str, bool]] = []
        paying.stub.during_call = self

    async def __call__(self, call: RecordedRequest) -> None:
        for table, row_id in self.rows:
            free = await write_lock_is_free(self.db, table, row_id)
            self.seen.append((call.method, call.path, free))

    def calls(self) -> set[tuple[str, str]]:
        return {(method, path) for method, path, _ in self.seen}

    def held(self) -> list[tuple[str, str, bool]]:
        return [seen for seen in self.seen if not seen[2]]


async def test_paying_invoices_asks_stripe_with_no_write_lock_held(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    probe = Probe(paying)
    probe.rows = [("invoices", decode_id_of("Invoice", invoice["id"]))]
    asked = await paying.pay([invoice["id"]])
    assert asked["userErrors"] == []
    assert probe.calls() == {("POST", "/v1/payment_intents")}
    assert probe.held() == []


async def test_saved_cards_are_handled_with_no_write_lock_held(paying: Paying):
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    probe = Probe(paying)
    probe.rows = [("customers", decode_id_of("Customer", paying.customer_id))]
    setup = (await paying.gql.data(SETUP, token=paying.portal_token))["startCardSetup"]
    assert setup["userErrors"] == []
    setup_id = setup["setup"]["setupIntentId"]
    paying.stub.complete_setup(setup_id)
    saved = await paying.gql.data(SAVE, {"id": setup_id}, token=paying.portal_token)
    card_id = saved["saveCard"]["paymentMethod"]["id"]
    paid = await paying.pay([invoice["id"]], paymentMethodId=card_id)
    assert paid["userErrors"] == [] and paid["payment"]["paid"] is True
    removed = await paying.gql.data(REMOVE, {"id": card_id}, token=paying.portal_token)
    assert removed["removeCard"]["userErrors"] == []
    assert {path for _, path in probe.calls()} == {
        "/v1/customers",
        "/v1/setup_intents",
        f"/v1/setup_intents/{setup_id}",
        f"/v1/payment_methods/{paying.stub.objects('payment_method')[0]['id']}",
        f"/v1/payment_methods/{paying.stub.objects('payment_method')[0]['id']}/detach",
        "/v1/payment_intents",
    }
    assert probe.held() == []


async def test_connecting_stripe_asks_it_with_no_write_lock_held(paying: Paying, stripe_db):
    tenant = await make_tenant(stripe_db, paying.gql)
    probe = Probe(paying)
    probe.rows = [("organizations", tenant.organization_id)]
    started = await paying.gql.data(ONBOARD, token=tenant.owner_token)
    assert started["startStripeOnboarding"]["userErrors"] == []
    refreshed = await paying.gql.data(REFRESH, token=tenant.owner_token)
    assert refreshed["refreshStripeAccount"]["userErrors"] == []
    assert {path for _, path in probe.calls()} >= {"/v1/accounts", "/v1/account_links"}
    assert len(probe.calls()) == 3
    assert probe.held() == []


async def test_two_owners_connecting_at_once_get_one_account(paying: Paying, stripe_db):
    tenant = await make_tenant(stripe_db, paying.gql)

    async def slow(call: RecordedRequest) -> None:
        await asyncio.sleep(0.2)

    paying.stub.during_call = slow
    results: list[Any] = await asyncio.gather(
        *(paying.gql.data(ONBOARD, token=tenant.owner_token) for _ in range(2))
    )
    assert [r["startStripeOnboarding"]["userErrors"] for r in results] == [[], []]
    async with stripe_db.connect() as conn:
        account = await conn.scalar(
            sa.select(Organization.stripe_account_id).where(
                Organization.id == tenant.organization_id
            )
        )
    made = [a["id"] for a in paying.stub.objects("account") if a["id"] != paying.account]
    assert made == [account]
