"""SECURITY.md A9 and A11, issue 7 part 4: request ids, and nothing unexpected leaks.

Also tests/test_http.py::test_unexpected_errors_are_masked_and_logged (stack in the log).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.routing import Route, Router

from core.settings import Settings
from models.db import Database
from portico.app import create_app
from portico.http_security import Guard
from resolvers import lists
from tests.helpers import GraphQLClient, Tenant, error_codes

CUSTOMERS = "query($s: String) { customers(search: $s) { totalCount } }"


@pytest.fixture(scope="module")
def executor_app(db: Database) -> Any:
    """The app without planned reads, so that the broken resolver below always runs."""
    return create_app(db=db, run_mail_worker=False, plan_reads=False)


@pytest.fixture
async def executor(executor_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=executor_app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        yield client


@pytest.fixture
def broken_customers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`customers` fails, unexpectedly, whenever the search starts with "boom"."""
    original = lists.customers

    async def customers(info, *args, **kwargs):
        search = kwargs.get("search") or next((a for a in args if isinstance(a, str)), "")
        if str(search).startswith("boom"):
            raise RuntimeError(f"secret internals {search} at /srv/portico/db.py")
        return await original(info, *args, **kwargs)

    monkeypatch.setattr(lists, "customers", customers)


async def test_request_ids_are_echoed_or_made(http: httpx.AsyncClient):
    echoed = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "abc-123"}
    )
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await http.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    unsafe = await http.get("/healthz", headers={"X-Request-Id": "bad id <script>"})
    assert unsafe.headers["x-request-id"] != "bad id <script>"


@pytest.mark.logs_errors  # provokes an unexpected error on purpose
async def test_a9_unexpected_errors_carry_the_code_and_request_id_into_the_log(
    executor: httpx.AsyncClient, tenant: Tenant, broken_customers: None, caplog
):
    with caplog.at_level(logging.ERROR):
        response = await executor.post(
            "/graphql",
            json={"query": CUSTOMERS, "variables": {"s": "boom"}},
            headers={"Authorization": f"Bearer {tenant.staff_token}", "X-Request-Id": "req-a9"},
        )
    (error,) = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-a9"}
    assert "secret" not in response.text and "/srv" not in response.text
    logged = [r for r in caplog.records if "secret internals" in r.getMessage()]
    assert logged and all(r.request_id == "req-a9" for r in logged)
    assert any(r.exc_info for r in logged)


async def test_deliberate_errors_keep_their_message(gql: GraphQLClient):
    result = await gql("{ customers { totalCount } }")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["message"] != "Unexpected error."


@pytest.mark.logs_errors  # provokes an unexpected error on purpose
async def test_a11_concurrent_failures_never_leak(
    executor: httpx.AsyncClient, tenant: Tenant, broken_customers: None
):
    gql = GraphQLClient(executor)
    searches = [f"boom-{i}" if i % 2 else f"fine-{i}" for i in range(50)]
    results = await asyncio.gather(
        *(gql(CUSTOMERS, {"s": s}, token=tenant.staff_token) for s in searches)
    )
    for search, result in zip(searches, results, strict=True):
        assert "secret" not in str(result)
        if search.startswith("boom"):
            assert error_codes(result) == ["INTERNAL_SERVER_ERROR"]
        else:
            assert result["data"]["customers"]["totalCount"] == 0


@pytest.mark.logs_errors  # provokes an unexpected error on purpose
async def test_unexpected_errors_outside_graphql_are_masked_too(caplog):
    async def broken(request):
        raise RuntimeError("password=hunter2 in /srv/portico/secret.py")

    app = Guard(Router(routes=[Route("/broken", broken)]), Settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
        with caplog.at_level(logging.ERROR):
            response = await http.get("/broken", headers={"X-Request-Id": "req-500"})
    assert response.status_code == 500
    assert response.json()["errors"] == [
        {
            "message": "Unexpected error.",
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-500"},
        }
    ]
    assert "hunter2" not in response.text
    assert any("hunter2" in r.getMessage() or r.exc_info for r in caplog.records)
    assert response.headers["x-content-type-options"] == "nosniff"
