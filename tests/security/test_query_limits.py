"""SECURITY.md A1-A6 and A8, issue 7 part 1: every document is measured before it runs.

Refusals come back as HTTP 200 with `errors` whose `extensions.code` is
QUERY_TOO_COMPLEX and whose `extensions.limit` names the limit (depth, aliases, tokens,
cost) with its figures. "No resolver runs" is shown by the statement count: a refused
query costs no more SQL than `{ __typename }` (the session lookup only).
"""

from __future__ import annotations

import httpx

from models.db import Database
from planner import extension
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.security.apps import app_with, client, post

DEEP = """{ customers { nodes { cars { nodes { owner { cars { nodes { owner {
  cars { nodes { owner { name } } } } } } } } } } } }"""

COSTLY = """query Costly($n: Int!) {
  customers(first: $n) { nodes { name cars(first: 10) { nodes { make } } } }
}"""

COSTLY_BY_FRAGMENT = """query Costly($n: Int!) { customers(first: $n) { nodes { ...Parts } } }
fragment Parts on Customer { name cars(first: 10) { nodes { make } } }"""

OVER_DEFAULT_BUDGET = """{ customers(first: 100) { nodes {
  cars(first: 100) { nodes { make model year } }
  openInvoices(first: 100) { nodes { number } } } } }"""


def limit_of(result: dict) -> dict:
    codes = {e.get("extensions", {}).get("code") for e in result["errors"]}
    assert codes == {"QUERY_TOO_COMPLEX"}, result["errors"]
    return result["errors"][0]["extensions"]


async def test_a1_too_deep_is_refused_before_any_resolver(
    gql: GraphQLClient, tenant: Tenant, count_statements
):
    await gql("{ __typename }", token=tenant.staff_token)
    baseline = count_statements.count
    result = await gql(DEEP, token=tenant.staff_token)
    refused = count_statements.count - baseline
    assert result.get("data") is None
    assert limit_of(result) == {"code": "QUERY_TOO_COMPLEX", "limit": "depth", "maxDepth": 10}
    assert refused <= baseline  # the session lookup, and nothing else
    before = count_statements.count
    assert limit_of(await gql(DEEP))["limit"] == "depth"
    assert count_statements.count == before  # anonymous: not one statement


async def test_a2_aliases_count_through_fragment_spreads(gql: GraphQLClient):
    aliases = " ".join(f"a{i}: __typename" for i in range(31))
    query = f"query {{ ...Many }} fragment Many on Query {{ {aliases} }}"
    extensions = limit_of(await gql(query))
    assert extensions["limit"] == "aliases"
    assert (extensions["aliases"], extensions["maxAliases"]) == (31, 30)
    thirty = " ".join(f"a{i}: __typename" for i in range(30))
    assert "errors" not in await gql(f"{{ {thirty} }}")


async def test_a3_too_many_tokens_are_refused_while_parsing(gql: GraphQLClient):
    query = "{ " + " ".join("__typename" for _ in range(5001)) + " }"
    extensions = limit_of(await gql(query))
    assert extensions == {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "maxTokens": 5000}


async def test_a4_circular_fragments_are_a_validation_error(http: httpx.AsyncClient):
    query = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200
    messages = [e["message"] for e in response.json()["errors"]]
    assert any("Cannot spread fragment" in m for m in messages)


async def test_a5_batched_requests_are_refused(http: httpx.AsyncClient):
    body = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    response = await http.post("/graphql", json=body)
    assert response.status_code == 400
    assert "Batching is not enabled" in response.text


async def test_cost_is_measured_with_variables_and_fragments(db: Database, tenant: Tenant):
    async with app_with(db, MAX_QUERY_COST="500") as app, client(app) as http:
        for query in (COSTLY, COSTLY_BY_FRAGMENT):
            # 1 + n x (nodes 1 + name 1 + cars (1 + 10 x (nodes 1 + make 1))) = 1 + 23n
            cheap = await post(http, query, {"n": 20}, tenant.staff_token)
            assert "errors" not in cheap.json(), cheap.json()
            costly = (await post(http, query, {"n": 30}, tenant.staff_token)).json()
            assert costly.get("data") is None
            extensions = limit_of(costly)
            assert (extensions["limit"], extensions["cost"], extensions["maxCost"]) == (
                "cost",
                691,
                500,
            )


async def test_over_the_default_budget_is_refused_before_any_resolver(
    gql: GraphQLClient, tenant: Tenant, count_statements
):
    await gql("{ __typename }", token=tenant.staff_token)
    baseline = count_statements.count
    extensions = limit_of(await gql(OVER_DEFAULT_BUDGET, token=tenant.staff_token))
    assert count_statements.count - baseline <= baseline
    assert extensions["cost"] > extensions["maxCost"] == 50_000


async def test_a6_first_has_a_maximum_on_connections(gql: GraphQLClient, tenant: Tenant):
    # Also tests/test_customers.py::test_page_size_and_cursor_are_checked (root lists).
    query = "{ customers(first: 1) { nodes { cars(first: 101) { totalCount } } } }"
    from tests.portal import make_customer

    await make_customer(gql, tenant)
    result = await gql(query, token=tenant.staff_token)
    assert error_codes(result) == ["INVALID_PAGE_SIZE"]


async def test_a8_no_field_suggestions(gql: GraphQLClient, db: Database):
    # Development: tests/test_http.py::test_validation_errors_keep_their_message_without_suggestions
    from tests.security.apps import PRODUCTION

    async with app_with(db, **PRODUCTION) as app, client(app) as http:
        result = (await post(http, "{ viewr { kind } }")).json()
    (error,) = result["errors"]
    assert "viewr" in error["message"] and "Did you mean" not in error["message"]


async def test_planned_reads_cannot_bypass_the_limits(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    """A plan cached by one app is never served by an app with tighter limits."""
    query = "{ customers(first: 5) { nodes { name } } }"  # costs 1 + 5 x 2 = 11
    for _ in range(2):  # planned, then answered by the short way (PostgreSQL)
        assert "errors" not in await gql(query, token=tenant.staff_token)
    if db.dialect == "postgresql":
        assert any(query in key for key in extension._plans)
    async with app_with(db, MAX_QUERY_COST="3") as app, client(app) as http:
        for _ in range(2):
            result = (await post(http, query, token=tenant.staff_token)).json()
            assert limit_of(result)["cost"] == 11
