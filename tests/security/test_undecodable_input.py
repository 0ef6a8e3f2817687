"""Issue 15 item 6: text that is not text (lone surrogates, invalid UTF-8) or cannot be
stored (NUL) in any argument is refused before anything runs: a 400 for a body that is not
JSON, a validation error otherwise. Never an unexpected error, never a stack trace in the
log, nothing written; and the refusals count against the client's request rate."""

from __future__ import annotations

import logging

import httpx
import pytest

from models.db import Database
from tests.helpers import Tenant
from tests.security.apps import app_with, client, fresh_address, post

LINK = (
    'mutation($e: String!) { requestPortalLink(input: {email: $e, organization: "x"}) { message } }'
)
SIGN_IN = """mutation($p: String!) { portalSignIn(input: {email: "a@b.test", password: $p,
  organization: "x"}) { outcome } }"""
CREATE = """mutation($n: String!) { createCustomer(input: {name: $n}) { customer { id } } }"""
SEARCH = "query($s: String) { customers(search: $s) { totalCount } }"
PREFIX = "Undecodable"

# Raw bodies: JSON escapes that decode to lone surrogates, and bytes that are not UTF-8.
RAW_BODIES = [
    b'{"query": "%s", "variables": {"e": "a\\ud800@b.test"}}',
    b'{"query": "%s", "variables": {"e": "a\\udfff"}}',
    b'{"query": "%s", "variables": {"e": "a\xff\xfe@b.test"}}',
    b'{"query": "%s", "variables": {"e": "a\xed\xa0\x80@b.test"}}',  # a surrogate in UTF-8
]
# (document, variables): NUL characters, and surrogates written as GraphQL escapes.
DOCUMENTS = [
    (LINK, {"e": "a\x00@b.test"}),
    (SIGN_IN, {"p": "pass\x00word-long-enough"}),
    ('{ customers(search: "a\\u0000b") { totalCount } }', {}),
    ('{ customers(search: "a\\ud800b") { totalCount } }', {}),
    (CREATE, {"n": f"{PREFIX} \x00 name"}),
    (SEARCH, {"s": "a\x00"}),  # a planned read on PostgreSQL
]
REFUSED = {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}


def assert_refused(response: httpx.Response) -> None:
    if response.status_code == 400:
        return  # not JSON: refused before GraphQL
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None, body
    assert {e["extensions"]["code"] for e in body["errors"]} <= REFUSED, body


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not loud, [r.getMessage() for r in loud]


@pytest.mark.parametrize("raw", RAW_BODIES)
async def test_bodies_that_are_not_text_get_400(
    db: Database, raw: bytes, caplog: pytest.LogCaptureFixture
):
    body = raw.replace(b"%s", LINK.replace('"', '\\"').encode())
    async with app_with(db) as app, client(app) as http:
        with caplog.at_level(logging.INFO):
            response = await http.post(
                "/graphql", content=body, headers={"content-type": "application/json"}
            )
    assert response.status_code == 400, response.text
    assert_quiet(caplog)


@pytest.mark.parametrize(("document", "variables"), DOCUMENTS)
async def test_text_that_cannot_be_stored_is_a_validation_error(
    db: Database,
    tenant: Tenant,
    document: str,
    variables: dict,
    caplog: pytest.LogCaptureFixture,
):
    async with app_with(db) as app, client(app) as http:
        with caplog.at_level(logging.INFO):
            for _ in range(2):  # the second time from the caches (plans, validation)
                assert_refused(await post(http, document, variables, tenant.staff_token))
        written = await post(http, SEARCH, {"s": PREFIX}, tenant.staff_token)
    assert_quiet(caplog)
    assert written.json()["data"]["customers"]["totalCount"] == 0  # nothing written


async def test_refusals_count_against_the_request_rate(db: Database):
    bad = RAW_BODIES[0].replace(b"%s", LINK.replace('"', '\\"').encode())
    headers = {"content-type": "application/json"}
    limited = app_with(db, REQUESTS_PER_MINUTE_PER_CLIENT="3")
    async with limited as app, client(app, fresh_address()) as http:
        assert (await http.post("/graphql", content=bad, headers=headers)).status_code == 400
        for document, variables in DOCUMENTS[:2]:
            assert_refused(await post(http, document, variables))
        refused = await post(http, LINK, {"e": "a@b.test"})
    assert refused.status_code == 429
