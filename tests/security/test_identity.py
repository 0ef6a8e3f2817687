"""Identity: a portal session is an address someone proved, never a field staff can edit.

The attacker throughout is a staff member of business B, any role, who wants into the
portal account of a customer (or contact) of business A. They control B's records and
their own mailbox, never the victim's. Every route ends with no access to A, answered
exactly like an unknown account (SECURITY.md E39-E41).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from core.ids import encode_id
from models import Contact, Customer
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes, make_tenant
from tests.portal import (
    REDEEM,
    WHOAMI,
    deliver,
    invite,
    make_contact,
    make_customer,
    sign_in_by_invite,
    tokens_for,
)
from tests.smtp import SmtpServer

KINDS = ["customer", "EVERYTHING", "BILLING", "CARS"]
UPDATE_CUSTOMER = """
mutation U($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }
"""
UPDATE_CONTACT = """
mutation U($input: UpdateContactInput!) { updateContact(input: $input) { userErrors { code } } }
"""
ACCOUNTS = "{ viewer { accounts { id organizationName customerName current } } }"
SWITCH = """
mutation S($id: ID!) {
  switchPortalAccount(input: {accountId: $id}) { viewer { kind } userErrors { code } }
}
"""
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { code } }
}
"""
SET_PASSWORD = """
mutation P($password: String!) {
  setPortalPassword(input: {password: $password}) { passwordSet userErrors { code } }
}
"""
PASSWORD_SIGN_IN = """
mutation S($email: String!, $password: String!, $org: String!) {
  portalSignIn(input: {email: $email, password: $password, organization: $org}) {
    outcome token viewer { kind } userErrors { field code }
  }
}
"""
REQUEST_LINK = """
mutation R($email: String!, $org: String!) {
  requestPortalLink(input: {email: $email, organization: $org}) { message }
}
"""
REQUEST_CHANGE = """
mutation R($email: String!) {
  requestEmailChange(input: {newEmail: $email}) { sent userErrors { field code } }
}
"""
PASSPHRASE = "a long and secret passphrase"


@dataclass
class Person:
    """A portal person: a customer, or a contact of a customer with a scope."""

    tenant: Tenant
    kind: str
    customer_id: str
    contact_id: str | None
    email: str

    @property
    def ids(self) -> dict[str, str]:
        if self.contact_id is not None:
            return {"contactId": self.contact_id}
        return {"customerId": self.customer_id}

    @property
    def account_id(self) -> str:
        return self.contact_id or self.customer_id


async def make_person(gql: GraphQLClient, tenant: Tenant, kind: str, email: str) -> Person:
    if kind == "customer":
        customer_id, _ = await make_customer(gql, tenant, "Person", email=email)
        return Person(tenant, kind, customer_id, None, email)
    customer_id, _ = await make_customer(gql, tenant, "Company")
    contact_id, _ = await make_contact(gql, tenant, customer_id, email=email, portalScope=kind)
    return Person(tenant, kind, customer_id, contact_id, email)


async def readdress(gql: GraphQLClient, person: Person, email: str) -> None:
    """Staff of the person's business change the person's email address."""
    if person.contact_id is not None:
        query, row_id = UPDATE_CONTACT, person.contact_id
    else:
        query, row_id = UPDATE_CUSTOMER, person.customer_id
    done = await gql.data(
        query, {"input": {"id": row_id, "email": email}}, token=person.tenant.staff_token
    )
    assert next(iter(done.values()))["userErrors"] == []


