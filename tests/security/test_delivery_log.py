"""The delivery log is staff's, of their own organization: another organization's staff,
portal viewers and anonymous callers see no email and resend none, and no one reads an
email's body (it may carry a sign-in or pay link) or sends a sign-in link again."""

from __future__ import annotations

import sqlalchemy as sa

from core.ids import encode_id
from models import OutboxEmail
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes, user_errors
from tests.messaging import portal_token
from tests.portal import invite, make_customer

LOG = """
query L($recipient: String) {
  emailDeliveries(recipient: $recipient) { totalCount nodes { id toAddress kind subject state } }
}
"""
NODE = "query N($id: ID!) { node(id: $id) { ... on EmailDelivery { id subject } } }"
RESEND = """
mutation R($input: ResendEmailInput!) {
  resendEmail(input: $input) { emailDelivery { id state } userErrors { field code } }
}
"""


async def _an_email(db: Database, tenant: Tenant, **fields: object) -> str:
    async with db.write() as session:
        row = OutboxEmail(
            organization_id=tenant.organization_id,
            kind=fields.pop("kind", "INVOICES"),
            to_address=str(fields.pop("to_address", "someone@customer.test")),
            subject="Invoice 1",
            body_text="secret body",
            status=fields.pop("status", "SENT"),
            **fields,
        )
        session.add(row)
    return encode_id("EmailDelivery", row.id)


async def _outbox_count(db: Database, tenant: Tenant) -> int:
    async with db.connect() as conn:
        return int(
            await conn.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.organization_id == tenant.organization_id)  # type: ignore[arg-type]
            )
            or 0
        )


async def test_other_organizations_staff_see_and_resend_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    email = await _an_email(db, tenant, to_address="victim@customer.test")
    victim = {"recipient": "victim@customer.test"}
    seen = await gql.data(LOG, victim, token=other_tenant.owner_token)
    assert seen["emailDeliveries"] == {"totalCount": 0, "nodes": []}
    node = await gql(NODE, {"id": email}, token=other_tenant.owner_token)
    assert error_codes(node) == ["NOT_FOUND"]
    before = await _outbox_count(db, tenant)
    again = await gql.data(RESEND, {"input": {"id": email}}, token=other_tenant.owner_token)
    assert user_errors(again["resendEmail"]) == [(["input", "id"], "NOT_FOUND")]
    assert await _outbox_count(db, tenant) == before


async def test_portal_viewers_and_anonymous_callers_are_refused(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, address = await make_customer(gql, tenant)
    email = await _an_email(db, tenant, to_address=address)
    viewer = await portal_token(db, tenant, customer_id)
    for token in (viewer, None):
        listed = await gql(LOG, {"recipient": address}, token=token)
        assert error_codes(listed) in (["FORBIDDEN"], ["UNAUTHENTICATED"])
        resent = await gql(RESEND, {"input": {"id": email}}, token=token)
        assert error_codes(resent) in (["FORBIDDEN"], ["UNAUTHENTICATED"])
        node = await gql(NODE, {"id": email}, token=token)
        assert (node.get("data") or {}).get("node") is None
        assert error_codes(node) in (["NOT_FOUND"], ["UNAUTHENTICATED"])
    assert (await gql.data(NODE, {"id": email}, token=tenant.staff_token))["node"] is not None


async def test_the_body_is_no_field_and_sign_in_links_are_not_resent(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    body = await gql("{ emailDeliveries { nodes { bodyText } } }", token=tenant.owner_token)
    assert body.get("errors") and not body.get("data")  # no such field
    customer_id, address = await make_customer(gql, tenant)
    assert (await invite(gql, tenant, customerId=customer_id))["userErrors"] == []
    log = await gql.data(LOG, {"recipient": address}, token=tenant.owner_token)
    [link] = log["emailDeliveries"]["nodes"]
    assert link["kind"] == "SIGN_IN"
    before = await _outbox_count(db, tenant)
    again = await gql.data(RESEND, {"input": {"id": link["id"]}}, token=tenant.owner_token)
    assert user_errors(again["resendEmail"]) == [(["input", "id"], "NOT_RESENDABLE")]
    assert await _outbox_count(db, tenant) == before
