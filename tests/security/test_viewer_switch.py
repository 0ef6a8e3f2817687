"""Field permissions belong to the viewer, not to the request (SECURITY.md E40).

One document, sent with a staff token, first reads a staff-only field as staff, then signs
in as a portal viewer of another business with one of the four sign-in mutations, and
asks for that business's staff-only fields. Nothing decided for the staff member may be
reused for the portal viewer.
"""

from __future__ import annotations

import pytest

from tests.helpers import GraphQLClient, Tenant, make_tenant
from tests.portal import deliver, invite, make_customer, sign_in_by_invite, tokens_for

STAFF_READ = (
    'staff: updateCustomer(input: {id: $own, name: "Still Me"}) { customer { internalNotes } }'
)
PORTAL_FIELDS = "viewer { customer { name internalNotes } }"
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { code } }
}
"""
UPDATE_NOTES = """
mutation U($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }
"""
PASSPHRASE = "a long and secret passphrase"
SECRET = "A's internal note: do not show"


def document(sign_in: str, arguments: str) -> str:
    return f"mutation Switch($own: ID!, {arguments}) {{ {STAFF_READ} portal: {sign_in} }}"


async def _portal_customer_of_a(gql, db, smtp, business_a: Tenant) -> tuple[str, str]:
    """A customer of business A with A's internal notes on file; its email address is the
    staff member of B's own (they are a customer there)."""
    customer_id, email = await make_customer(gql, business_a, "Customer At A")
    await gql.data(
        UPDATE_NOTES,
        {"input": {"id": customer_id, "internalNotes": SECRET}},
        token=business_a.staff_token,
    )
    return customer_id, email


@pytest.mark.parametrize(
    "route", ["redeemMagicLink", "portalSignIn", "resetPassword", "switchPortalAccount"]
)
async def test_no_staff_only_field_after_a_sign_in_in_the_same_document(
    gql: GraphQLClient, db, smtp, route: str
):
    business_a = await make_tenant(db, gql)
    business_b = await make_tenant(db, gql)
    own_id, _ = await make_customer(gql, business_b, "Somebody At B")
    customer_id, email = await _portal_customer_of_a(gql, db, smtp, business_a)
    if route in ("portalSignIn", "resetPassword"):
        await gql.data(
            SETTINGS, {"input": {"signInMethod": "PASSWORD"}}, token=business_a.owner_token
        )

    if route == "redeemMagicLink":
        await invite(gql, business_a, customerId=customer_id)
        await deliver(db, smtp)
        variables = {"token": tokens_for(smtp, email)[-1]}
        query = document(
            f"redeemMagicLink(input: {{token: $token}}) {{ {PORTAL_FIELDS} }}", "$token: String!"
        )
    elif route == "portalSignIn":
        session = await sign_in_by_invite(gql, db, smtp, business_a, email, customerId=customer_id)
        await gql.data(
            "mutation($p: String!) { setPortalPassword(input: {password: $p}) { passwordSet } }",
            {"p": PASSPHRASE},
            token=session,
        )
        variables = {"email": email, "password": PASSPHRASE, "org": business_a.slug}
        query = document(
            "portalSignIn(input: {email: $email, password: $password, organization: $org}) "
            f"{{ {PORTAL_FIELDS} }}",
            "$email: String!, $password: String!, $org: String!",
        )
    elif route == "resetPassword":
        await invite(gql, business_a, customerId=customer_id)
        await deliver(db, smtp)
        await gql.data(
            "mutation($e: String!, $o: String!) { requestPasswordReset(input: "
            "{email: $e, organization: $o}) { message } }",
            {"e": email, "o": business_a.slug},
        )
        await deliver(db, smtp)
        variables = {"token": tokens_for(smtp, email)[-1], "password": PASSPHRASE}
        query = document(
            f"resetPassword(input: {{token: $token, password: $password}}) {{ {PORTAL_FIELDS} }}",
            "$token: String!, $password: String!",
        )
    else:
        # The staff member is a customer of B's own portal too, at the same address,
        # and switches from there into A's account.
        mine, _ = await make_customer(gql, business_b, "Me At B", email=email)
        await invite(gql, business_b, customerId=mine)
        await deliver(db, smtp)
        link_at_b = tokens_for(smtp, email)[-1]
        await invite(gql, business_a, customerId=customer_id)
        variables = {"token": link_at_b, "account": customer_id}
        query = document(
            f"redeemMagicLink(input: {{token: $token}}) {{ viewer {{ kind }} }} "
            f"into: switchPortalAccount(input: {{accountId: $account}}) {{ {PORTAL_FIELDS} }}",
            "$token: String!, $account: ID!",
        )

    result = await gql(query, {"own": own_id, **variables}, token=business_b.staff_token)
    data = result["data"]
    assert data["staff"]["customer"]["internalNotes"] is None  # read as staff: allowed
    portal = data["into"] if route == "switchPortalAccount" else data["portal"]
    assert portal["viewer"]["customer"] == {"name": "Customer At A", "internalNotes": None}
    refused = [e for e in result["errors"] if e["path"][-1] == "internalNotes"]
    assert [e["extensions"]["code"] for e in refused] == ["FORBIDDEN"]
    assert SECRET not in str(result)
