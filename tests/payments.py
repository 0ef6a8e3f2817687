"""Helpers and fixtures for online-payment tests: an app wired to the stub Stripe API, signed
webhooks. Test modules import the fixtures they use (`paying`, `stripe_db`)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from core.settings import settings_from_env
from models import Organization, PortalSettings
from models.db import Database
from payments.signature import sign_payload
from portico.app import create_app
from tests.helpers import SUITE_LIMITS, GraphQLClient, Tenant, make_tenant
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


async def write_lock_is_free(db: Database, table: str, row_id: uuid.UUID) -> bool:
    """Whether another connection could lock the row for writing right now: the whole
    database on SQLite (one writer at a time), the row on PostgreSQL. For a probe run while
    Stripe is being called (the stub's `during_call`)."""
    url = sa.make_url(db.settings.database_url)
    if url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(url.database or "", timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return True
        except sqlite3.OperationalError:  # "database is locked"
            return False
        finally:
            probe.close()
    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '200ms'")
            await conn.execute(f"SELECT id FROM {table} WHERE id = $1 FOR UPDATE", row_id)
        return True
    except asyncpg.LockNotAvailableError:
        return False
    finally:
        await conn.close()


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
                **SUITE_LIMITS,
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


# -- What Stripe's events should leave behind, whatever order they came in ------------------
#
# A model of the product's money rules written apart from the server's code: it sees only
# which events exist (a set, so no order), and says what the invoice and its payment end as.


@dataclass(frozen=True)
class StripeFact:
    """One event Stripe sends about an invoice's PaymentIntent, reduced to what matters."""

    kind: str  # succeeded | failed | refunded | dispute_opened | dispute_closed
    amount: int = 0  # received (succeeded), cumulative refunded, or disputed
    outcome: str = ""  # won | lost, for dispute_closed

    @property
    def about_a_charge(self) -> bool:
        """Refunds and disputes concern money received: they wait for the success."""
        return self.kind in ("refunded", "dispute_opened", "dispute_closed")


@dataclass(frozen=True)
class ExpectedMoney:
    invoice_status: str
    amount_paid: int
    payment_status: str | None  # None: no payment recorded
    refunded: int
    dispute: str | None  # None, OPEN, WON, LOST


def expected_money(total: int, facts: set[StripeFact]) -> ExpectedMoney:
    received = max((f.amount for f in facts if f.kind == "succeeded"), default=0)
    if received == 0:  # nothing was paid: refunds and disputes of it are still to come
        return ExpectedMoney("OPEN", 0, None, 0, None)
    refunded = min(received, max((f.amount for f in facts if f.kind == "refunded"), default=0))
    closed = [f for f in facts if f.kind == "dispute_closed"]
    opened = [f for f in facts if f.kind == "dispute_opened"]
    dispute = closed[0].outcome.upper() if closed else ("OPEN" if opened else None)
    disputed = max((f.amount for f in opened + closed), default=0)
    lost = disputed if dispute == "LOST" else 0  # an open dispute may still be won
    paid = max(0, received - refunded - lost)
    invoice_status = "PAID" if paid >= total else "PARTIALLY_PAID" if paid > 0 else "OPEN"
    if refunded >= received:
        payment_status = "REFUNDED"
    else:
        payment_status = "PARTIALLY_REFUNDED" if refunded > 0 else "SUCCEEDED"
    return ExpectedMoney(invoice_status, paid, payment_status, refunded, dispute)


def expected_answer(fact: StripeFact, delivered_before: list[StripeFact]) -> tuple[int, str]:
    """The webhook's answer to an event's first delivery: kept (202) when it is about a
    payment not received yet."""
    if fact.about_a_charge and not any(f.kind == "succeeded" for f in delivered_before):
        return 202, "PENDING"
    return 200, "APPLIED"