def address(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@identity.test"


async def unknown_redemption(gql: GraphQLClient) -> dict:
    return (await gql.data(REDEEM, {"token": secrets.token_urlsafe(32)}))["redeemMagicLink"]


async def assert_unreachable(gql: GraphQLClient, session: str, victim: Person) -> None:
    """The attacker's session lists nothing of A and switching to the victim's account is
    answered exactly like switching to an account that does not exist."""
    listed = await gql.data(ACCOUNTS, token=session)
    assert all(a["id"] != victim.account_id for a in listed["viewer"]["accounts"])
    assert victim.tenant.slug not in str(listed)
    into_victim = await gql.data(SWITCH, {"id": victim.account_id}, token=session)
    kind = "Contact" if victim.contact_id else "Customer"
    into_nobody = await gql.data(SWITCH, {"id": encode_id(kind, uuid.uuid4())}, token=session)
    assert into_victim == into_nobody
    assert into_victim["switchPortalAccount"]["userErrors"] == [{"code": "NOT_FOUND"}]


@pytest.fixture
async def business_a(db: Database, gql: GraphQLClient) -> Tenant:
    return await make_tenant(db, gql)


@pytest.fixture
async def business_b(db: Database, gql: GraphQLClient) -> Tenant:
    return await make_tenant(db, gql)


async def signed_in_victim(
    gql: GraphQLClient, db: Database, smtp: SmtpServer, tenant: Tenant, kind: str
) -> tuple[Person, str]:
    victim = await make_person(gql, tenant, kind, address("victim"))
    session = await sign_in_by_invite(gql, db, smtp, tenant, victim.email, **victim.ids)
    return victim, session


@pytest.mark.parametrize("kind", KINDS)
async def test_a_link_sent_before_staff_change_the_address_signs_nobody_in(
    gql, db, smtp, business_a, business_b, kind
):
    victim, victim_session = await signed_in_victim(gql, db, smtp, business_a, kind)
    attacker = await make_person(gql, business_b, kind, address("attacker"))
    await invite(gql, business_b, **attacker.ids)
    await deliver(db, smtp)
    [own_link] = tokens_for(smtp, attacker.email)
    await readdress(gql, attacker, victim.email)

    redeemed = (await gql.data(REDEEM, {"token": own_link}))["redeemMagicLink"]
    assert redeemed == await unknown_redemption(gql)
    assert redeemed["outcome"] == "INVALID" and redeemed["token"] is None
    # The victim's own session and accounts are untouched.
    listed = await gql.data(ACCOUNTS, token=victim_session)
    assert [a["organizationName"] for a in listed["viewer"]["accounts"]] == [
        (await gql.data("{ viewer { organization { name } } }", token=victim_session))["viewer"][
            "organization"
        ]["name"]
    ]


@pytest.mark.parametrize("kind", KINDS)
async def test_staff_changing_the_address_ends_the_session_and_the_invite_goes_to_the_new_one(
    gql, db, smtp, business_a, business_b, kind
):
    victim, _ = await signed_in_victim(gql, db, smtp, business_a, kind)
    attacker = await make_person(gql, business_b, kind, address("attacker"))
    session = await sign_in_by_invite(gql, db, smtp, business_b, attacker.email, **attacker.ids)
    await assert_unreachable(gql, session, victim)

    await readdress(gql, attacker, victim.email)
    assert (await gql.post(WHOAMI, token=session)).status_code == 401
    # A resent invite and a link request go to the new address, never to the attacker.
    before = len(tokens_for(smtp, attacker.email))
    await invite(gql, business_b, **attacker.ids)
    await gql.data(REQUEST_LINK, {"email": victim.email, "org": business_b.slug})
    await deliver(db, smtp)
    assert len(tokens_for(smtp, attacker.email)) == before
    # Pointing the record back at the attacker's address gives a fresh start at B only.
    await readdress(gql, attacker, attacker.email)
    again = await sign_in_by_invite(gql, db, smtp, business_b, attacker.email, **attacker.ids)
    await assert_unreachable(gql, again, victim)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_password_belongs_to_the_address_it_was_set_under(
    gql, db, smtp, business_a, business_b, kind
):
    for tenant in (business_a, business_b):
        await gql.data(SETTINGS, {"input": {"signInMethod": "PASSWORD"}}, token=tenant.owner_token)
    victim, _ = await signed_in_victim(gql, db, smtp, business_a, kind)
    attacker = await make_person(gql, business_b, kind, address("attacker"))
    session = await sign_in_by_invite(gql, db, smtp, business_b, attacker.email, **attacker.ids)
    assert (await gql.data(SET_PASSWORD, {"password": PASSPHRASE}, token=session))[
        "setPortalPassword"
    ]["passwordSet"]
    await readdress(gql, attacker, victim.email)

    async def sign_in(email: str, org: str) -> dict:
        found = await gql.data(
            PASSWORD_SIGN_IN, {"email": email, "password": PASSPHRASE, "org": org}
        )
        return found["portalSignIn"]

    unknown = await sign_in(address("nobody"), business_b.slug)
    assert unknown["userErrors"] == [
        {"field": ["input", "password"], "code": "INVALID_CREDENTIALS"}
    ]
    assert await sign_in(victim.email, business_b.slug) == unknown
    assert await sign_in(victim.email, business_a.slug) == unknown
    # The password died with the address: pointing back does not revive it.
    await readdress(gql, attacker, attacker.email)
    assert await sign_in(attacker.email, business_b.slug) == unknown


@pytest.mark.parametrize("kind", ["customer", "BILLING"])
async def test_a_link_signs_in_only_at_the_address_it_was_sent_to(
    gql, db, smtp, business_a, business_b, kind
):
    """Even if an address changed without revoking the links (a direct database edit), the
    link no longer matches its person and signs nobody in."""
    victim, _ = await signed_in_victim(gql, db, smtp, business_a, kind)
    attacker = await make_person(gql, business_b, kind, address("attacker"))
    await invite(gql, business_b, **attacker.ids)
    await deliver(db, smtp)
    [own_link] = tokens_for(smtp, attacker.email)
    model = Contact if attacker.contact_id else Customer
    async with db.write() as session:
        await session.execute(
            sa.update(model)
            .where(model.email == attacker.email)  # type: ignore[arg-type]
            .values(email=victim.email)
        )
    redeemed = (await gql.data(REDEEM, {"token": own_link}))["redeemMagicLink"]
    assert redeemed == await unknown_redemption(gql)


@pytest.mark.parametrize("kind", KINDS)
async def test_other_businesses_accounts_need_an_invite_at_the_proven_address(
    gql, db, smtp, business_a, business_b, kind
):
    victim, victim_session = await signed_in_victim(gql, db, smtp, business_a, kind)

    async def listed() -> set[str]:
        found = await gql.data(ACCOUNTS, token=victim_session)
        return {a["id"] for a in found["viewer"]["accounts"]}

    # B creates the victim's address but never invites it: nothing at B is reachable.
    record = await make_person(gql, business_b, kind, victim.email)
    assert record.account_id not in await listed()
    # B invites the record at another address, then points it at the victim's.
    await readdress(gql, record, address("attacker"))
    await invite(gql, business_b, **record.ids)
    await readdress(gql, record, victim.email)
    assert record.account_id not in await listed()
    # Only an invite sent to the victim's own address makes B's account one to switch to.
    await invite(gql, business_b, **record.ids)
    assert record.account_id in await listed()


async def test_a_portal_email_change_to_someone_elses_address_needs_their_mailbox(
    gql, db, smtp, business_a, business_b
):
    victim, _ = await signed_in_victim(gql, db, smtp, business_a, "customer")
    attacker = await make_person(gql, business_b, "customer", address("attacker"))
    await gql.data(SETTINGS, {"input": {"allowProfileUpdates": True}}, token=business_b.owner_token)
    session = await sign_in_by_invite(gql, db, smtp, business_b, attacker.email, **attacker.ids)
    before = len(tokens_for(smtp, attacker.email))
    sent = await gql.data(REQUEST_CHANGE, {"email": victim.email}, token=session)
    assert sent["requestEmailChange"]["sent"] is True
    await deliver(db, smtp)
    assert len(tokens_for(smtp, attacker.email)) == before  # the link went to the victim
    await assert_unreachable(gql, session, victim)


async def test_a_preview_shows_the_previewed_account_only(gql, db, smtp, business_a, business_b):
    shared = address("shared")
    at_a = await make_person(gql, business_a, "customer", shared)
    await invite(gql, business_a, **at_a.ids)
    at_b = await make_person(gql, business_b, "BILLING", shared)
    await invite(gql, business_b, **at_b.ids)
    started = await gql.data(
        "mutation P($input: PortalPersonInput!) { startPortalPreview(input: $input) { token } }",
        {"input": at_b.ids},
        token=business_b.staff_token,
    )
    preview = started["startPortalPreview"]["token"]
    listed = await gql.data(ACCOUNTS, token=preview)
    assert [a["id"] for a in listed["viewer"]["accounts"]] == [at_b.account_id]
    refused = await gql(SWITCH, {"id": at_a.account_id}, token=preview)
    assert error_codes(refused) == ["PREVIEW_READ_ONLY"]
