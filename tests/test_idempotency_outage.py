"""Retries across a killed database (a private PostgreSQL stopped with `-m immediate`).

A failure before COMMIT answers SERVICE_UNAVAILABLE and left nothing: the retry does the work.
A failure during COMMIT answers OUTCOME_UNKNOWN ("may have been made"), with or without a
key; with the key, the retry finds out safely. A commit that landed before the database
died leaves the key, and the retry gets the stored answer: one message in every case.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa

from models import Message
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, make_tenant
from tests.portal import make_customer
from tests.private_postgres import PrivatePostgres
from tests.test_outage import RECOVERY_SECONDS, TEST_BOUND, app_on, postgres, served

__all__ = ["app_on", "postgres", "served"]  # the private database's fixtures

SEND = """
mutation S($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id body } userErrors { code } }
}
"""
# Holds a transaction in PostgreSQL where the test wants the database to die: while
# inserting the message (before COMMIT), or inside COMMIT (a deferred constraint trigger).
SLEEPER = """
CREATE OR REPLACE FUNCTION portico_test_sleep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(20); RETURN NEW; END $$
"""
BEFORE_WORK = """
CREATE TRIGGER portico_test_sleep BEFORE INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION portico_test_sleep()
"""
IN_COMMIT = """
CREATE CONSTRAINT TRIGGER portico_test_sleep AFTER INSERT ON messages
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portico_test_sleep()
"""


async def admin(postgres: PrivatePostgres, *statements: str) -> None:
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres")
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def sleeping(postgres: PrivatePostgres) -> None:
    """Until a backend is inside the trigger's pg_sleep."""
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres")
    try:
        for _ in range(400):
            query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
            if await conn.fetchval(query):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the mutation never reached the trigger")
    finally:
        await conn.close()


async def post(
    gql: GraphQLClient, tenant: Tenant, key: str | None, customer: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tenant.staff_token}"}
    if key:
        headers["Idempotency-Key"] = key
    variables: dict[str, Any] = {"input": {"customerId": customer, "body": "Across the crash."}}
    body = {"query": SEND, "variables": variables}
    return await gql.http.post("/graphql", json=body, headers=headers)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def count(db: Database, tenant: Tenant) -> int:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).where(Message.organization_id == tenant.organization_id)
        )
        return found.scalar_one()


async def kill_while_sleeping(
    postgres: PrivatePostgres, gql: GraphQLClient, tenant: Tenant, key: str | None, customer: str
) -> httpx.Response:
    """Send the mutation, stop the database while it sits in the trigger, start it again,
    and drop the trigger; the answer the client got."""
    sending = asyncio.create_task(post(gql, tenant, key, customer))
    await sleeping(postgres)
    await asyncio.to_thread(postgres.stop, "immediate")
    answer = await sending
    await asyncio.to_thread(postgres.start)
    await admin(postgres, "DROP TRIGGER portico_test_sleep ON messages")
    return answer


async def serving_again(gql: GraphQLClient, tenant: Tenant) -> None:
    back = time.monotonic()
    query = "query { customers(first: 1) { totalCount } }"
    while (await gql.post(query, None, tenant.staff_token)).status_code != 200:
        assert time.monotonic() - back < RECOVERY_SECONDS, "the app did not recover"
        await asyncio.sleep(0.1)


async def test_a_crash_before_commit_leaves_nothing_and_the_retry_does_the_work(
    postgres: PrivatePostgres, served: tuple[Database, GraphQLClient]
):
    db, gql = served
    async with asyncio.timeout(TEST_BOUND * 2):
        tenant = await make_tenant(db, gql)
        customer, _ = await make_customer(gql, tenant)
        await admin(postgres, SLEEPER, BEFORE_WORK)
        key = str(uuid.uuid4())
        answer = await kill_while_sleeping(postgres, gql, tenant, key, customer)
        # Nothing was saved, and the answer says so: not "may have happened".
        assert codes(answer) == ["SERVICE_UNAVAILABLE"], answer.text
        assert "nothing was changed" in answer.json()["errors"][0]["message"]
        await serving_again(gql, tenant)
        assert await count(db, tenant) == 0

        retry = await post(gql, tenant, key, customer)
        assert retry.json()["data"]["sendMessage"]["userErrors"] == [], retry.text
        assert "idempotent-replayed" not in retry.headers
        again = await post(gql, tenant, key, customer)
        assert again.content == retry.content and again.headers["idempotent-replayed"] == "true"
        assert await count(db, tenant) == 1


async def test_a_crash_during_commit_says_it_may_have_happened_and_the_retry_finds_out(
    postgres: PrivatePostgres, served: tuple[Database, GraphQLClient]
):
    db, gql = served
    async with asyncio.timeout(TEST_BOUND * 3):
        tenant = await make_tenant(db, gql)
        customer, _ = await make_customer(gql, tenant)
        await admin(postgres, SLEEPER, IN_COMMIT)
        key = str(uuid.uuid4())
        answer = await kill_while_sleeping(postgres, gql, tenant, key, customer)
        assert codes(answer) == ["OUTCOME_UNKNOWN"], answer.text
        assert answer.status_code == 503
        await serving_again(gql, tenant)
        assert await count(db, tenant) == 0  # this time the COMMIT had not landed

        retry = await post(gql, tenant, key, customer)
        assert retry.json()["data"]["sendMessage"]["userErrors"] == [], retry.text
        assert await count(db, tenant) == 1

        # Without a key the answer is the same "may have happened", from the resolver.
        await admin(postgres, IN_COMMIT)
        unkeyed = await kill_while_sleeping(postgres, gql, tenant, None, customer)
        assert codes(unkeyed) == ["OUTCOME_UNKNOWN"], unkeyed.text
        await serving_again(gql, tenant)


async def test_a_commit_that_landed_before_the_crash_is_replayed_after_it(
    postgres: PrivatePostgres, served: tuple[Database, GraphQLClient]
):
    db, gql = served
    async with asyncio.timeout(TEST_BOUND * 2):
        tenant = await make_tenant(db, gql)
        customer, _ = await make_customer(gql, tenant)
        key = str(uuid.uuid4())
        first = await post(gql, tenant, key, customer)
        assert first.json()["data"]["sendMessage"]["userErrors"] == [], first.text

        # The answer is lost on the way and the database is killed: the client retries.
        await asyncio.to_thread(postgres.stop, "immediate")
        await asyncio.to_thread(postgres.start)
        await serving_again(gql, tenant)
        retry = await post(gql, tenant, key, customer)
        assert retry.status_code == 200
        assert retry.content == first.content
        assert retry.headers["idempotent-replayed"] == "true"
        assert await count(db, tenant) == 1
