"""Helpers and fixtures for online-payment tests: an app wired to the stub Stripe API, signed
webhooks. Test modules import the fixtures they use (`paying`, `stripe_db`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from models import Organization, PortalSettings
from models.db import Database
from payments.signature import sign_payload
from portico.app import create_app
from portico.settings import settings_from_env
from tests.helpers import GraphQLClient, Tenant, make_tenant
from tests.portal import make_customer, sign_in_by_invite
from tests.stripe_stub import StripeStub

WEBHOOK_SECRET = "whsec_test_portico"

PAY = """
mutation P($input: PayInvoiceInput!) {
  payInvoice(input: $input) {
    payment { amount { amount currency } clientSecret checkoutUrl stripeAccount paid }
    userErrors { field code message }
  }
}
"""
INVOICE_STATE = """
query I($id: ID!) {
  node(id: $id) {
    ... on Invoice { status amountPaid { amount } amountDue { amount }
                     payments(first: 10) { nodes { amount { amount } method status
                                                   refundedAmount { amount } } } }
  }
}
"""


@dataclass
class Paying:
    """A connected organization, its signed-in portal customer, and the stub behind it."""

    db: Database
    gql: GraphQLClient
    http: httpx.AsyncClient
    stub: StripeStub
    tenant: Tenant
    account: str
    customer_id: str
    customer_email: str
    portal_token: str
    smtp: Any = None

    async def pay(self, invoice_ids: list[str], key: str | None = None, **extra: Any) -> Any:
        variables = {
            "invoiceIds": invoice_ids,
            "idempotencyKey": key or uuid.uuid4().hex,
            **extra,
        }
        data = await self.gql.data(PAY, {"input": variables}, token=self.portal_token)
        return data["payInvoice"]

    async def invoice(self, invoice_id: str) -> dict[str, Any]:
        data = await self.gql.data(INVOICE_STATE, {"id": invoice_id}, token=self.tenant.staff_token)
        return data["node"]

    def last_intent(self) -> dict[str, Any]:
        return self.stub.objects("payment_intent")[-1]

    async def deliver(
        self, body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> httpx.Response:
        header = sign_payload(body, secret, int(time.time()) if timestamp is None else timestamp)
        return await self.http.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )

    async def succeed(self, intent_id: str) -> httpx.Response:
        """The customer pays: Stripe moves the intent on and tells Portico."""
        intent = self.stub.set_status(intent_id, "succeeded")
        return await self.deliver(self.stub.event("payment_intent.succeeded", intent, self.account))

    async def set_options(self, **values: Any) -> None:
        async with self.db.write() as session:
            await session.execute(
                sa.update(PortalSettings)
                .where(PortalSettings.organization_id == self.tenant.organization_id)
                .values(**values)
            )


def stripe_database(database_url: str, api_base: str) -> Database:
    """The test database, seen by a server whose Stripe is at `api_base`."""
    return Database(
        settings_from_env(
            {
                "DATABASE_URL": database_url,
                "STRIPE_SECRET_KEY": "sk_test_portico",
                "STRIPE_API_BASE": api_base,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_TIMEOUT_SECONDS": "1",
            }
        )
    )


async def connect(db: Database, stub: StripeStub, organization_id: uuid.UUID) -> str:
    """Give the organization a connected account that can take charges."""
    account = f"acct_{uuid.uuid4().hex[:16]}"
    stub.set_account(account, charges_enabled=True, details_submitted=True)
    async with db.write() as session:
        await session.execute(
            sa.update(Organization)
            .where(Organization.id == organization_id)
            .values(stripe_account_id=account, stripe_charges_enabled=True)
        )
    return account


@pytest.fixture(scope="session")
async def stripe_db(
    db: Database, database_url: str, _stripe_stub_server: Any
) -> AsyncIterator[Database]:
    """The test database, seen by a server whose Stripe is the stub."""
    database = stripe_database(database_url, _stripe_stub_server.url)
    yield database
    await database.dispose()


@pytest.fixture
async def paying(db, stripe_db, stripe_stub, smtp) -> AsyncIterator[Paying]:
    app = create_app(db=stripe_db, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
        gql = GraphQLClient(http)
        tenant = await make_tenant(stripe_db, gql)
        account = await connect(stripe_db, stripe_stub, tenant.organization_id)
        customer_id, email = await make_customer(gql, tenant)
        token = await sign_in_by_invite(gql, stripe_db, smtp, tenant, email, customerId=customer_id)
        yield Paying(
            stripe_db, gql, http, stripe_stub, tenant, account, customer_id, email, token, smtp
        )
