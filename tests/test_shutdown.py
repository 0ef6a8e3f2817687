"""SIGTERM during a burst of mutations: the server stops taking requests, finishes those in
flight, and exits; every acknowledged mutation is committed, none half-written."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from models import Contact, Customer
from models.db import Database
from portico.settings import settings_from_env
from schema.ids import decode_id

BOUND = 30.0  # seconds for the whole test
OWNER = "owner@shutdown.test"
PASSWORD = "shutdown-owner-password"
CREATE = """
mutation C($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }
"""
ADD_CONTACT = """
mutation C($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _portico(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-m", "portico.cli", *args]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=BOUND)


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
    port = _free_port()
    database = tmp_path / "shutdown.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "MAIL_DIR": str(tmp_path / "mail"),
        "REQUESTS_PER_MINUTE_PER_CLIENT": "0",
        "REQUESTS_PER_MINUTE_PER_SESSION": "0",
        "PORTICO_STAFF_PASSWORD": PASSWORD,
    }
    _portico(env, "migrate")
    _portico(
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
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portico.cli",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    acknowledged: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + BOUND
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                await asyncio.sleep(0.1)
            sign_in = (
                'mutation { signIn(input: {email: "'
                + OWNER
                + '", password: "'
                + PASSWORD
                + '"}) { token } }'
            )
            token = (await http.post("/graphql", json={"query": sign_in})).json()["data"]["signIn"][
                "token"
            ]
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
        if server.returncode is None:
            server.kill()
            await server.wait()
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
