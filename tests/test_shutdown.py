"""SIGTERM during a burst of mutations: the server stops taking requests, finishes those in
flight, and exits; every acknowledged mutation is committed, none half-written."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import sqlalchemy as sa

from core.ids import decode_id
from core.settings import settings_from_env
from models import Contact, Customer
from models.db import Database
from tests.served import portico, sign_in, start_server, stop_server

BOUND = 30.0  # seconds for the whole test
OWNER = "owner@shutdown.test"
PASSWORD = "shutdown-owner-password"
CREATE = """
mutation C($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }
"""
ADD_CONTACT = """
mutation C($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }
"""


async def _customer_with_contact(http: httpx.AsyncClient, token: str, n: int) -> str | None:
    """Two mutations; returns the customer id once both were acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        made = await http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": {"name": f"Burst {n}"}}},
            headers=headers,
        )
        customer = made.json()["data"]["createCustomer"]["customer"]["id"]
        contact = {"customerId": customer, "name": f"Contact {n}"}
        added = await http.post(
            "/graphql",
            json={"query": ADD_CONTACT, "variables": {"input": contact}},
            headers=headers,
        )
        assert added.json()["data"]["createContact"]["contact"]["id"]
        return customer
    except (httpx.HTTPError, KeyError, TypeError, ValueError, AssertionError):
        return None  # refused or cut off: not acknowledged


async def test_sigterm_during_a_burst_keeps_every_acknowledged_mutation(tmp_path: Path):
    database = tmp_path / "shutdown.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "MAIL_DIR": str(tmp_path / "mail"),
        "REQUESTS_PER_MINUTE_PER_CLIENT": "0",
        "REQUESTS_PER_MINUTE_PER_SESSION": "0",
        "PORTICO_STAFF_PASSWORD": PASSWORD,
    }
    portico(env, "migrate")
    portico(
        env,
        "create-staff",
        "--organization",
        "Shutdown Garage",
        "--slug",
        "shutdown",
        "--name",
        "Owner",
        "--email",
        OWNER,
    )
    server, base_url = await start_server(env)
    acknowledged: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            token = await sign_in(http, OWNER, PASSWORD)
            burst = [asyncio.create_task(_customer_with_contact(http, token, n)) for n in range(60)]
            await asyncio.sleep(0.8)  # some done, some in flight, some not yet sent
            server.send_signal(signal.SIGTERM)
            results = await asyncio.gather(*burst)
            acknowledged = [r for r in results if r is not None]
        # uvicorn finishes in-flight requests, runs the lifespan shutdown, then re-raises the
        # signal it caught, so a graceful stop reports SIGTERM (a kill would be SIGKILL).
        assert await asyncio.wait_for(server.wait(), BOUND) in (0, -signal.SIGTERM)
        errors = (await server.stderr.read()).decode() if server.stderr else ""
        assert "Finished server process" in errors, errors[-2000:]
    finally:
        await stop_server(server)
    assert acknowledged, "the burst should have been partly served before the signal"
    db = Database(settings_from_env({"DATABASE_URL": f"sqlite+aiosqlite:///{database}"}))
    try:
        async with db.connect() as conn:
            customers = (await conn.execute(sa.select(Customer.id, Customer.name))).all()
            contacts = (await conn.execute(sa.select(Contact.customer_id))).all()
    finally:
        await db.dispose()
    stored = {row.id.hex for row in customers}
    assert {decode_id(c)[1].hex for c in acknowledged} <= stored  # nothing acknowledged lost
    with_contact = {row.customer_id for row in contacts}
    # Each mutation is one transaction: a contact never exists without its customer, and
    # every acknowledged customer has the contact that was acknowledged with it.
    assert with_contact <= {row.id for row in customers}
    assert {decode_id(c)[1] for c in acknowledged} <= with_contact
