"""PostgreSQL stopped and started under a steady load: requests during the outage are refused
quickly as SERVICE_UNAVAILABLE, the app serves again once the database is back without a
restart, and every acknowledged write is there. A WebSocket sign-in is refused with close
code 4503 while it is down and acknowledged again after; the mail worker logs the outage
once, and its end once, with no stack trace.

The test runs its own PostgreSQL (tests/private_postgres.py) so that it may stop it; it is
skipped only where the server binaries are missing, and fails then under CI=true.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from core.broker import BrokerInterrupted
from core.outage_watch import OutageWatch
from core.settings import settings_from_env
from mail.sender import FileMailer
from mail.worker import run_worker
from models.db import Database
from models.migrate import upgrade
from models.tables import customers
from portico.app import create_app
from portico.live import UNAVAILABLE_CLOSE_CODE
from portico.pg_broker import PostgresBroker
from tests.conftest import SUITE_LIMITS
from tests.helpers import GraphQLClient, Tenant, make_tenant
from tests.private_postgres import PrivatePostgres, running
from tests.smtp import free_port

# A refused request must come back well within this; a hang would take the connect timeout.
REFUSAL_SECONDS = 3.0
# From the database accepting connections again to the app answering a request.
RECOVERY_SECONDS = 10.0
TEST_BOUND = 30.0

CREATE = """
mutation C($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } userErrors { code } }
}
"""
COUNT = "query { customers(first: 1) { totalCount } }"
SIGN_IN = """
mutation { signIn(input: {email: "nobody@outage.test", password: "wrong"}) { token } }
"""


@pytest.fixture
async def postgres() -> AsyncIterator[PrivatePostgres]:
    async with running("portico-pg-") as server:
        yield server


@pytest.fixture
async def app_on(postgres: PrivatePostgres) -> AsyncIterator[tuple[Database, Starlette]]:
    """The app on the private PostgreSQL, migrated."""
    db = Database(settings_from_env({"DATABASE_URL": postgres.url, **SUITE_LIMITS}))
    await upgrade(db.engine)
    yield db, create_app(db=db, run_mail_worker=False)
    await db.dispose()


@pytest.fixture
async def served(
    app_on: tuple[Database, Starlette],
) -> AsyncIterator[tuple[Database, GraphQLClient]]:
    db, app = app_on
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
        yield db, GraphQLClient(http)


@pytest.fixture
async def socket_url(app_on: tuple[Database, Starlette]) -> AsyncIterator[str]:
    """The same app behind a real uvicorn on a loopback port (a WebSocket needs a socket),
    logging through pytest's handlers (log_config=None); its WebSocket URL."""
    port = free_port()
    config = uvicorn.Config(app_on[1], host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(TEST_BOUND):
        while not server.started:
            assert not serving.done(), "uvicorn did not start"
            await asyncio.sleep(0.05)
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await asyncio.wait_for(serving, TEST_BOUND)


@dataclass
class Load:
    """Writes and reads sent one after another until stopped, with what came of each."""

    gql: GraphQLClient
    tenant: Tenant
    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)
    slowest: float = 0.0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            name = f"Load {uuid.uuid4().hex[:10]}"
            result = await self._timed(CREATE, {"input": {"name": name}})
            ok = result.get("data") and result["data"]["createCustomer"]["userErrors"] == []
            said = {e["extensions"]["code"] for e in result.get("errors", [])}
            if ok:
                self.acknowledged.append(name)
            elif "OUTCOME_UNKNOWN" in said:  # lost during its COMMIT: it may exist
                self.unknown.append(name)
            else:
                self.refused.append(name)
            await self._timed(COUNT, {})
            await asyncio.sleep(0.01)

    async def _timed(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        response = await self.gql.post(query, variables, self.tenant.staff_token)
        self.slowest = max(self.slowest, time.monotonic() - started)
        body = response.json()
        self.codes.update(e["extensions"]["code"] for e in body.get("errors", []))
        return body


async def refused_quickly(gql: GraphQLClient, query: str, token: str | None) -> httpx.Response:
    started = time.monotonic()
    response = await gql.post(query, {"input": {"name": "During the outage"}}, token)
    assert time.monotonic() - started < REFUSAL_SECONDS
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
    return response


async def test_requests_fail_fast_during_an_outage_and_the_app_recovers(
    postgres: PrivatePostgres, served: tuple[Database, GraphQLClient]
):
    db, gql = served
    async with asyncio.timeout(TEST_BOUND):
        tenant = await make_tenant(db, gql)
        load = Load(gql, tenant)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(0.5)
        assert load.acknowledged, "the load made no write before the outage"

        await asyncio.to_thread(postgres.stop, "immediate")
        outage_started = len(load.acknowledged)
        # A signed-in request is refused before it runs (its session cannot be read): 503.
        for query in (COUNT, CREATE):
            response = await refused_quickly(gql, query, tenant.staff_token)
            assert response.status_code == 503
            assert response.headers["retry-after"]
        # An anonymous one fails in its resolver: a GraphQL error, not a masked one.
        await refused_quickly(gql, SIGN_IN, None)
        # Other routes answer 503.
        for method, path in (("POST", "/integrations/telematics/readings"), ("GET", "/readyz")):
            started = time.monotonic()
            response = await gql.http.request(
                method, path, headers={"Authorization": "Bearer ptk_x"}, content=b"{}"
            )
            assert response.status_code == 503, response.text
            assert time.monotonic() - started < REFUSAL_SECONDS
        await asyncio.sleep(1.0)
        assert len(load.acknowledged) == outage_started, "a write was acknowledged while down"

        await asyncio.to_thread(postgres.start)
        back = time.monotonic()
        while (await gql.post(COUNT, None, tenant.staff_token)).status_code != 200:
            assert time.monotonic() - back < RECOVERY_SECONDS, "the app did not recover"
            await asyncio.sleep(0.1)
        recovered = time.monotonic() - back
        await asyncio.sleep(0.5)
        load.stop.set()
        await running

    print(  # the figures, for `pytest -s`
        f"outage: {len(load.acknowledged)} writes acknowledged, {len(load.refused)} refused, "
        f"{len(load.unknown)} lost during COMMIT, "
        f"slowest answer {load.slowest:.3f} s, served again {recovered:.2f} s after restart"
    )
    assert len(load.acknowledged) > outage_started, "no write was acknowledged after recovery"
    assert load.refused, "the load sent nothing during the outage"
    # "May have happened" only for a write lost during its COMMIT.
    assert load.codes <= {"SERVICE_UNAVAILABLE", "OUTCOME_UNKNOWN"}, load.codes
    assert load.slowest < REFUSAL_SECONDS
    async with db.connect() as conn:
        stored = (
            await conn.execute(
                sa.select(customers.c.name).where(
                    customers.c.organization_id == tenant.organization_id
                )
            )
        ).scalars()
        names = list(stored)
    assert len(names) == len(set(names)), "a write was stored twice"
    assert set(load.acknowledged) <= set(names), "an acknowledged write is missing"
    # A write refused as SERVICE_UNAVAILABLE was not made ("nothing was changed"); one
    # answered OUTCOME_UNKNOWN may have been, never twice.
    assert not set(names) & set(load.refused), "a write said to be refused was stored"
    assert set(names) <= set(load.acknowledged) | set(load.unknown)


async def test_the_broker_ends_streams_on_an_outage_and_listens_again_after_it(
    postgres: PrivatePostgres, served: tuple[Database, GraphQLClient]
):
    db, _gql = served
    broker = PostgresBroker(db)
    try:
        async with asyncio.timeout(TEST_BOUND):
            async with broker.subscribe("outage.test") as events:
                await broker.publish("outage.test", "before")
                assert await anext(events) == "before"
                await asyncio.to_thread(postgres.stop, "immediate")
                # Events may have been missed: the stream ends instead of going quiet.
                with pytest.raises(BrokerInterrupted):
                    await asyncio.wait_for(anext(events), REFUSAL_SECONDS)

            await asyncio.to_thread(postgres.start)
            for _ in range(int(RECOVERY_SECONDS / 0.05)):
                if broker.connected:
                    break
                await asyncio.sleep(0.05)
            async with broker.subscribe("outage.test") as events:
                await broker.publish("outage.test", "after")
                assert await asyncio.wait_for(anext(events), REFUSAL_SECONDS) == "after"
    finally:
        await broker.close()


async def socket_sign_in(url: str, token: str) -> tuple[str, int | None, str]:
    """What answers a graphql-transport-ws `connection_init` with a bearer token:
    ("connection_ack", None, "") or ("closed", code, reason). A hang fails the test."""
    async with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        try:
            async with asyncio.timeout(REFUSAL_SECONDS):
                frame = json.loads(await ws.recv())
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            return "closed", code, closed.rcvd.reason if closed.rcvd else ""
        return frame["type"], None, ""


async def test_websocket_sign_in_is_refused_with_a_code_during_an_outage_and_works_after(
    postgres: PrivatePostgres,
    served: tuple[Database, GraphQLClient],
    socket_url: str,
    caplog: pytest.LogCaptureFixture,
):
    db, gql = served
    async with asyncio.timeout(TEST_BOUND):
        tenant = await make_tenant(db, gql)
        assert await socket_sign_in(socket_url, tenant.staff_token) == ("connection_ack", None, "")

        await asyncio.to_thread(postgres.stop, "immediate")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for _ in range(2):  # the pool's broken connections, then a refused new one
                started = time.monotonic()
                refused = await socket_sign_in(socket_url, tenant.staff_token)
                assert time.monotonic() - started < REFUSAL_SECONDS
                assert refused == ("closed", UNAVAILABLE_CLOSE_CODE, "SERVICE_UNAVAILABLE")
        # A warning says why; nothing logs a stack trace for an outage.
        assert any("WebSocket connection refused" in r.getMessage() for r in caplog.records)
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]

        await asyncio.to_thread(postgres.start)
        back = time.monotonic()
        while (await socket_sign_in(socket_url, tenant.staff_token))[0] != "connection_ack":
            assert time.monotonic() - back < RECOVERY_SECONDS, "sign-in did not recover"
            await asyncio.sleep(0.1)


