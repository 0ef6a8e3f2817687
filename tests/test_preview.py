"""Staff preview the portal as one person sees it; the preview changes nothing."""

import sqlalchemy as sa

from models import AuditEvent
from tests.billing import open_invoice, sent_estimate
from tests.helpers import error_codes
from tests.portal import make_car, make_contact, make_customer

PREVIEW = """
mutation P($input: PortalPersonInput!) {
  startPortalPreview(input: $input) { token expiresAt userErrors { field code } }
}
"""
SEEN = """
{ viewer { kind customer { name invoices(first: 5) { totalCount } } contact { name } } }
"""
MUTATIONS = [
    "mutation { signOut { __typename } }",
    "mutation A($id: ID!) { approveEstimate(input: {estimateId: $id, version: 1}) { __typename } }",
    "mutation P($id: ID!) { payInvoice(input: {invoiceIds: [$id], "
    'idempotencyKey: "preview-0001"}) { __typename } }',
    'mutation { createCustomer(input: {name: "X"}) { __typename } }',
]


async def test_a_preview_sees_as_the_person_and_changes_nothing(gql, db, tenant):
    customer_id, _ = await make_customer(gql, tenant, "Alex Morgan")
    await make_car(gql, tenant, customer_id, "911")
    contact_id, _ = await make_contact(gql, tenant, customer_id, portalScope="BILLING")
    invoice = await open_invoice(gql, tenant, customer_id)
    estimate = await sent_estimate(gql, tenant, customer_id)
    refused = await gql(PREVIEW, {"input": {"customerId": customer_id}})
    assert error_codes(refused) == ["UNAUTHENTICATED"]  # nobody signed in
    started = await gql.data(
        PREVIEW, {"input": {"contactId": contact_id}}, token=tenant.staff_token
    )
    token = started["startPortalPreview"]["token"]
    seen = await gql.data(SEEN, token=token)
    assert seen["viewer"]["kind"] == "PORTAL"
    assert seen["viewer"]["contact"]["name"] == "Robin"
    assert seen["viewer"]["customer"]["invoices"]["totalCount"] == 1
    cars = await gql("{ viewer { customer { cars { totalCount } } } }", token=token)
    assert cars["data"]["viewer"]["customer"]["cars"]["totalCount"] == 0  # billing-only scope
    for query in MUTATIONS:
        variables = {"id": estimate["id"] if "approve" in query else invoice["id"]}
        result = await gql(query, variables if "$id" in query else {}, token=token)
        assert error_codes(result) == ["PREVIEW_READ_ONLY"], query
    state = await gql.data(
        "query E($id: ID!) { node(id: $id) { ... on Estimate { status } } }",
        {"id": estimate["id"]},
        token=tenant.staff_token,
    )
    assert state["node"]["status"] == "SENT"
    assert (await gql.data(SEEN, token=token))["viewer"]["kind"] == "PORTAL"  # still signed in
    async with db.connect() as conn:
        audited = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.organization_id == tenant.organization_id,
                AuditEvent.action == "portal.preview_started",
            )
        )
    assert audited == 1


async def test_a_preview_names_exactly_one_person(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    contact_id, _ = await make_contact(gql, tenant, customer_id)
    both = await gql(
        PREVIEW,
        {"input": {"customerId": customer_id, "contactId": contact_id}},
        token=tenant.staff_token,
    )
    assert both["data"]["startPortalPreview"] == {
        "token": None,
        "expiresAt": None,
        "userErrors": [{"field": ["input", "customerId"], "code": "INVALID"}],
    }
    neither = await gql.data(PREVIEW, {"input": {}}, token=tenant.staff_token)
    assert neither["startPortalPreview"]["userErrors"] == [
        {"field": ["input", "customerId"], "code": "INVALID"}
    ]
