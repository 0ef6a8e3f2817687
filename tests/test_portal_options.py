"""Portal settings and options: OWNER-only settings, sections, passwords, several accounts."""

import sqlalchemy as sa

from auth.sessions import SECTIONS
from core.ids import decode_id
from models.db import Database
from resolvers.portal_access import invite_with_first_bill
from schema.viewer import PortalSection
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.portal import (
    REDEEM,
    WHOAMI,
    deliver,
    invite,
    make_car,
    make_contact,
    make_customer,
    sign_in_by_invite,
    tokens_for,
)
from tests.smtp import SmtpServer

SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) {
    portalSettings { enabled showInvoices signInMethod minimumPartialAmount }
    userErrors { field code }
  }
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
    outcome token userErrors { field code }
  }
}
"""
REQUEST_RESET = """
mutation R($email: String!, $org: String!) {
  requestPasswordReset(input: {email: $email, organization: $org}) { message }
}
"""
RESET = """
mutation R($token: String!, $password: String!) {
  resetPassword(input: {token: $token, password: $password}) { outcome token userErrors { code } }
}
"""
ACCOUNTS = (
    "{ viewer { customer { name } accounts { id organizationName customerName role current } } }"
)
SWITCH = """
mutation S($id: ID!) {
  switchPortalAccount(input: {accountId: $id}) {
    viewer { customer { name } organization { slug } } userErrors { code }
  }
}
"""
AUDIT = "{ auditEvents(first: 50) { nodes { action actorKind ip data } } }"


async def _settings(gql: GraphQLClient, tenant: Tenant, token: str | None = None, **changes):
    return await gql(SETTINGS, {"input": changes}, token=token or tenant.owner_token)


async def test_only_the_owner_changes_portal_settings(gql: GraphQLClient, tenant: Tenant, db):
    refused = await _settings(gql, tenant, tenant.staff_token, showInvoices=False)
    assert error_codes(refused) == ["OWNER_REQUIRED"]
    done = await _settings(gql, tenant, showInvoices=False, minimumPartialAmount=500)
    assert done["data"]["updatePortalSettings"]["portalSettings"] == {
        "enabled": True,
        "showInvoices": False,
        "signInMethod": "MAGIC_LINK",
        "minimumPartialAmount": 500,
    }
    bad = await _settings(gql, tenant, minimumPartialAmount=-1)
    assert bad["data"]["updatePortalSettings"]["userErrors"] == [
        {"field": ["input", "minimumPartialAmount"], "code": "INVALID"}
    ]
    audit = await gql.data(AUDIT, token=tenant.owner_token)
    changed = [n for n in audit["auditEvents"]["nodes"] if n["action"] == "settings.portal_updated"]
    assert len(changed) == 1 and "show_invoices" in changed[0]["data"]["changed"]


async def test_sections_switched_off_are_refused_to_portal_viewers(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    query = "{ viewer { sections customer { invoices { totalCount } } } }"
    before = await gql.data(query, token=session)
    assert "INVOICES" in before["viewer"]["sections"]
    await _settings(gql, tenant, showInvoices=False)
    after = await gql(query, token=session)
    assert error_codes(after) == ["SECTION_DISABLED"]
    sections = await gql.data("{ viewer { sections } }", token=session)
    assert "INVOICES" not in sections["viewer"]["sections"]
    staff = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Customer { invoices { totalCount } } } }",
        {"id": customer_id},
        token=tenant.staff_token,
    )
    assert staff["node"]["invoices"]["totalCount"] == 0  # staff are never refused


DASHBOARD = """
{ viewer { sections customer { name
    cars { nodes { make model } }
    openInvoices { nodes { number } }
    appointments { nodes { title } } } } }