async def test_the_mail_worker_logs_an_outage_once_and_backs_off(
    postgres: PrivatePostgres,
    app_on: tuple[Database, Starlette],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
):
    db, _app = app_on
    stop = asyncio.Event()
    mail_log = logging.getLogger("portico.mail")

    def said(text: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == mail_log.name and text in r.getMessage()]

    with caplog.at_level(logging.INFO, logger=mail_log.name):
        # Polling every 50 ms, a stack trace per round would be dozens in the outage.
        worker = asyncio.create_task(
            run_worker(db, FileMailer(tmp_path), stop, interval=0.05, outage_max_wait=0.5)
        )
        try:
            async with asyncio.timeout(TEST_BOUND):
                await asyncio.sleep(0.3)
                await asyncio.to_thread(postgres.stop, "immediate")
                await asyncio.sleep(2.5)
                await asyncio.to_thread(postgres.start)
                for _ in range(int(RECOVERY_SECONDS / 0.05)):
                    if said("resumed"):
                        break
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await worker
    records = [r for r in caplog.records if r.name == mail_log.name]
    assert len(said("database unavailable: mail delivery paused")) == 1, records
    assert len(said("database reachable again: mail delivery resumed")) == 1, records
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR]


def test_an_outage_watch_waits_longer_while_down_and_logs_both_ends(
    caplog: pytest.LogCaptureFixture,
):
    log = logging.getLogger("tests.outage_watch")
    watch = OutageWatch(log, "polling", interval=1.0, max_wait=10.0)
    waits = []
    with caplog.at_level(logging.INFO, logger=log.name):
        assert not watch.failed(ValueError("a statement's own fault"))
        assert watch.wait == 1.0
        for _ in range(5):
            assert watch.failed(ConnectionRefusedError("connection refused"))
            waits.append(watch.wait)
        watch.succeeded()
        watch.succeeded()
    assert waits == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert watch.wait == 1.0
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.INFO]


