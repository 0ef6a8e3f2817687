"""A statement the database stops for waiting too long (statement_timeout, 57014; or
lock_timeout, 55P03) is answered REQUEST_TIMEOUT (HTTP 504, retryable) with one warning line,
never as an unexpected error with a traceback. PostgreSQL only: SQLite has no row locks."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from core.ids import decode_id_of
from core.settings import settings_from_env
from models.db import Database
from models.migrate import upgrade
from portico.app import create_app
from tests.conftest import SUITE_LIMITS, _pg_url, admin_execute
from tests.helpers import GraphQLClient, make_tenant
from tests.portal import make_customer

UPDATE = """
mutation U($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { name } userErrors { code } }
}
"""


@pytest.fixture
async def scratch_pg(postgres_database: str) -> AsyncIterator[str]:
    """A database of its own: the test changes its lock_timeout."""
    name = f"portico_locks_{uuid.uuid4().hex[:12]}"
    await admin_execute(f'CREATE DATABASE "{name}"')
    yield name
    await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _served(name: str, **env: str) -> tuple[Database, httpx.AsyncClient]:
    db = Database(settings_from_env({"DATABASE_URL": _pg_url(name), **SUITE_LIMITS, **env}))
    await upgrade(db.engine)
    transport = httpx.ASGITransport(app=create_app(db=db, run_mail_worker=False))
    return db, httpx.AsyncClient(transport=transport, base_url="http://portico.test")


async def _held_row(name: str, customer_id: uuid.UUID) -> asyncpg.Connection:
    """Another connection (a long job, a stuck session) holding the customer's row."""
    holder = await asyncpg.connect(_pg_url(name).replace("+asyncpg", ""), timeout=5)
    await holder.execute("BEGIN")
    await holder.execute("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE", customer_id)
    return holder


async def _update_while_held(
    name: str, caplog: pytest.LogCaptureFixture, **env: str
) -> tuple[httpx.Response, list[logging.LogRecord], Any]:
    db, http = await _served(name, **env)
    try:
        gql = GraphQLClient(http)
        tenant = await make_tenant(db, gql)
        customer_id, _ = await make_customer(gql, tenant, name="Before")
        holder = await _held_row(name, decode_id_of("Customer", customer_id))
        try:
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                response = await gql.post(
                    UPDATE, {"input": {"id": customer_id, "name": "After"}}, tenant.staff_token
                )
            records = list(caplog.records)
        finally:
            await holder.close()  # the lock is released: the same request now succeeds
        again = await gql.data(
            UPDATE, {"input": {"id": customer_id, "name": "After"}}, token=tenant.staff_token
        )
        return response, records, again
    finally:
        await http.aclose()
        await db.dispose()


def _assert_timed_out(response: httpx.Response, records: list[logging.LogRecord]) -> None:
    assert response.status_code == 504, response.text
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["REQUEST_TIMEOUT"]
    assert "Try again" in errors[0]["message"]
    # One warning line, and no traceback anywhere.
    assert [(r.levelname, r.name) for r in records] == [("WARNING", "portico.graphql")], [
        (r.levelname, r.name, r.getMessage()) for r in records
    ]
    assert records[0].exc_info is None and "REQUEST_TIMEOUT" in records[0].getMessage()


async def test_a_statement_timeout_on_a_locked_row_answers_request_timeout(
    scratch_pg: str, caplog: pytest.LogCaptureFixture
):
    response, records, again = await _update_while_held(
        scratch_pg, caplog, STATEMENT_TIMEOUT_MS="300"
    )
    _assert_timed_out(response, records)
    assert "canceling statement due to statement timeout" in records[0].getMessage()
    assert again["updateCustomer"]["customer"]["name"] == "After"


async def test_a_lock_timeout_answers_request_timeout(
    scratch_pg: str, caplog: pytest.LogCaptureFixture
):
    await admin_execute(f"ALTER DATABASE \"{scratch_pg}\" SET lock_timeout = '200ms'")
    response, records, again = await _update_while_held(scratch_pg, caplog)
    _assert_timed_out(response, records)
    assert "canceling statement due to lock timeout" in records[0].getMessage()
    assert again["updateCustomer"]["customer"]["name"] == "After"
