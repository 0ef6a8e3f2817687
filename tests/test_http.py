"""The HTTP surface: GraphiQL in development, no GET queries, masked internal errors."""

import logging

import httpx
import pytest

from models.db import Database
from portico.app import create_app
from portico.settings import settings_from_env
from resolvers import lists
from tests.helpers import GraphQLClient, Tenant

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_graphiql_is_served_in_development(http: httpx.AsyncClient):
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_queries_over_get_are_refused(http: httpx.AsyncClient):
    response = await http.get("/graphql", params={"query": "{ viewer { kind } }"})
    assert response.status_code in (400, 405)


async def test_batched_requests_are_refused(http: httpx.AsyncClient):
    body = [{"query": "{ viewer { kind } }"}, {"query": "{ viewer { kind } }"}]
    response = await http.post("/graphql", json=body)
    assert response.status_code == 400


async def test_unexpected_errors_are_masked_and_logged(
    gql: GraphQLClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog
):
    async def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(lists, "customers", broken)
    with caplog.at_level(logging.ERROR):
        result = await gql("{ customers { totalCount } }", token=tenant.staff_token)
    assert [e["message"] for e in result["errors"]] == ["Unexpected error."]
    assert "hunter2" not in str(result)
    assert "hunter2" in caplog.text and "Traceback" in caplog.text


async def test_validation_errors_keep_their_message_without_suggestions(gql: GraphQLClient):
    result = await gql("{ viewr { kind } }")
    message = result["errors"][0]["message"]
    assert "viewr" in message and "Did you mean" not in message


async def test_production_hides_the_schema_and_the_ide(db: Database):
    from tests.security.apps import PRODUCTION

    settings = settings_from_env({**PRODUCTION, "DATABASE_URL": db.settings.database_url})
    app = create_app(settings, db=db, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404
        result = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
        assert result.get("data") is None and result["errors"]