"""


async def test_a_switched_off_section_answers_at_its_own_path_only(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant, "Dash Board")
    await make_car(gql, tenant, customer_id, "Carrera")
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await _settings(gql, tenant, showInvoices=False)
    result = await gql(DASHBOARD, token=session)
    customer = result["data"]["viewer"]["customer"]
    assert customer == {
        "name": "Dash Board",
        "cars": {"nodes": [{"make": "Porsche", "model": "Carrera"}]},
        "openInvoices": None,
        "appointments": {"nodes": []},
    }
    [refused] = result["errors"]
    assert refused["path"] == ["viewer", "customer", "openInvoices"]
    assert refused["extensions"]["code"] == "SECTION_DISABLED"


async def test_sections_follow_the_contacts_scope_as_well_as_the_switches(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, _ = await make_customer(gql, tenant)
    sections = {}
    for scope in ("EVERYTHING", "BILLING", "CARS"):
        contact_id, email = await make_contact(gql, tenant, customer_id, portalScope=scope)
        session = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)
        sections[scope] = session
    await _settings(gql, tenant, showEstimates=False)

    async def listed(scope: str) -> list[str]:
        found = await gql.data("{ viewer { sections } }", token=sections[scope])
        return found["viewer"]["sections"]

    everything = ["APPOINTMENTS", "CARS", "DOCUMENTS", "INVOICES", "MESSAGES", "PROFILE"]
    assert [s for s in await listed("EVERYTHING") if s != "TELEMATICS"] == everything
    assert await listed("BILLING") == ["INVOICES", "PROFILE"]
    assert [s for s in await listed("CARS") if s != "TELEMATICS"] == [
        "APPOINTMENTS",
        "CARS",
        "DOCUMENTS",
        "PROFILE",
    ]


async def test_every_section_a_business_can_show_is_listed(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    # `sections` once answered `data: null` whenever telematics were shown: the enum had
    # no value for that section.
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await _settings(gql, tenant, showTelematics=True)
    sections = await gql.data("{ viewer { sections } }", token=session)
    assert "TELEMATICS" in sections["viewer"]["sections"]
    assert {s.lower() for s in SECTIONS} == {s.value.lower() for s in PortalSection}


async def test_switching_the_portal_off_ends_portal_sessions(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await _settings(gql, tenant, enabled=False)
    assert (await gql.post(WHOAMI, token=session)).status_code == 401
    refused = await invite(gql, tenant, customerId=customer_id)
    assert [e["code"] for e in refused["userErrors"]] == ["PORTAL_DISABLED"]


async def test_password_sign_in_where_the_business_uses_passwords(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    await _settings(gql, tenant, signInMethod="PASSWORD")
    customer_id, email = await make_customer(gql, tenant)
    await invite(gql, tenant, customerId=customer_id)
    await deliver(db, smtp)
    redeemed = (await gql.data(REDEEM, {"token": tokens_for(smtp, email)[-1]}))["redeemMagicLink"]
    assert redeemed["passwordRequired"] is True
    short = await gql.data(SET_PASSWORD, {"password": "short"}, token=redeemed["token"])
    assert short["setPortalPassword"]["userErrors"] == [{"code": "INVALID"}]
    done = await gql.data(SET_PASSWORD, {"password": "a long passphrase"}, token=redeemed["token"])
    assert done["setPortalPassword"]["passwordSet"] is True

    wrong = await gql.data(
        PASSWORD_SIGN_IN, {"email": email, "password": "not it at all", "org": tenant.slug}
    )
    assert wrong["portalSignIn"]["userErrors"] == [
        {"field": ["input", "password"], "code": "INVALID_CREDENTIALS"}
    ]
    unknown = await gql.data(
        PASSWORD_SIGN_IN,
        {"email": "who@nowhere.test", "password": "a long passphrase", "org": tenant.slug},
    )
    assert unknown["portalSignIn"] == wrong["portalSignIn"]
    right = await gql.data(
        PASSWORD_SIGN_IN, {"email": email, "password": "a long passphrase", "org": tenant.slug}
    )
    assert right["portalSignIn"]["outcome"] == "SIGNED_IN"
    session = right["portalSignIn"]["token"]

    await gql.data(REQUEST_RESET, {"email": email, "org": tenant.slug})
    await deliver(db, smtp)
    reset_token = tokens_for(smtp, email)[-1]
    reset = await gql.data(RESET, {"token": reset_token, "password": "another passphrase"})
    assert reset["resetPassword"]["outcome"] == "SIGNED_IN"
    assert (await gql.post(WHOAMI, token=session)).status_code == 401  # other sessions end
    again = await gql.data(RESET, {"token": reset_token, "password": "a third passphrase"})
    assert again["resetPassword"]["outcome"] == "INVALID"
    new = await gql.data(
        PASSWORD_SIGN_IN, {"email": email, "password": "another passphrase", "org": tenant.slug}
    )
    assert new["portalSignIn"]["outcome"] == "SIGNED_IN"


async def test_passwords_are_refused_where_the_business_uses_links(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    refused = await gql.data(SET_PASSWORD, {"password": "a long passphrase"}, token=session)
    assert refused["setPortalPassword"]["userErrors"] == [{"code": "PASSWORDS_OFF"}]


async def test_one_address_several_accounts_signs_in_once_and_switches(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    email = "bookkeeper@shared.test"
    company_id, _ = await make_customer(gql, tenant, "Acme Fleet")
    contact_id, _ = await make_contact(
        gql, tenant, company_id, email=email, role="BOOKKEEPER", name="Bea Keeper"
    )
    own_id, _ = await make_customer(gql, other_tenant, "Bea Keeper", email=email)
    await invite(gql, other_tenant, customerId=own_id)  # access granted there too
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)

    listed = await gql.data(ACCOUNTS, token=session)
    accounts = {a["customerName"]: a for a in listed["viewer"]["accounts"]}
    assert set(accounts) == {"Acme Fleet", "Bea Keeper"}
    assert accounts["Acme Fleet"]["current"] and accounts["Acme Fleet"]["role"] == "BOOKKEEPER"
    assert accounts["Bea Keeper"]["role"] is None

    switched = await gql.data(SWITCH, {"id": accounts["Bea Keeper"]["id"]}, token=session)
    assert switched["switchPortalAccount"]["viewer"] == {
        "customer": {"name": "Bea Keeper"},
        "organization": {"slug": other_tenant.slug},
    }
    now = await gql.data("{ viewer { customer { name } } }", token=session)
    assert now["viewer"]["customer"]["name"] == "Bea Keeper"
    hidden = await gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": company_id}, token=session
    )
    assert error_codes(hidden) == ["NOT_FOUND"]  # each request acts for one account

    stranger_id, _ = await make_customer(gql, other_tenant, "Stranger")
    refused = await gql.data(SWITCH, {"id": stranger_id}, token=session)
    assert refused["switchPortalAccount"]["userErrors"] == [{"code": "NOT_FOUND"}]


async def test_first_bill_brings_a_portal_invite_when_asked(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant)
    _, row_id = decode_id(customer_id)
    async with db.write() as session:
        assert not await invite_with_first_bill(
            session, db.settings, tenant.organization_id, row_id
        )
    await _settings(gql, tenant, autoInviteWithFirstBill=True)
    async with db.write() as session:
        assert await invite_with_first_bill(session, db.settings, tenant.organization_id, row_id)
    async with db.write() as session:  # only the first bill: the customer is invited now
        assert not await invite_with_first_bill(
            session, db.settings, tenant.organization_id, row_id
        )
    await deliver(db, smtp)
    assert len(tokens_for(smtp, email)) == 1


async def test_audit_log_records_access_and_never_tokens(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await gql.data("mutation { signOut { signedOut } }", token=session)
    await gql.data(REDEEM, {"token": tokens_for(smtp, email)[-1]})  # a second, refused use
    audit = await gql.data(AUDIT, token=tenant.staff_token)
    nodes = audit["auditEvents"]["nodes"]
    actions = [n["action"] for n in nodes]
    for action in ("portal.invite", "portal.sign_in", "portal.sign_out", "portal.sign_in_failed"):
        assert action in actions
    assert all(n["ip"] == "127.0.0.1" for n in nodes)
    assert session not in str(nodes) and tokens_for(smtp, email)[-1] not in str(nodes)
    ended = await gql.post(AUDIT, token=session)
    assert ended.status_code == 401 and error_codes(ended.json()) == ["UNAUTHENTICATED"]


async def test_link_page_shows_a_button_and_burns_nothing(gql, http, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    await invite(gql, tenant, customerId=customer_id)
    await deliver(db, smtp)
    token = tokens_for(smtp, email)[-1]
    page = await http.get("/portal/sign-in", params={"token": token})
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert token not in page.text and "redeemMagicLink" in page.text
    signed = await gql.data(REDEEM, {"token": token})  # still unused after the page view
    assert signed["redeemMagicLink"]["outcome"] == "SIGNED_IN"
    async with db.connect() as conn:
        assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1


ORGANIZATION = """
mutation O($input: OrganizationInput!) {
  updateOrganization(input: $input) {
    organization { name brandColor timezone currency logoUrl } userErrors { field code }
  }
}
"""


async def test_owner_sets_branding_with_checked_values(gql: GraphQLClient, tenant: Tenant):
    refused = await gql(ORGANIZATION, {"input": {"name": "Mine"}}, token=tenant.staff_token)
    assert error_codes(refused) == ["OWNER_REQUIRED"]
    bad = await gql.data(
        ORGANIZATION,
        {"input": {"brandColor": "blue", "timezone": "Mars/Olympus", "logoUrl": "http://x"}},
        token=tenant.owner_token,
    )
    assert sorted(e["field"][1] for e in bad["updateOrganization"]["userErrors"]) == [
        "brandColor",
        "logoUrl",
        "timezone",
    ]
    good = await gql.data(
        ORGANIZATION,
        {"input": {"brandColor": "#1F3A5F", "timezone": "America/Chicago", "currency": "eur"}},
        token=tenant.owner_token,
    )
    assert good["updateOrganization"]["organization"]["brandColor"] == "#1f3a5f"
    assert good["updateOrganization"]["organization"]["currency"] == "EUR"


async def test_a_driver_sees_only_the_cars_chosen_for_them(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    from tests.portal import make_car

    customer_id, _ = await make_customer(gql, tenant, "Fleet Co")
    driven = await make_car(gql, tenant, customer_id, "Cayenne")
    await make_car(gql, tenant, customer_id, "Macan")
    other_customer, _ = await make_customer(gql, tenant, "Someone Else")
    theirs = await make_car(gql, tenant, other_customer, "Boxster")
    contact_id, email = await make_contact(
        gql, tenant, customer_id, role="DRIVER", portalScope="CARS"
    )
    update = """
    mutation U($input: UpdateContactInput!) {
      updateContact(input: $input) { contact { cars { model } } userErrors { field code } }
    }
    """
    wrong = await gql.data(
        update, {"input": {"id": contact_id, "carIds": [theirs]}}, token=tenant.staff_token
    )
    assert wrong["updateContact"]["userErrors"] == [
        {"field": ["input", "carIds"], "code": "INVALID"}
    ]
    chosen = await gql.data(
        update, {"input": {"id": contact_id, "carIds": [driven]}}, token=tenant.staff_token
    )
    assert chosen["updateContact"]["contact"]["cars"] == [{"model": "Cayenne"}]
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)
    seen = await gql.data(
        "{ viewer { customer { cars { nodes { model } } invoices { totalCount } } } }",
        token=session,
    )
    assert seen["viewer"]["customer"]["cars"]["nodes"] == [{"model": "Cayenne"}]
    assert seen["viewer"]["customer"]["invoices"]["totalCount"] == 0