async def test_requests_log_an_outage_once_when_it_starts_and_once_when_it_ends(
    postgres: PrivatePostgres,
    served: tuple[Database, GraphQLClient],
    caplog: pytest.LogCaptureFixture,
):
    db, gql = served
    async with asyncio.timeout(TEST_BOUND):
        tenant = await make_tenant(db, gql)
        await asyncio.to_thread(postgres.stop, "immediate")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            # Every request path, several times: refused before running (a signed-in
            # query or write), in a resolver (an anonymous sign-in), other routes.
            for _ in range(3):
                for query, token in ((COUNT, tenant.staff_token), (CREATE, tenant.staff_token)):
                    assert (
                        await gql.post(query, {"input": {"name": "x"}}, token)
                    ).status_code == 503
                signed = await gql.post(SIGN_IN, None, None)
                assert signed.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                for method, path in (
                    ("POST", "/integrations/telematics/readings"),
                    ("GET", "/readyz"),
                ):
                    response = await gql.http.request(
                        method, path, headers={"Authorization": "Bearer ptk_x"}, content=b"{}"
                    )
                    assert response.status_code == 503
            during = list(caplog.records)

            await asyncio.to_thread(postgres.start)
            back = time.monotonic()
            while (await gql.post(COUNT, None, tenant.staff_token)).status_code != 200:
                assert time.monotonic() - back < RECOVERY_SECONDS, "the app did not recover"
                await asyncio.sleep(0.1)
            for _ in range(3):
                assert (await gql.post(COUNT, None, tenant.staff_token)).status_code == 200
    warnings = [r for r in during if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in warnings] == [
        "database unavailable: requests are refused until it is back"
    ], [r.getMessage() for r in warnings]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    ended = [r for r in caplog.records if "database reachable again" in r.getMessage()]
    assert len(ended) == 1, [r.getMessage() for r in caplog.records]
    assert ended[0].levelno == logging.INFO
    assert "15 refused meanwhile" in ended[0].getMessage()
