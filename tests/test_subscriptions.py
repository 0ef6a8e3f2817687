"""Live messages over a real WebSocket (graphql-transport-ws), and the broker underneath.

Each test runs its own app on the database under test inside Starlette's TestClient, so
the socket and the HTTP requests that post messages share that app's broker; the people
are set up beforehand through the usual fixtures.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect

with warnings.catch_warnings():
    # Starlette 1.x would rather its TestClient ran on httpx2; the httpx we already depend
    # on still drives it, so take the notice rather than a second HTTP client.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketTestSession

from auth.cookies import COOKIE_NAME, sign_session_token
from core.broker import InProcessBroker, SubscriberOverflow
from core.settings import settings_from_env
from domain.messaging.conversations import messages_topic
from models.db import Database
from portico.app import create_app
from portico.live import MAX_SUBSCRIPTIONS_PER_CONNECTION
from tests.helpers import GraphQLClient, Tenant
from tests.messaging import drain_outbox, portal_token
from tests.portal import REVOKE, make_customer
from tests.smtp import SmtpServer

PROTOCOL = "graphql-transport-ws"
WAIT_SECONDS = 10
MESSAGE_ADDED = """
subscription W($customerId: ID) {
  messageAdded(customerId: $customerId) { body authorKind customer { id } }
}
"""
SEND = """
mutation S($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id } userErrors { code } }
}
"""
SEND_MINE = """
mutation S($input: SendMyMessageInput!) {
  sendMyMessage(input: $input) { message { id } userErrors { code } }
}
"""
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
async def _deliver_our_mail(db: Database, smtp: SmtpServer) -> AsyncIterator[None]:
    yield
    await drain_outbox(db, smtp)


@dataclass
class People:
    tenant: Tenant
    other_tenant: Tenant
    customer: str  # of tenant, with a portal session `portal`
    portal: str
    neighbour: str  # another customer of tenant, with a portal session `neighbour_portal`
    neighbour_portal: str
    foreign_customer: str  # of other_tenant


@pytest.fixture
async def people(db: Database, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant) -> People:
    customer, _ = await make_customer(gql, tenant, "Ada Listener")
    neighbour, _ = await make_customer(gql, tenant, "Ben Neighbour")
    foreign, _ = await make_customer(gql, other_tenant, "Cy Foreign")
    return People(
        tenant=tenant,
        other_tenant=other_tenant,
        customer=customer,
        portal=await portal_token(db, tenant, customer),
        neighbour=neighbour,
        neighbour_portal=await portal_token(db, tenant, neighbour),
        foreign_customer=foreign,
    )


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    """A server of its own on the same database (its engine lives on the client's loop).

    Sockets opened with `connect` are closed before the client stops, even when a test
    fails half-way: the client waits for every open socket.
    """
    app = create_app(settings_from_env({"DATABASE_URL": database_url}), run_mail_worker=False)
    with TestClient(app, base_url="http://testserver") as test_client, ExitStack() as sockets:
        test_client.sockets = sockets  # type: ignore[attr-defined]
        yield test_client


def receive(ws: WebSocketTestSession) -> dict[str, Any]:
    """The next frame, failing rather than hanging when none comes."""

    async def within() -> Any:
        with anyio.fail_after(WAIT_SECONDS):
            return await ws._send_rx.receive()  # TestClient's own receive has no timeout

    message = ws.portal.call(within)
    ws._raise_on_close(message)
    return json.loads(message["text"])


def connect(client: TestClient, token: str | None, **kwargs: Any) -> WebSocketTestSession:
    ws = client.sockets.enter_context(  # type: ignore[attr-defined]
        client.websocket_connect("/graphql", subprotocols=[PROTOCOL], **kwargs)
    )
    assert ws.accepted_subprotocol == PROTOCOL
    payload = {"authorization": f"Bearer {token}"} if token else {}
    ws.send_json({"type": "connection_init", "payload": payload})
    return ws


def signed_in(client: TestClient, token: str | None, **kwargs: Any) -> WebSocketTestSession:
    ws = connect(client, token, **kwargs)
    assert receive(ws) == {"type": "connection_ack"}
    return ws


def subscribe(ws: WebSocketTestSession, customer_id: str | None = None) -> str:
    op = str(next(_ids))
    variables = {"customerId": customer_id} if customer_id else {}
    payload = {"query": MESSAGE_ADDED, "variables": variables}
    ws.send_json({"id": op, "type": "subscribe", "payload": payload})
    return op


def next_body(ws: WebSocketTestSession, op: str) -> str:
    frame = receive(ws)
    assert frame["id"] == op and frame["type"] == "next", frame
    assert "errors" not in frame["payload"], frame
    return frame["payload"]["data"]["messageAdded"]["body"]


def ended_with(ws: WebSocketTestSession, op: str) -> list[str]:
    """The error codes a subscription ended with: a `next` with errors, then `complete`."""
    frame = receive(ws)
    assert frame["id"] == op and frame["type"] == "next", frame
    assert frame["payload"]["data"] is None, frame
    codes = [e["extensions"]["code"] for e in frame["payload"]["errors"]]
    assert receive(ws) == {"id": op, "type": "complete"}
    return codes


def post(client: TestClient, query: str, variables: dict[str, Any], token: str) -> None:
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert next(iter(body["data"].values()))["userErrors"] == []


def staff_sends(client: TestClient, tenant: Tenant, customer: str, text: str) -> None:
    post(client, SEND, {"input": {"customerId": customer, "body": text}}, tenant.staff_token)


def listening(client: TestClient, tenant: Tenant, count: int) -> None:
    """Wait until `count` subscriptions listen to the organization's messages: a
    subscription registers with the broker once it has checked its session."""
    broker = client.app.state.broker  # type: ignore[attr-defined]
    topic = messages_topic(tenant.organization_id)

    async def registered() -> bool:
        for _ in range(WAIT_SECONDS * 100):
            if broker.subscriber_count(topic) >= count:
                return True
            await asyncio.sleep(0.01)
        return False

    assert client.portal.call(registered)  # type: ignore[union-attr]


def test_each_viewer_receives_exactly_the_messages_they_may_read(client, people):
    tenant, other = people.tenant, people.other_tenant
    portal = signed_in(client, people.portal)
    neighbour = signed_in(client, people.neighbour_portal)
    staff_all = signed_in(client, tenant.owner_token)
    staff_one = signed_in(client, tenant.staff_token)
    foreign = signed_in(client, other.staff_token)
    ops = {
        "portal": subscribe(portal),
        "neighbour": subscribe(neighbour),
        "staff_all": subscribe(staff_all),
        "staff_one": subscribe(staff_one, people.neighbour),
        "foreign": subscribe(foreign),
    }
    listening(client, tenant, 4)
    listening(client, other, 1)

    staff_sends(client, tenant, people.customer, "For Ada")
    staff_sends(client, tenant, people.neighbour, "For Ben")
    staff_sends(client, other, people.foreign_customer, "Elsewhere")

    assert next_body(portal, ops["portal"]) == "For Ada"
    # Messages are delivered in order: had a viewer received another's message, it would
    # come before their own.
    assert next_body(neighbour, ops["neighbour"]) == "For Ben"
    assert next_body(staff_all, ops["staff_all"]) == "For Ada"
    assert next_body(staff_all, ops["staff_all"]) == "For Ben"
    assert next_body(staff_one, ops["staff_one"]) == "For Ben"
    assert next_body(foreign, ops["foreign"]) == "Elsewhere"

    post(client, SEND_MINE, {"input": {"body": "Thank you!"}}, people.portal)
    frame = receive(staff_all)
    assert frame["payload"]["data"]["messageAdded"] == {
        "body": "Thank you!",
        "authorKind": "CUSTOMER",
        "customer": {"id": people.customer},
    }
    assert next_body(portal, ops["portal"]) == "Thank you!"  # the other tabs see it too


def test_unauthenticated_and_ended_sessions_are_refused(client, people):
    for token in (None, "not-a-session-token"):
        ws = connect(client, token)
        with pytest.raises(WebSocketDisconnect) as refused:
            receive(ws)
        assert refused.value.code == 4403

    with pytest.raises(WebSocketDisconnect) as refused:
        legacy = client.sockets.enter_context(  # type: ignore[attr-defined]
            client.websocket_connect("/graphql", subprotocols=["graphql-ws"])
        )
        receive(legacy)
    assert refused.value.code == 4406


def test_a_portal_viewer_cannot_watch_another_customer(client, people):
    ws = signed_in(client, people.portal)
    for customer in (people.neighbour, people.foreign_customer):
        op = subscribe(ws, customer)
        assert ended_with(ws, op) == ["NOT_FOUND"]
    own = subscribe(ws, people.customer)  # naming their own is allowed
    listening(client, people.tenant, 1)
    staff_sends(client, people.tenant, people.customer, "Still yours")
    assert next_body(ws, own) == "Still yours"


def test_a_revoked_session_stops_receiving(client, people):
    ws = signed_in(client, people.portal)
    op = subscribe(ws)
    tenant = people.tenant
    listening(client, tenant, 1)
    post(client, REVOKE, {"input": {"customerId": people.customer}}, tenant.staff_token)
    staff_sends(client, tenant, people.customer, "You should not see this")
    assert ended_with(ws, op) == ["UNAUTHENTICATED"]


def test_subscriptions_per_connection_are_capped(client, people):
    ws = signed_in(client, people.tenant.staff_token)
    ops = [subscribe(ws) for _ in range(MAX_SUBSCRIPTIONS_PER_CONNECTION)]
    one_too_many = subscribe(ws)
    frame = receive(ws)
    assert frame["id"] == one_too_many and frame["type"] == "error"
    assert frame["payload"][0]["message"] == "Subscription limit reached"
    listening(client, people.tenant, MAX_SUBSCRIPTIONS_PER_CONNECTION)
    staff_sends(client, people.tenant, people.customer, "To all ten")
    received = {receive(ws)["id"] for _ in ops}
    assert received == set(ops)


def test_queries_and_mutations_are_not_served_over_the_socket(client, people):
    ws = signed_in(client, people.tenant.staff_token)
    mutation = 'mutation { sendMessage(input: {customerId: "x", body: "y"}) { message { id } } }'
    for query in ("{ viewer { kind } }", mutation):
        ws.send_json({"id": "q", "type": "subscribe", "payload": {"query": query}})
        frame = receive(ws)
        assert frame["type"] == "error" and frame["id"] == "q", frame
        assert frame["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_the_session_cookie_counts_only_from_a_trusted_origin(client, people):
    cookie = sign_session_token(client.app.state.settings, people.portal)
    headers = {"cookie": f"{COOKIE_NAME}={cookie}"}
    same_site = signed_in(client, None, headers={**headers, "origin": "http://testserver"})
    op = subscribe(same_site)
    listening(client, people.tenant, 1)
    staff_sends(client, people.tenant, people.customer, "Via the cookie")
    assert next_body(same_site, op) == "Via the cookie"

    forged = connect(client, None, headers={**headers, "origin": "https://evil.example"})
    with pytest.raises(WebSocketDisconnect) as refused:
        receive(forged)
    assert refused.value.code == 4403


# --- the broker -------------------------------------------------------------------------


async def test_the_broker_delivers_to_live_subscribers_of_the_topic_only():
    broker = InProcessBroker()
    await broker.publish("t.one", "before anyone listened")
    async with broker.subscribe("t.one") as one, broker.subscribe("t.two") as two:
        await broker.publish("t.one", "a")
        await broker.publish("t.two", "b")
        assert await anext(one) == "a"
        assert await anext(two) == "b"
        # Waiting may be cancelled without losing what comes next.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(one), 0.01)
        await broker.publish("t.one", "c")
        assert await anext(one) == "c"
    assert broker.subscriber_count("t.one") == 0
    with pytest.raises(ValueError):
        await broker.publish("t" * 64, "topic too long for a PostgreSQL channel")
    with pytest.raises(ValueError):
        await broker.publish("t.one", "x" * 8001)


async def test_a_subscriber_that_falls_behind_is_cut_off_not_skipped():
    broker = InProcessBroker(queue_size=2)
    async with broker.subscribe("t") as events:
        for n in range(3):
            await broker.publish("t", str(n))
        assert [await anext(events), await anext(events)] == ["0", "1"]
        with pytest.raises(SubscriberOverflow):
            await anext(events)


async def test_a_subscription_sent_over_http_is_refused_with_a_code(
    gql: GraphQLClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
):
    subscription = "subscription Live { messageAdded { id body } }"
    for token in (None, tenant.staff_token):
        response = await gql.post(subscription, token=token)
        assert response.status_code == 400
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "WEBSOCKET_REQUIRED"}
        assert "WebSocket" in error["message"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # a refusal, not a bug
    # The operation that would run decides: a query beside a subscription still runs.
    both = f"query Name {{ __typename }} {subscription}"
    body = {"query": both, "operationName": "Name"}
    answered = await gql.http.post("/graphql", json=body)
    assert answered.json() == {"data": {"__typename": "Query"}}
    body["operationName"] = "Live"
    assert (await gql.http.post("/graphql", json=body)).status_code == 400


def test_a_document_over_the_token_limit_is_refused_unread(client, people):
    """The operation type is read within the token limit: a document over it gets the
    limit's refusal, not a parse of however many tokens it carries."""
    ws = signed_in(client, people.tenant.staff_token)
    query = "{ " + " ".join("__typename" for _ in range(5001)) + " }"
    for document in (query, f"subscription {query}"):
        ws.send_json({"id": "big", "type": "subscribe", "payload": {"query": document}})
        frame = receive(ws)
        assert frame["type"] == "error" and frame["id"] == "big", frame
        (error,) = frame["payload"]
        limit = {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "maxTokens": 5000}
        assert error["extensions"] == limit


def test_a_document_that_does_not_parse_is_answered_with_its_syntax_error(client, people):
    ws = signed_in(client, people.tenant.staff_token)
    ws.send_json({"id": "s", "type": "subscribe", "payload": {"query": "subscription { x"}})
    frame = receive(ws)
    assert frame["type"] == "error" and frame["id"] == "s", frame
    (error,) = frame["payload"]
    assert error["message"].startswith("Syntax Error"), error
