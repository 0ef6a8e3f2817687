"""Portal viewers change their own profile and email address."""

from __future__ import annotations

from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes, user_errors
from tests.portal import (
    REDEEM,
    TOKEN,
    WHOAMI,
    deliver,
    make_contact,
    make_customer,
    sign_in_by_invite,
)
from tests.smtp import SmtpServer

PROFILE = """
mutation P($input: UpdateMyProfileInput!) {
  updateMyProfile(input: $input) {
    customer { name phone city country } contact { name phone } userErrors { field code }
  }
}
"""
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { code } }
}
"""
REQUEST_CHANGE = """
mutation R($email: String!) {
  requestEmailChange(input: {newEmail: $email}) { sent userErrors { field code } }
}
"""
CONFIRM_CHANGE = """
mutation C($token: String!) {
  confirmEmailChange(input: {token: $token}) { outcome email userErrors { field code } }
}
"""
UPDATE_CUSTOMER = """
mutation U($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }
"""
REQUEST_LINK = """
mutation R($email: String!, $org: String!) {
  requestPortalLink(input: {email: $email, organization: $org}) { message }
}
"""
AUDIT = '{ auditEvents(action: "portal.profile_updated") { nodes { actorKind data } } }'


def tokens_for(smtp: SmtpServer, address: str) -> list[str]:
    """Link tokens in the emails to exactly this address (the new one contains the old)."""
    found = []
    for message in smtp.messages:
        if str(message["To"]).lower() == address.lower():
            found += TOKEN.findall(message.get_body(preferencelist=("plain",)).get_content())
    return found


async def test_profile_updates_are_audited_and_refused_when_off(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant, phone="+1 312 555 0100")
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    changes = {
        "name": "Alex J. Morgan",
        "phone": "+1 312 555 0199",
        "city": "Austin",
        "country": "us",
    }
    done = await gql.data(PROFILE, {"input": changes}, token=session)
    assert done["updateMyProfile"] == {
        "customer": {
            "name": "Alex J. Morgan",
            "phone": "+13125550199",
            "city": "Austin",
            "country": "US",
        },
        "contact": None,
        "userErrors": [],
    }
    audit = await gql.data(AUDIT, token=tenant.owner_token)
    [event] = audit["auditEvents"]["nodes"]
    assert event["actorKind"] == "CUSTOMER"
    assert event["data"]["changed"]["phone"] == {"from": "+13125550100", "to": "+13125550199"}
    assert sorted(event["data"]["changed"]) == ["city", "country", "name", "phone"]

    blank = await gql.data(PROFILE, {"input": {"name": " "}}, token=session)
    assert user_errors(blank["updateMyProfile"]) == [(["input", "name"], "REQUIRED")]

    await gql.data(SETTINGS, {"input": {"allowProfileUpdates": False}}, token=tenant.owner_token)
    refused = await gql.data(PROFILE, {"input": {"name": "Someone"}}, token=session)
    assert user_errors(refused["updateMyProfile"]) == [(None, "NOT_ALLOWED")]
    await gql.data(
        SETTINGS,
        {"input": {"allowProfileUpdates": True, "showProfile": False}},
        token=tenant.owner_token,
    )
    hidden = await gql(PROFILE, {"input": {"name": "Someone"}}, token=session)
    assert error_codes(hidden) == ["SECTION_DISABLED"]
    who = await gql.data(WHOAMI, token=session)
    assert who["viewer"]["customer"]["name"] == "Alex J. Morgan"
    audit = await gql.data(AUDIT, token=tenant.owner_token)
    assert len(audit["auditEvents"]["nodes"]) == 1


async def test_a_contact_updates_their_own_record_only(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, _ = await make_customer(gql, tenant, "Main Account")
    contact_id, email = await make_contact(gql, tenant, customer_id, name="Robin")
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)
    address = await gql.data(PROFILE, {"input": {"city": "Elsewhere"}}, token=session)
    assert user_errors(address["updateMyProfile"]) == [(["input", "city"], "NOT_ALLOWED")]
    done = await gql.data(PROFILE, {"input": {"name": "Robin Lee"}}, token=session)
    assert done["updateMyProfile"]["contact"]["name"] == "Robin Lee"
    assert done["updateMyProfile"]["customer"] is None
    who = await gql.data(WHOAMI, token=session)
    assert who["viewer"]["customer"]["name"] == "Main Account"


async def test_email_change_is_confirmed_only_by_the_link_sent_to_the_new_address(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, old = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, old, customerId=customer_id)
    taken_id, taken = await make_customer(gql, tenant, "Has That Address")
    refused = await gql.data(REQUEST_CHANGE, {"email": taken}, token=session)
    assert user_errors(refused["requestEmailChange"]) == [(["input", "newEmail"], "DUPLICATE")]
    bad = await gql.data(REQUEST_CHANGE, {"email": "not an address"}, token=session)
    assert user_errors(bad["requestEmailChange"]) == [(["input", "newEmail"], "INVALID")]

    new = f"new-{old}"
    sent = await gql.data(REQUEST_CHANGE, {"email": new.upper()}, token=session)
    assert sent["requestEmailChange"] == {"sent": True, "userErrors": []}
    await deliver(db, smtp)
    old_tokens = tokens_for(smtp, old)
    [token] = tokens_for(smtp, new)
    assert token not in old_tokens  # only the new address can confirm
    who = await gql.data(WHOAMI, token=session)
    assert who["viewer"]["customer"]["id"] == customer_id  # nothing changed yet

    done = await gql.data(CONFIRM_CHANGE, {"token": token})
    assert done["confirmEmailChange"] == {"outcome": "CHANGED", "email": new, "userErrors": []}
    again = await gql.data(CONFIRM_CHANGE, {"token": token})
    assert again["confirmEmailChange"]["outcome"] == "INVALID"
    wrong = await gql.data(CONFIRM_CHANGE, {"token": old_tokens[-1]})  # a sign-in link
    assert wrong["confirmEmailChange"]["outcome"] == "INVALID"

    staff = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Customer { email } } }",
        {"id": customer_id},
        token=tenant.staff_token,
    )
    assert staff["node"]["email"] == new
    await deliver(db, smtp)
    notices = [
        m for m in smtp.messages if str(m["To"]).lower() == old and "changed" in str(m["Subject"])
    ]
    assert len(notices) == 1
    body = notices[0].get_body(preferencelist=("plain",)).get_content()
    assert new in body and "token=" not in body
    # Sessions of the old address end; signing in again at the new one reaches the account.
    assert (await gql.post(WHOAMI, token=session)).status_code == 401
    await gql.data(REQUEST_LINK, {"email": new, "org": tenant.slug})
    await deliver(db, smtp)
    signed = await gql.data(REDEEM, {"token": tokens_for(smtp, new)[-1]})
    session = signed["redeemMagicLink"]["token"]
    accounts = await gql.data("{ viewer { accounts { current } } }", token=session)
    assert accounts["viewer"]["accounts"] == [{"current": True}]

    # Taken between request and confirmation: refused, the address stays as it is.
    other = f"later-{old}"
    await gql.data(REQUEST_CHANGE, {"email": other}, token=session)
    await deliver(db, smtp)
    [later_token] = tokens_for(smtp, other)
    await gql.data(
        UPDATE_CUSTOMER,
        {"input": {"id": taken_id, "email": other}},
        token=tenant.staff_token,
    )
    clash = await gql.data(CONFIRM_CHANGE, {"token": later_token})
    assert clash["confirmEmailChange"]["outcome"] == "INVALID"
    assert user_errors(clash["confirmEmailChange"]) == [(["input", "newEmail"], "DUPLICATE")]
    staff = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Customer { email } } }",
        {"id": customer_id},
        token=tenant.staff_token,
    )
    assert staff["node"]["email"] == new
