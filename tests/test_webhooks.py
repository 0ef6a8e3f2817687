"""Webhook delivery against a real HTTP receiver on loopback: signatures that the README's
snippet verifies, retries with backoff on a clock the test moves, a receiver that is down,
slow or failing, redeliveries with the same event id, two workers delivering each attempt
once, order per object, and the endpoint disabled with an email to its OWNERs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.ids import decode_id
from domain.webhooks.delivery import backoff_seconds, deliver_due
from models.db import Database
from tests.helpers import GraphQLClient, Tenant
from tests.portal import deliver, make_customer
from tests.webhook_receiver import Receiver
from tests.webhooks import REDELIVER, deliveries_of, endpoint_log, register

README = Path(__file__).resolve().parent.parent / "README.md"
UPDATE_CUSTOMER = """
mutation U($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }
"""


def readme_verifier() -> Callable[..., bool]:
    """The verification snippet exactly as the README shows it."""
    text = README.read_text()
    block = re.search(r"<!-- webhook signature check -->\n```python\n(.*?)```", text, re.S)
    assert block is not None
    namespace: dict[str, Any] = {}
    exec(block.group(1), namespace)  # the documented code, run as written
    verify: Callable[..., bool] = namespace["verify_portico_signature"]
    return verify


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


async def _endpoint(gql: GraphQLClient, tenant: Tenant, url: str) -> tuple[str, str]:
    made = await register(gql, tenant, url)
    assert made["userErrors"] == []
    return made["webhookEndpoint"]["id"], made["secret"]


async def _rounds(db: Database, at: datetime, **kwargs: Any) -> int:
    """Deliver at `at` until nothing more is due then."""
    total = 0
    while delivered := await deliver_due(db, now=at, **kwargs):
        total += delivered
    return total


async def test_a_delivery_is_signed_as_the_readme_checks(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    endpoint_id, secret = await _endpoint(gql, tenant, receiver.url)
    customer_id, _ = await make_customer(gql, tenant, "Sam Signer")
    await deliver_due(db)
    [request] = receiver.requests
    verify = readme_verifier()
    header = request.headers["portico-signature"]
    assert verify(secret, header, request.body)
    assert not verify(secret, header, request.body + b" ")
    assert not verify("whsec_another", header, request.body)
    assert not verify(secret, header, request.body, now=datetime.now(UTC).timestamp() + 3600)
    event = request.event
    assert event["type"] == "customer.created" == request.headers["portico-event-type"]
    assert event["id"] == request.headers["portico-event-id"]
    assert decode_id(event["id"])[0] == "WebhookEvent"
    assert event["organization"]["id"] == (await _organization_id(gql, tenant))
    assert event["data"]["object"]["id"] == customer_id
    assert event["data"]["object"]["name"] == "Sam Signer"
    assert event["createdAt"].endswith("Z")
    assert "organizationId" not in event["data"]["object"]
    assert request.path == "/hooks/portico"
    assert request.headers["content-type"] == "application/json"
    log = await endpoint_log(gql, tenant, endpoint_id)
    [row] = log["deliveries"]["nodes"]
    assert row["status"] == "DELIVERED" and row["responseCode"] == 200
    assert row["attempts"] == 1 and row["latencyMs"] is not None and row["eventId"] == event["id"]
    assert log["lastSuccessAt"] is not None and log["failingSince"] is None


async def _organization_id(gql: GraphQLClient, tenant: Tenant) -> str:
    data = await gql.data("{ organization { id } }", token=tenant.owner_token)
    organization_id: str = data["organization"]["id"]
    return organization_id


async def test_failures_are_retried_with_backoff_until_the_receiver_answers(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    endpoint_id, _ = await _endpoint(gql, tenant, receiver.url)
    receiver.status = 500
    receiver.body = b"database on fire"
    await make_customer(gql, tenant)
    start = datetime.now(UTC)
    await _rounds(db, start)
    assert len(receiver.requests) == 1
    [row] = await deliveries_of(db, endpoint_id)
    assert row["status"] == "PENDING" and row["response_code"] == 500
    assert row["last_error"] == "HTTP 500: database on fire"
    waits = [backoff_seconds(n) for n in (1, 2, 3)]
    assert waits == [30, 60, 120]
    at = start
    for attempt, wait in enumerate(waits, start=2):
        await _rounds(db, at + timedelta(seconds=wait - 1))  # not yet due
        assert len(receiver.requests) == attempt - 1
        at += timedelta(seconds=wait)
        await _rounds(db, at)
        assert len(receiver.requests) == attempt
        assert receiver.requests[-1].headers["portico-delivery-attempt"] == str(attempt)
    receiver.status = 200
    at += timedelta(seconds=backoff_seconds(4))
    await _rounds(db, at)
    log = await endpoint_log(gql, tenant, endpoint_id)
    [delivered] = log["deliveries"]["nodes"]
    assert delivered["status"] == "DELIVERED" and delivered["attempts"] == 5
    assert delivered["responseCode"] == 200 and delivered["lastError"] is None
    assert len({r.event["id"] for r in receiver.requests}) == 1
    assert log["failingSince"] is None and log["enabled"] is True


async def test_a_receiver_that_is_down_gets_the_event_once_it_is_up(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    endpoint_id, _ = await _endpoint(gql, tenant, receiver.url)
    await receiver.stop()
    await make_customer(gql, tenant)
    start = datetime.now(UTC)
    await _rounds(db, start)
    [row] = await deliveries_of(db, endpoint_id)
    assert row["status"] == "PENDING" and row["response_code"] is None
    assert "ConnectionRefusedError" in row["last_error"]
    await receiver.start()  # the same port again
    await _rounds(db, start + timedelta(seconds=31))
    assert len(receiver.requests) == 1
    [row] = await deliveries_of(db, endpoint_id)
    assert row["status"] == "DELIVERED" and row["attempts"] == 2


async def test_a_slow_receiver_times_out_and_is_tried_again(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    endpoint_id, _ = await _endpoint(gql, tenant, receiver.url)
    receiver.delay = 2.0
    await make_customer(gql, tenant)
    impatient = dataclasses.replace(db.settings, webhook_timeout_seconds=0.3)
    start = datetime.now(UTC)
    began = asyncio.get_running_loop().time()
    await _rounds(db, start, settings=impatient)
    assert asyncio.get_running_loop().time() - began < 1.5
    [row] = await deliveries_of(db, endpoint_id)
    assert row["status"] == "PENDING" and row["last_error"] == "No answer within 0.3 s"
    receiver.delay = 0
    await _rounds(db, start + timedelta(seconds=31), settings=impatient)
    [row] = await deliveries_of(db, endpoint_id)
    assert row["status"] == "DELIVERED"


async def test_a_redelivery_carries_the_same_event_id_and_body(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    endpoint_id, _ = await _endpoint(gql, tenant, receiver.url)
    await make_customer(gql, tenant)
    await _rounds(db, datetime.now(UTC))
    log = await endpoint_log(gql, tenant, endpoint_id)
    [first] = log["deliveries"]["nodes"]
    again = await gql.data(
        REDELIVER, {"input": {"deliveryId": first["id"]}}, token=tenant.owner_token
    )
    made = again["redeliverWebhook"]
    assert made["userErrors"] == [] and made["webhookDelivery"]["status"] == "PENDING"
    assert made["webhookDelivery"]["eventId"] == first["eventId"]
    assert made["webhookDelivery"]["id"] != first["id"]
    await _rounds(db, datetime.now(UTC))
    one, two = receiver.requests
    assert one.body == two.body
    assert one.headers["portico-event-id"] == two.headers["portico-event-id"] == first["eventId"]
    log = await endpoint_log(gql, tenant, endpoint_id)
    assert [d["status"] for d in log["deliveries"]["nodes"]] == ["DELIVERED", "DELIVERED"]


async def test_two_workers_deliver_each_attempt_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    endpoint_id, _ = await _endpoint(gql, tenant, receiver.url)
    for n in range(8):
        await make_customer(gql, tenant, f"Customer {n}")
    receiver.delay = 0.2  # both workers are busy at once
    at = datetime.now(UTC)
    await asyncio.gather(
        deliver_due(db, now=at, batch=3),
        deliver_due(db, now=at, batch=3),
        deliver_due(db, now=at, batch=3),
    )
    await _rounds(db, at)
    ids = [r.event["id"] for r in receiver.requests]
    assert len(ids) == 8 == len(set(ids))
    rows = await deliveries_of(db, endpoint_id)
    assert [(r["status"], r["attempts"]) for r in rows] == [("DELIVERED", 1)] * 8


async def test_one_objects_events_arrive_in_order(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    await _endpoint(gql, tenant, receiver.url)
    receiver.status = 503
    customer_id, _ = await make_customer(gql, tenant, "First Name")
    variables = {"input": {"id": customer_id, "name": "Second Name"}}
    answer = await gql.data(UPDATE_CUSTOMER, variables, token=tenant.staff_token)
    assert answer["updateCustomer"]["userErrors"] == []
    start = datetime.now(UTC)
    await _rounds(db, start)
    # The update waits behind the creation, which failed.
    assert [r.event["type"] for r in receiver.requests] == ["customer.created"]
    receiver.status = 200
    await _rounds(db, start + timedelta(seconds=31))
    await _rounds(db, start + timedelta(seconds=31))
    names = [(r.event["type"], r.event["data"]["object"]["name"]) for r in receiver.requests]
    assert names == [
        ("customer.created", "First Name"),
        ("customer.created", "First Name"),
        ("customer.updated", "Second Name"),
    ]


async def test_sustained_failure_gives_up_and_disables_the_endpoint_with_an_email(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver, smtp
):
    endpoint_id, _ = await _endpoint(gql, tenant, receiver.url)
    receiver.status = 500
    await make_customer(gql, tenant)
    start = datetime.now(UTC)
    await _rounds(db, start)
    log = await endpoint_log(gql, tenant, endpoint_id)
    assert log["enabled"] is True and log["failingSince"] is not None
    await _rounds(db, start + timedelta(hours=71))  # failing, not yet for long enough
    assert (await endpoint_log(gql, tenant, endpoint_id))["enabled"] is True
    await _rounds(db, start + timedelta(hours=73))
    log = await endpoint_log(gql, tenant, endpoint_id)
    assert log["enabled"] is False and "72 hours" in log["disabledReason"]
    [row] = log["deliveries"]["nodes"]
    assert row["status"] == "FAILED" and row["attempts"] == 3
    await deliver(db, smtp)
    to_owner = [m for m in smtp.messages if m["To"] == tenant.owner_email]
    assert [m["Subject"] for m in to_owner] == ["A webhook endpoint was disabled"]
    assert receiver.url in to_owner[0].get_body(("plain",)).get_content()
    assert not [m for m in smtp.messages if m["To"] == tenant.staff_email]
    # While disabled, nothing new is queued for it; enabling it again clears the record.
    await make_customer(gql, tenant)
    assert len(await deliveries_of(db, endpoint_id)) == 1
    enable = """mutation E($id: ID!) { updateWebhookEndpoint(input: {id: $id, enabled: true}) {
      webhookEndpoint { enabled disabledReason failingSince } userErrors { code } } }"""
    enabled = await gql.data(enable, {"id": endpoint_id}, token=tenant.owner_token)
    assert enabled["updateWebhookEndpoint"]["webhookEndpoint"] == {
        "enabled": True,
        "disabledReason": None,
        "failingSince": None,
    }


def test_backoff_doubles_up_to_three_hours():
    assert [backoff_seconds(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert backoff_seconds(12) == backoff_seconds(500) == 3 * 3600


async def test_the_event_body_holds_global_ids_only(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    await _endpoint(gql, tenant, receiver.url)
    await make_customer(gql, tenant)
    await _rounds(db, datetime.now(UTC))
    [request] = receiver.requests
    text = request.body.decode()
    assert tenant.organization_id.hex not in text and str(tenant.organization_id) not in text
    assert json.loads(text)["data"]["object"]["id"] != str(tenant.organization_id)


def test_an_object_names_rows_by_global_id_and_keeps_secrets_out():
    import uuid

    from core.ids import encode_id
    from domain.webhooks.events import object_of
    from models.tables import contracts, payments

    customer, organization, row = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    paid = object_of(
        payments,
        {
            "id": row,
            "organization_id": organization,
            "customer_id": customer,
            "invoice_id": None,
            "provider_payment_intent_id": "pi_123",
            "amount": 5000,
            "currency": "USD",
        },
    )
    assert paid["id"] == encode_id("Payment", row)
    assert paid["customerId"] == encode_id("Customer", customer)
    assert paid["invoiceId"] is None
    assert paid["providerPaymentIntentId"] == "pi_123" and paid["amount"] == 5000
    assert "organizationId" not in paid and str(organization) not in json.dumps(paid)
    signed = object_of(
        contracts,
        {
            "id": row,
            "organization_id": organization,
            "signer_ip": "203.0.113.9",
            "signer_user_agent": "Browser",
            "signed_sha256": "ab" * 32,
            "signer_name": "Sam",
        },
    )
    assert signed["signerName"] == "Sam"
    assert not {"signerIp", "signerUserAgent"} & set(signed)
