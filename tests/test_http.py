"""The HTTP surface: GraphiQL in development, no GET queries, masked internal errors."""

import base64
import hashlib
import logging
import re
from typing import Any

import httpx
import pytest

from core.settings import settings_from_env
from models.db import Database
from portico import ide
from portico.app import create_app
from resolvers import lists
from tests.helpers import GraphQLClient, Tenant

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_graphiql_is_served_in_development(http: httpx.AsyncClient):
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_loads_only_its_own_assets_from_this_server(http: httpx.AsyncClient):
    # The page once loaded seven files from a CDN and showed "Loading..." forever offline.
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assets = [s for s in sources if not s.startswith("data:")]
    assert sorted(a.split("?")[0] for a in assets) == sorted(
        f"/static/graphiql/{name}" for name in (*ide.SCRIPTS, *ide.STYLES)
    )
    # The policy names exactly those files, on this origin; nothing else loads.
    policy = dict(
        part.split(" ", 1) for part in page.headers["content-security-policy"].split("; ")
    )
    assert sorted(policy["script-src"].split() + policy["style-src"].split()) == sorted(
        f"http://portico.test{a.split('?')[0]}" for a in assets
    )
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
    assert page.headers["cache-control"] == "no-store"
    for url in assets:
        asset = await http.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/javascript" if url.split("?")[0].endswith(".js") else "text/css"
        assert asset.headers["content-type"].startswith(kind)
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert f'src="{url}" integrity="sha384-{digest}"' in page.text or (
            f'href="{url}" integrity="sha384-{digest}"' in page.text
        )
        again = await http.get(url, headers={"If-None-Match": asset.headers["etag"]})
        assert again.status_code == 304 and not again.content
    assert (await http.get("/static/graphiql/VENDOR.txt")).status_code == 404
    assert (await http.get("/static/graphiql/..%2Fide.py")).status_code == 404


async def test_queries_over_get_are_refused(http: httpx.AsyncClient):
    response = await http.get("/graphql", params={"query": "{ viewer { kind } }"})
    assert response.status_code in (400, 405)


async def test_batched_requests_are_refused(http: httpx.AsyncClient):
    body = [{"query": "{ viewer { kind } }"}, {"query": "{ viewer { kind } }"}]
    response = await http.post("/graphql", json=body)
    assert response.status_code == 400


@pytest.mark.logs_errors  # provokes an unexpected error on purpose
async def test_unexpected_errors_are_masked_and_logged(
    db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog
):
    async def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(lists, "customers", broken)
    # The executor's resolver must run: on PostgreSQL the planner would answer this query.
    app = create_app(db=db, run_mail_worker=False, plan_reads=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
        with caplog.at_level(logging.ERROR):
            result = await GraphQLClient(http)(
                "{ customers { totalCount } }", token=tenant.staff_token
            )
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


async def test_malformed_requests_get_a_400_that_says_why(http: httpx.AsyncClient):
    """Bodies that are no GraphQL request answer 400 with a sentence, and log no ERROR
    (the suite fails any test that logs one: tests/conftest.py)."""
    upload = {"X-Portico-Upload": "1"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"json": {"query": "{ __typename }", "operationName": 5}}, "operation"),
        ({"json": {"query": 5}}, "must be a string"),
        ({"json": {"query": "{ __typename }", "variables": "x"}}, "must be an object"),
        ({"files": {"operations": (None, "{not json"), "map": (None, "{}")}}, "JSON"),
        (
            {
                "files": {
                    "operations": (None, '{"query": "{ __typename }", "variables": {}}'),
                    "map": (None, '{"0": ["variables.nope.deep"]}'),
                    "0": ("a.pdf", b"%PDF-1.4", "application/pdf"),
                }
            },
            "",
        ),
    ]
    for request, says in cases:
        headers = upload if "files" in request else {}
        response = await http.post("/graphql", headers=headers, **request)
        assert response.status_code == 400, (request, response.text)
        assert says in response.text and "Traceback" not in response.text
