"""Webhook endpoints are the OWNER's alone: STAFF, ADMIN, another organization's OWNER, a
portal viewer and anyone signed out can neither register, read, change, rotate, delete nor
redeliver them, and no read ever shows a signing secret."""

from __future__ import annotations

import sqlalchemy as sa

from core.ids import decode_id, encode_id
from domain.webhooks.events import emit
from models import Customer
from models.db import Database
from models.enums import StaffRole
from models.tables import audit_events, webhook_endpoints
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.portal import make_customer, sign_in_by_invite
from tests.staff import add_staff
from tests.webhooks import LOG, REDELIVER, REGISTER, deliveries_of, register

URL = "http://127.0.0.1:9/hooks"
LIST = "{ organization { webhookEndpoints { id url secretPrefix } } }"
NODE = "query N($id: ID!) { node(id: $id) { id } }"
ROTATE = """
mutation R($id: ID!) {
  rotateWebhookSecret(input: {id: $id}) { secret webhookEndpoint { id } userErrors { code } }
}
"""
UPDATE = """
mutation U($id: ID!) {
  updateWebhookEndpoint(input: {id: $id, url: "http://127.0.0.1:8/x", enabled: false}) {
    webhookEndpoint { id } userErrors { code }
  }
}
"""
DELETE = """
mutation D($id: ID!) {
  deleteWebhookEndpoint(input: {id: $id}) { deletedWebhookEndpointId userErrors { code } }
}
"""


async def _endpoint_count(db: Database, tenant: Tenant) -> int:
    async with db.connect() as conn:
        return int(
            await conn.scalar(
                sa.select(sa.func.count())
                .select_from(webhook_endpoints)
                .where(webhook_endpoints.c.organization_id == tenant.organization_id)
            )
            or 0
        )


async def _a_delivery(db: Database, tenant: Tenant, endpoint_id: str) -> str:
    async with db.write() as session:
        customer = Customer(organization_id=tenant.organization_id, name="Dee Livery")
        session.add(customer)
        await emit(session, "customer.created", customer)
    [row] = await deliveries_of(db, endpoint_id)
    return encode_id("WebhookDelivery", row["id"])


async def test_only_the_owner_registers_or_reads_endpoints(
    gql: GraphQLClient, db: Database, smtp, tenant: Tenant, other_tenant: Tenant
):
    _, _, admin = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    customer_id, email = await make_customer(gql, tenant)
    portal = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    variables = {"input": {"url": URL, "eventTypes": ["invoice.paid"]}}
    for token in (tenant.staff_token, admin, portal, None):
        refused = await gql(REGISTER, variables, token=token)
        assert refused["data"] is None and error_codes(refused), refused
    assert await _endpoint_count(db, tenant) == 0

    made = await register(gql, tenant, URL)
    assert made["userErrors"] == [] and made["secret"].startswith("whsec_")
    endpoint_id = made["webhookEndpoint"]["id"]
    assert made["secret"].startswith(made["webhookEndpoint"]["secretPrefix"])
    delivery_id = await _a_delivery(db, tenant, endpoint_id)

    for token in (tenant.staff_token, admin, portal, None):
        listed = await gql(LIST, token=token)
        assert not (listed.get("data") or {}).get("organization", {}) or (
            listed["data"]["organization"]["webhookEndpoints"] is None
        )
        for thing in (endpoint_id, delivery_id):
            read = await gql(NODE, {"id": thing}, token=token)
            assert (read.get("data") or {}).get("node") is None
        for query, args in (
            (ROTATE, {"id": endpoint_id}),
            (UPDATE, {"id": endpoint_id}),
            (DELETE, {"id": endpoint_id}),
            (REDELIVER, {"input": {"deliveryId": delivery_id}}),
        ):
            refused = await gql(query, args, token=token)
            assert refused["data"] is None and error_codes(refused), (query, refused)

    # The other organization's OWNER: their own list is empty, ours answers NOT_FOUND.
    theirs = await gql.data(LIST, token=other_tenant.owner_token)
    assert theirs["organization"]["webhookEndpoints"] == []
    for thing in (endpoint_id, delivery_id):
        read = await gql(NODE, {"id": thing}, token=other_tenant.owner_token)
        assert error_codes(read) == ["NOT_FOUND"]
    for query, args, name in (
        (ROTATE, {"id": endpoint_id}, "rotateWebhookSecret"),
        (UPDATE, {"id": endpoint_id}, "updateWebhookEndpoint"),
        (DELETE, {"id": endpoint_id}, "deleteWebhookEndpoint"),
        (REDELIVER, {"input": {"deliveryId": delivery_id}}, "redeliverWebhook"),
    ):
        answer = await gql.data(query, args, token=other_tenant.owner_token)
        assert [e["code"] for e in answer[name]["userErrors"]] == ["NOT_FOUND"], name
    assert len(await deliveries_of(db, endpoint_id)) == 1
    unchanged = await gql.data(LOG, {"id": endpoint_id}, token=tenant.owner_token)
    assert unchanged["node"]["enabled"] is True


async def test_a_secret_is_shown_once_and_rotation_replaces_it(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    made = await register(gql, tenant, URL)
    endpoint_id, first = made["webhookEndpoint"]["id"], made["secret"]
    # No field of the endpoint holds the secret: asking for one is not even valid.
    asked = await gql(
        "query N($id: ID!) { node(id: $id) { ... on WebhookEndpoint { secret } } }",
        {"id": endpoint_id},
        token=tenant.owner_token,
    )
    assert asked.get("errors") and "secret" in asked["errors"][0]["message"]
    rotated = (await gql.data(ROTATE, {"id": endpoint_id}, token=tenant.owner_token))[
        "rotateWebhookSecret"
    ]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != first
    async with db.connect() as conn:
        stored = await conn.scalar(
            sa.select(webhook_endpoints.c.secret).where(
                webhook_endpoints.c.id == decode_id(endpoint_id)[1]
            )
        )
        actions = (
            await conn.execute(
                sa.select(audit_events.c.action, audit_events.c.data).where(
                    audit_events.c.organization_id == tenant.organization_id,
                    audit_events.c.action.like("webhook.%"),
                )
            )
        ).all()
    assert stored == rotated["secret"]  # the old one signs nothing more
    assert {a for a, _ in actions} == {"webhook.endpoint_created", "webhook.secret_rotated"}
    assert not any(first in str(d) or rotated["secret"] in str(d) for _, d in actions)
