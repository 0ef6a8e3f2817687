"""Issue 7 part 2 and SECURITY.md C32: limited clients get 429 or RATE_LIMITED with a retry.

Per-address link requests:
tests/test_portal_sign_in.py::test_request_link_is_rate_limited_per_address.
"""

from __future__ import annotations

import httpx

from models.db import Database
from portico.request_limits import TokenBucket
from tests.helpers import PASSWORD, SIGN_IN, Tenant, error_codes
from tests.portal import INVITE, make_customer
from tests.security.apps import app_with, client, fresh_address, post

QUERY = "{ customers(first: 5) { nodes { name } } }"


def assert_429(response: httpx.Response) -> None:
    assert response.status_code == 429
    retry = int(response.headers["retry-after"])
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": retry}
    assert 1 <= retry <= 60


def test_token_bucket_refills_evenly_per_key():
    bucket = TokenBucket(2, seconds=60)  # one hit back every 30 s
    assert bucket.hit("a", 0.0) is None and bucket.hit("a", 1.0) is None
    assert bucket.hit("a", 2.0) == 28
    assert bucket.hit("b", 2.0) is None
    assert bucket.hit("a", 31.0) is None and bucket.hit("a", 31.5) == 29
    assert bucket.hit("a", 200.0) is None and set(bucket.buckets) == {"a"}  # "b" swept
    assert TokenBucket(0).hit("a", 0.0) is None  # 0 turns the limit off


async def test_requests_per_client_address(db: Database, tenant: Tenant):
    async with app_with(db, REQUESTS_PER_MINUTE_PER_CLIENT="3") as app:
        address = fresh_address()
        async with client(app, address) as http:
            for _ in range(3):  # planned reads too, on PostgreSQL
                assert (await post(http, QUERY, token=tenant.staff_token)).status_code == 200
            assert_429(await post(http, QUERY, token=tenant.staff_token))
            assert (await http.get("/healthz")).status_code == 200  # probes are not counted
        async with client(app) as other:
            assert (await post(other, QUERY, token=tenant.staff_token)).status_code == 200


async def test_requests_per_session_across_addresses(db: Database, tenant: Tenant):
    async with app_with(db, REQUESTS_PER_MINUTE_PER_SESSION="2") as app:
        for _ in range(2):
            async with client(app) as http:
                assert (await post(http, QUERY, token=tenant.owner_token)).status_code == 200
        async with client(app) as http:
            assert_429(await post(http, QUERY, token=tenant.owner_token))
            assert (await post(http, QUERY, token=tenant.staff_token)).status_code == 200


async def test_invite_sends_are_limited_per_session(db: Database, gql, tenant: Tenant):
    customers = [(await make_customer(gql, tenant))[0] for _ in range(3)]
    async with app_with(db, INVITES_PER_HOUR="2") as app, client(app) as http:
        results = [
            (await post(http, INVITE, {"input": {"customerId": c}}, tenant.owner_token)).json()
            for c in customers
        ]
    assert [error_codes(r) for r in results] == [[], [], ["RATE_LIMITED"]]
    assert results[2]["errors"][0]["extensions"]["retryAfterSeconds"] == 3600


async def test_failed_staff_sign_ins_per_client_address(db: Database, tenant: Tenant):
    """Failures from one client across addresses (password spraying): 10x the setting.
    Per address: tests/security/test_lockouts.py."""
    address = fresh_address()
    async with app_with(db, STAFF_SIGN_INS_PER_HOUR="1") as app, client(app, address) as http:
        for n in range(10):
            wrong = {"input": {"email": f"nobody{n}@spray.test", "password": "not it"}}
            assert error_codes((await post(http, SIGN_IN, wrong)).json()) == [], n
        right = {"input": {"email": tenant.owner_email, "password": PASSWORD}}
        refused = (await post(http, SIGN_IN, right)).json()
    assert error_codes(refused) == ["RATE_LIMITED"]


async def test_several_processes_share_request_counts_through_redis(db: Database, tenant: Tenant):
    """Two apps (two processes) with RATE_LIMIT_URL: the limit holds across both."""
    import uuid

    shared = {"RATE_LIMIT_URL": "redis://127.0.0.1:6379/0", "REQUESTS_PER_MINUTE_PER_CLIENT": "4"}
    address = f"10.250.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    async with app_with(db, **shared) as first, app_with(db, **shared) as second:
        answers = []
        for app in (first, second, first, second, first):
            async with client(app, address) as http:
                answers.append(await post(http, QUERY, token=tenant.staff_token))
    assert [a.status_code for a in answers[:4]] == [200] * 4
    assert_429(answers[4])  # each app alone has seen only 3 or 2
