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
    for _ in range(2):  # planned, then answered by the prepared path (PostgreSQL)
        assert "errors" not in await gql(query, token=tenant.staff_token)
    # Kept under the text with its literal lifted into a variable (planner/literals.py).
    lifted = "query($_lit0: Int!) { customers(first: $_lit0) { nodes { name } } }"
    if db.dialect == "postgresql":
        assert any(lifted in key for key in extension._plans)
    async with app_with(db, MAX_QUERY_COST="3") as app, client(app) as http:
        for _ in range(2):
            result = (await post(http, query, token=tenant.staff_token)).json()
            assert limit_of(result)["cost"] == 11


async def test_a_plan_for_small_literal_pages_never_answers_large_ones(
    gql: GraphQLClient, tenant: Tenant
):
    """Literal page sizes share one lifted text, but a plan is kept per page size: the
    same query with pages too large for the limits is measured and refused."""
    nested = (
        "{ customers(first: %d) { nodes { cars(first: %d) { nodes { events(first: %d) "
        "{ nodes { kind } } } } } } }"
    )
    for _ in range(2):
        assert "errors" not in await gql(nested % (5, 5, 5), token=tenant.staff_token)
    for _ in range(2):
        extensions = limit_of(await gql(nested % (100, 100, 100), token=tenant.staff_token))
        assert (extensions["cost"], extensions["maxCost"]) == (nested_cost(100), 50_000)


# SECURITY.md E42 (issue 15 item 4): limits are measured on what will execute.

NESTED = """query Nested($n: Int = 100) {
  customers(first: $n) { nodes { cars(first: $n) { nodes { events(first: $n) {
    nodes { kind } } } } } }
}"""


def nested_cost(n: int) -> int:
    # 1 + n x (nodes 1 + cars (1 + n x (nodes 1 + events (1 + n x (nodes 1 + kind 1)))))
    return 1 + n * (2 + n * (2 + 2 * n))


async def test_e42_page_sizes_sent_as_floats_count_as_the_integers_they_are(
    gql: GraphQLClient, tenant: Tenant, count_statements
):
    await gql("{ __typename }", token=tenant.staff_token)
    baseline = count_statements.count
    for n in (100, 100.0):
        before = count_statements.count
        extensions = limit_of(await gql(NESTED, {"n": n}, token=tenant.staff_token))
        assert (extensions["cost"], extensions["maxCost"]) == (nested_cost(100), 50_000)
        assert count_statements.count - before <= baseline  # refused before any resolver


async def test_e42_a_variable_left_out_counts_at_its_declared_default(
    gql: GraphQLClient, tenant: Tenant
):
    assert nested_cost(20) < 50_000 < nested_cost(100)  # the argument's own default: 20
    extensions = limit_of(await gql(NESTED, {}, token=tenant.staff_token))
    assert extensions["cost"] == nested_cost(100) == 2_020_201
    assert "errors" not in await gql(NESTED, {"n": 5}, token=tenant.staff_token)


async def test_e42_an_explicit_null_is_not_the_default(gql: GraphQLClient, tenant: Tenant):
    # `first: Int! = 20` given null: the executor refuses that field, so nothing under
    # it runs, and the refusal is the executor's, not a cost.
    result = await gql(NESTED, {"n": None}, token=tenant.staff_token)
    assert result["data"] is None
    (error,) = result["errors"]
    assert error["message"].startswith("Argument 'first' has invalid value"), error
    assert "not to be None" in error["message"] and error["path"] == ["customers"]


async def test_e42_variables_that_fail_coercion_get_the_executors_own_errors(
    gql: GraphQLClient, tenant: Tenant, count_statements
):
    from graphql import execute, parse

    from schema.root import schema

    strict = NESTED.replace("$n: Int = 100", "$n: Int!")
    await gql("{ __typename }", token=tenant.staff_token)
    baseline = count_statements.count
    for query, variables in (
        (NESTED, {"n": "many"}),
        (NESTED, {"n": 1.5}),
        (NESTED, {"n": 2**40}),
        (strict, {}),
        (strict, {"n": None}),
    ):
        # graphql-core's executor alone: it refuses these before resolving anything.
        expected = execute(schema._schema, parse(query), variable_values=variables)
        assert expected.data is None and expected.errors  # type: ignore[union-attr]
        before = count_statements.count
        result = await gql(query, variables, token=tenant.staff_token)
        assert result.get("data") is None
        executors = [e.formatted for e in expected.errors]  # type: ignore[union-attr]
        # The same errors, coded as every validation refusal is (schema/document_refusals.py).
        coded = [{**e, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for e in executors]
        assert result["errors"] == coded, variables
        assert count_statements.count - before <= baseline  # nothing ran


async def test_e42_selections_left_out_by_skip_or_include_cost_nothing(
    db: Database, tenant: Tenant
):
    query = """query Maybe($cars: Boolean = false, $lean: Boolean = false) {
      customers(first: 100) { nodes { name
        cars(first: 100) @include(if: $cars) { nodes { make } }
        ... @skip(if: $lean) { openInvoices(first: 100) { nodes { number } } } } }
    }"""
    # 1 + 100 x (nodes 1 + name 1 [+ cars 1 + 100 x 2] [+ openInvoices 1 + 100 x 2])
    async with app_with(db, MAX_QUERY_COST="30000") as app, client(app) as http:
        lean = (await post(http, query, {"lean": True}, tenant.staff_token)).json()
        assert "errors" not in lean, lean
        invoices = (await post(http, query, {}, tenant.staff_token)).json()
        assert "errors" not in invoices, invoices
        both = (await post(http, query, {"cars": True}, tenant.staff_token)).json()
        assert limit_of(both)["cost"] == 1 + 100 * (2 + 201 + 201) == 40_401
