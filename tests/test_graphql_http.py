"""GraphQL over HTTP: `Accept` picks application/graphql-response+json or application/json;
a request error answers 400 without `data` in the first, 200 with `data: null` in the
second (clients written before the spec read that)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from portico.graphql_http import GRAPHQL_RESPONSE, JSON, wanted_media_type
from tests.helpers import Tenant

NEW = {"Accept": GRAPHQL_RESPONSE}
OLD = {"Accept": JSON}
# Request errors: nothing is executed.
UNPARSABLE = {"query": "{ viewer "}
INVALID = {"query": "{ noSuchField }"}
UNCOERCIBLE = {
    "query": "query Q($first: Int!) { customers(first: $first) { totalCount } }",
    "variables": {"first": "many"},
}


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("text/html", JSON),  # nothing acceptable: the default, not a 406
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),  # a tie: the spec's type
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        (f"{GRAPHQL_RESPONSE};q=nonsense, application/json", JSON),
        (f"*/*;q=0.1, {GRAPHQL_RESPONSE};q=0.2", GRAPHQL_RESPONSE),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", GRAPHQL_RESPONSE),
    ],
)
def test_accept_picks_the_media_type(accept: str | None, wanted: str):
    assert wanted_media_type(accept) == wanted


@pytest.mark.parametrize("body", [UNPARSABLE, INVALID, UNCOERCIBLE])
async def test_a_request_error_is_a_400_without_data_in_graphql_response_json(
    http: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]
):
    headers = {**NEW, "Authorization": f"Bearer {tenant.staff_token}"}
    response = await http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"] and all("path" not in error for error in answer["errors"])


@pytest.mark.parametrize("body", [UNPARSABLE, INVALID, UNCOERCIBLE])
@pytest.mark.parametrize("headers", [OLD, {}, {"Accept": "*/*"}])
async def test_a_request_error_is_a_200_with_null_data_in_json(
    http: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], headers: dict[str, str]
):
    headers = {**headers, "Authorization": f"Bearer {tenant.staff_token}"}
    response = await http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    answer = response.json()
    assert answer["data"] is None and answer["errors"]


async def test_a_field_error_that_nulls_data_is_still_a_200(
    http: httpx.AsyncClient, tenant: Tenant
):
    """Execution ran: the error has a path, and `data` is there (null: `node` is non-null)."""
    headers = {**NEW, "Authorization": f"Bearer {tenant.staff_token}"}
    query = '{ node(id: "bm9uZQ") { id } }'
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    answer = response.json()
    assert answer["data"] is None
    assert answer["errors"][0]["path"] == ["node"]


async def test_answers_carry_the_negotiated_type_whichever_way_they_were_made(
    http: httpx.AsyncClient, tenant: Tenant
):
    """Executed, planned (on PostgreSQL the repeat takes the planner's prepared path) and
    refused before execution (a session that ended): all labelled alike."""
    query = {"query": "{ customers(first: 2) { totalCount } }"}
    staff = {"Authorization": f"Bearer {tenant.staff_token}"}
    for _ in range(3):
        response = await http.post("/graphql", json=query, headers={**NEW, **staff})
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        assert response.json() == {"data": {"customers": {"totalCount": 0}}}
        old = await http.post("/graphql", json=query, headers={**OLD, **staff})
        assert old.headers["content-type"] == JSON and old.json() == response.json()

    ended = {"Authorization": "Bearer not-a-session"}
    response = await http.post("/graphql", json=query, headers={**NEW, **ended})
    assert response.status_code == 401
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # Refused by a middleware before the view: labelled too.
    too_large = {"query": "{ __typename }", "padding": "x" * 1_100_000}
    response = await http.post("/graphql", json=too_large, headers=NEW)
    assert response.status_code == 413
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    old = await http.post("/graphql", json=too_large, headers=OLD)
    assert old.status_code == 413 and old.headers["content-type"] == JSON


@pytest.mark.parametrize(
    "body",
    [
        b"{",  # not JSON
        b'{"variables": {}}',  # no query
        b'{"query": "query A { __typename }", "operationName": "B"}',  # no such operation
    ],
)
async def test_a_request_that_is_not_graphql_is_a_plain_400_either_way(
    http: httpx.AsyncClient, body: bytes
):
    for headers in (NEW, OLD):
        headers = {**headers, "Content-Type": "application/json"}
        response = await http.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.text  # the reason, in words


@pytest.mark.parametrize(
    "malformed",
    [
        {"variables": False},
        {"variables": 0},
        {"variables": []},
        {"extensions": "x"},
        {"extensions": False},
        {"extensions": []},
        {"operationName": 7},
    ],
)
async def test_malformed_parameters_are_refused_on_the_planned_path_too(
    http: httpx.AsyncClient, tenant: Tenant, malformed: dict[str, Any]
):
    """A query the planner answers (warmed by the same document) is refused like any other
    when its variables or extensions are not objects: the planner does not run it."""
    query = {"query": "{ customers(first: 2) { totalCount } }"}
    staff = {**NEW, "Authorization": f"Bearer {tenant.staff_token}"}
    for _ in range(3):
        warm = await http.post("/graphql", json=query, headers=staff)
        assert warm.json() == {"data": {"customers": {"totalCount": 0}}}
    response = await http.post("/graphql", json={**query, **malformed}, headers=staff)
    assert response.status_code == 400, response.text
    assert "data" not in response.text
