"""`Idempotency-Key` on mutations: a retry with the same key, viewer and body returns the
first answer and does nothing again; another body is refused; other viewers' keys are
their own; concurrent duplicates run once; keys expire after 24 hours. (Retries across a
killed database: tests/test_idempotency_outage.py.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from models import Message
from models.db import Database
from models.idempotency import KEEP_SECONDS, expire, idempotency_keys
from portico.background import expire_idempotency_keys
from tests.helpers import GraphQLClient, Tenant
from tests.messaging import drain_outbox, portal_token
from tests.portal import make_customer
from tests.smtp import SmtpServer

SEND = """
mutation S($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id body } userErrors { field code } }
}
"""
COUNT = "query { customers(first: 1) { totalCount } }"


@pytest.fixture(autouse=True)
async def _deliver_our_mail(db: Database, smtp: SmtpServer) -> AsyncIterator[None]:
    yield
    await drain_outbox(db, smtp)


async def post(
    gql: GraphQLClient, token: str, key: str | None, variables: dict[str, Any], query: str = SEND
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"query": query, "variables": variables}
    return await gql.http.post("/graphql", json=body, headers=headers)


async def messages(db: Database, tenant: Tenant) -> list[str]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(Message.body).where(Message.organization_id == tenant.organization_id)
        )
        return list(found.scalars())


def message_input(customer: str, body: str) -> dict[str, Any]:
    return {"input": {"customerId": customer, "body": body}}


async def test_a_retry_returns_the_first_answer_and_sends_nothing_again(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    key = str(uuid.uuid4())
    first = await post(gql, tenant.staff_token, key, message_input(customer, "Car is ready."))
    assert first.status_code == 200, first.text
    assert first.json()["data"]["sendMessage"]["userErrors"] == []
    assert "idempotent-replayed" not in first.headers

    again = await post(gql, tenant.staff_token, key, message_input(customer, "Car is ready."))
    assert again.status_code == 200
    assert again.content == first.content  # byte for byte the first answer
    assert again.headers["idempotent-replayed"] == "true"
    assert await messages(db, tenant) == ["Car is ready."]

    # Without the key the same mutation is a new message, as before.
    plain = await post(gql, tenant.staff_token, None, message_input(customer, "Car is ready."))
    assert (
        plain.json()["data"]["sendMessage"]["message"]["id"]
        != (first.json()["data"]["sendMessage"]["message"]["id"])
    )
    assert await messages(db, tenant) == ["Car is ready."] * 2


async def test_the_same_key_with_another_body_is_refused_and_changes_nothing(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    key = str(uuid.uuid4())
    await post(gql, tenant.staff_token, key, message_input(customer, "First."))
    other = await post(gql, tenant.staff_token, key, message_input(customer, "Second."))
    assert other.status_code == 422
    assert [e["extensions"]["code"] for e in other.json()["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert other.json()["data"] is None
    assert await messages(db, tenant) == ["First."]


async def test_a_refused_input_is_kept_as_the_answer_too(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    key = str(uuid.uuid4())
    first = await post(gql, tenant.staff_token, key, message_input(customer, "   "))
    errors = first.json()["data"]["sendMessage"]["userErrors"]
    assert [e["code"] for e in errors] == ["REQUIRED"]
    again = await post(gql, tenant.staff_token, key, message_input(customer, "   "))
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert await messages(db, tenant) == []


async def test_another_viewer_using_the_same_key_has_a_key_of_its_own(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    key = str(uuid.uuid4())
    by_staff = await post(gql, tenant.staff_token, key, message_input(customer, "Hello."))
    by_owner = await post(gql, tenant.owner_token, key, message_input(customer, "Hello."))
    assert "idempotent-replayed" not in by_owner.headers
    ids = {r.json()["data"]["sendMessage"]["message"]["id"] for r in (by_staff, by_owner)}
    assert len(ids) == 2  # two people, two messages: neither sees the other's answer
    assert await messages(db, tenant) == ["Hello.", "Hello."]


async def test_concurrent_duplicates_run_once(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            post(gql, tenant.staff_token, key, message_input(customer, "Only once."))
            for _ in range(6)
        )
    )
    done = [a for a in answers if a.status_code == 200]
    # Each duplicate waited for the first and replayed it, or was refused as retryable.
    assert {a.status_code for a in answers} <= {200, 503, 504}, [a.text for a in answers]
    assert done, [a.text for a in answers]
    assert len({a.json()["data"]["sendMessage"]["message"]["id"] for a in done}) == 1
    assert sum("idempotent-replayed" in a.headers for a in done) == len(done) - 1
    assert await messages(db, tenant) == ["Only once."]


async def test_queries_ignore_the_key_and_malformed_keys_are_refused(gql, db, tenant):
    key = str(uuid.uuid4())
    for _ in range(2):
        answer = await post(gql, tenant.staff_token, key, {}, COUNT)
        assert answer.status_code == 200 and "idempotent-replayed" not in answer.headers
    async with db.connect() as conn:
        kept = await conn.execute(sa.select(idempotency_keys).where(idempotency_keys.c.key == key))
        assert kept.first() is None
    customer, _ = await make_customer(gql, tenant)
    for bad in ("x" * 256, "tab\there"):
        refused = await post(gql, tenant.staff_token, bad, message_input(customer, "Hi."))
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_INVALID"
    assert await messages(db, tenant) == []


async def test_keys_expire_after_24_hours(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    key = str(uuid.uuid4())
    await post(gql, tenant.staff_token, key, message_input(customer, "Day one."))
    async with db.write() as session:  # age the key past its 24 hours
        await session.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.key == key)
            .values(created_at=sa.literal(_hours_ago(25), idempotency_keys.c.created_at.type))
        )
    # An expired key is a new key: the work is done again.
    again = await post(gql, tenant.staff_token, key, message_input(customer, "Day one."))
    assert "idempotent-replayed" not in again.headers
    assert await messages(db, tenant) == ["Day one.", "Day one."]

    # The scheduled clean-up deletes expired keys and keeps the others.
    async with db.write() as session:
        await session.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.key == key)
            .values(created_at=sa.literal(_hours_ago(25), idempotency_keys.c.created_at.type))
        )
    fresh = str(uuid.uuid4())
    await post(gql, tenant.staff_token, fresh, message_input(customer, "Day two."))
    assert await expire_idempotency_keys(db) >= 1
    async with db.connect() as conn:
        left = await conn.execute(
            sa.select(idempotency_keys.c.key).where(idempotency_keys.c.key.in_([key, fresh]))
        )
        assert list(left.scalars()) == [fresh]
        assert await expire(conn) == 0


def _hours_ago(hours: int) -> datetime:
    assert hours * 3600 > KEEP_SECONDS
    return datetime.now(UTC) - timedelta(hours=hours)


SEND_WITH_FILES = """
mutation S($input: SendMyMessageInput!) {
  sendMyMessage(input: $input) { message { id attachments { filename } } userErrors { code } }
}
"""


async def test_an_upload_is_replayed_for_the_same_files_and_refused_for_others(
    gql, http, db, tenant
):
    from tests.test_files import PNG_BYTES, PREFLIGHT, upload

    customer, _ = await make_customer(gql, tenant)
    token = await portal_token(db, tenant, customer)
    key = str(uuid.uuid4())

    async def send(content: bytes) -> httpx.Response:
        return await upload(
            http,
            token,
            SEND_WITH_FILES,
            {"body": "Photo of the scratch", "attachments": [None]},
            content,
            filename="scratch.png",
            content_type="image/png",
            path="attachments.0",
            headers={**PREFLIGHT, "Idempotency-Key": key},
        )

    first = await send(PNG_BYTES)
    assert first.json()["data"]["sendMyMessage"]["userErrors"] == [], first.text
    again = await send(PNG_BYTES)  # a new multipart boundary, the same files
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    other = await send(PNG_BYTES + b"\0")
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await messages(db, tenant) == ["Photo of the scratch"]
