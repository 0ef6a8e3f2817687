"""Staff accounts as the dashboard uses them, over HTTP with variables and global IDs:
invite → email → choose a password → signed in; the staff list; roles; deactivation;
password resets and changes; and the audit trail of it all."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from auth.tokens import token_hash
from models import AuditEvent, StaffToken
from models.db import Database
from models.enums import StaffRole
from tests.helpers import PASSWORD, GraphQLClient, Tenant, error_codes
from tests.smtp import SmtpServer
from tests.staff import (
    CANCEL,
    CHANGE_MINE,
    CHANGE_ROLE,
    DEACTIVATE,
    LIST,
    ME,
    NEW_PASSWORD,
    REACTIVATE,
    REQUEST_RESET,
    RESEND,
    SEND_RESET,
    accept,
    add_staff,
    codes,
    invite,
    link_tokens,
    reset,
    sign_in,
    staff_id_of,
)

audits = AuditEvent.__table__
tokens = StaffToken.__table__


async def _staff_actions(db: Database, tenant: Tenant) -> list[str]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(audits.c.action)
            .where(
                audits.c.organization_id == tenant.organization_id,
                audits.c.action.like("staff.%"),
            )
            .order_by(audits.c.created_at, audits.c.id)
        )
        return list(rows.scalars())


async def test_an_owner_invites_an_admin_who_chooses_a_password_and_signs_in(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    email = f"Robin.{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    sent = await invite(gql, tenant.owner_token, email, role="ADMIN", name="  Robin  Admin ")
    assert sent["userErrors"] == []
    invited = sent["staffUser"]
    assert invited == {
        "id": invited["id"],
        "name": "Robin Admin",
        "email": email.lower(),
        "role": "ADMIN",
        "status": "INVITED",
        "isActive": False,
        "lastSignInAt": None,
    }
    # Invited, not yet able to sign in.
    assert await sign_in(gql, email.lower(), tenant.slug) is None
    pending = await gql.data(LIST, {"status": "INVITED"}, token=tenant.owner_token)
    assert [n["id"] for n in pending["staffUsers"]["nodes"]] == [invited["id"]]

    [token] = await link_tokens(db, smtp, email.lower())
    message = next(m for m in smtp.messages if m["To"] == email.lower())
    subject = message["Subject"]
    assert subject.startswith("You are invited to Tenant ") and subject.endswith(" on Portico")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"http://127.0.0.1:8000/staff/accept-invite?token={token}" in body
    assert "7 days" in body
    async with db.connect() as conn:
        stored = (
            await conn.execute(
                sa.select(tokens.c.token_hash, tokens.c.purpose).where(
                    tokens.c.email == email.lower()
                )
            )
        ).one()
    assert tuple(stored) == (token_hash(token), "INVITE")

    done = await accept(gql, token)
    assert done["userErrors"] == []
    assert done["staffUser"]["status"] == "ACTIVE" and done["staffUser"]["isActive"] is True
    assert done["staffUser"]["lastSignInAt"] is not None
    me = await gql.data(ME, token=done["token"])
    assert me["viewer"] == {
        "kind": "STAFF",
        "staffUser": {"id": invited["id"], "email": email.lower(), "role": "ADMIN"},
    }
    # The password chosen signs in from now on.
    assert await sign_in(gql, email.lower(), tenant.slug, password=NEW_PASSWORD) is not None

    listed = await gql.data(LIST, {}, token=tenant.staff_token)
    by_email = {n["email"]: n for n in listed["staffUsers"]["nodes"]}
    assert by_email[email.lower()]["status"] == "ACTIVE"
    assert by_email[tenant.owner_email]["role"] == "OWNER"
    assert listed["staffUsers"]["totalCount"] == 3
    assert await _staff_actions(db, tenant) == ["staff.invited", "staff.invite_accepted"]


async def test_an_admin_invites_resends_and_cancels(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    _, _, admin = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    email = f"helper-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    staff_id = (await invite(gql, admin, email))["staffUser"]["id"]
    taken = await invite(gql, admin, email)
    assert [(e["field"], e["code"]) for e in taken["userErrors"]] == [
        (["input", "email"], "EMAIL_TAKEN")
    ]
    bad = await invite(gql, admin, "not an address", name="")
    assert sorted(codes(bad)) == ["INVALID", "REQUIRED"]

    resent = await gql.data(RESEND, {"input": {"staffUserId": staff_id}}, token=admin)
    assert resent["resendStaffInvite"]["staffUser"]["status"] == "INVITED"
    assert len(await link_tokens(db, smtp, email)) == 2

    cancelled = await gql.data(CANCEL, {"input": {"staffUserId": staff_id}}, token=admin)
    assert cancelled["cancelStaffInvite"] == {"cancelledStaffUserId": staff_id, "userErrors": []}
    listed = await gql.data(LIST, {"status": "INVITED"}, token=admin)
    assert listed["staffUsers"]["nodes"] == []
    # The address may be invited again.
    again = await invite(gql, admin, email)
    assert again["userErrors"] == [] and again["staffUser"]["id"] != staff_id
    # An accepted invite is not cancelled: the account is deactivated instead.
    owner = await staff_id_of(db, tenant, tenant.owner_email)
    refused = await gql.data(CANCEL, {"input": {"staffUserId": owner}}, token=tenant.owner_token)
    assert codes(refused["cancelStaffInvite"]) == ["NOT_INVITED"]
    assert await _staff_actions(db, tenant) == [
        "staff.invited",
        "staff.invite_resent",
        "staff.invite_cancelled",
        "staff.invited",
    ]


async def test_a_new_role_holds_from_the_next_request(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    staff = await staff_id_of(db, tenant, tenant.staff_email)
    email = f"later-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    variables = {"input": {"email": email, "name": "Later", "role": "STAFF"}}
    inviting = (
        "mutation I($input: InviteStaffInput!) { inviteStaff(input: $input) { staffUser { id } } }"
    )
    assert error_codes(await gql(inviting, variables, token=tenant.staff_token)) == ["FORBIDDEN"]

    variables = {"input": {"staffUserId": staff, "role": "ADMIN"}}
    changed = await gql.data(CHANGE_ROLE, variables, token=tenant.owner_token)
    assert changed["changeStaffRole"]["staffUser"]["role"] == "ADMIN"
    me = await gql.data(ME, token=tenant.staff_token)  # the same session, the new role
    assert me["viewer"]["staffUser"]["role"] == "ADMIN"
    invited = await gql.data(
        inviting,
        {"input": {"email": email, "name": "Later", "role": "STAFF"}},
        token=tenant.staff_token,
    )
    assert invited["inviteStaff"]["staffUser"]["id"]

    # An owner makes another owner; the two may then demote each other, one at a time.
    variables = {"input": {"staffUserId": staff, "role": "OWNER"}}
    made = await gql.data(CHANGE_ROLE, variables, token=tenant.owner_token)
    assert made["changeStaffRole"]["staffUser"]["role"] == "OWNER"
    owner = await staff_id_of(db, tenant, tenant.owner_email)
    variables = {"input": {"staffUserId": owner, "role": "STAFF"}}
    demoted = await gql.data(CHANGE_ROLE, variables, token=tenant.staff_token)
    assert demoted["changeStaffRole"]["staffUser"]["role"] == "STAFF"
    events = await _staff_actions(db, tenant)
    assert events.count("staff.role_changed") == 3
    async with db.connect() as conn:
        last = (
            await conn.execute(
                sa.select(audits.c.data)
                .where(
                    audits.c.organization_id == tenant.organization_id,
                    audits.c.action == "staff.role_changed",
                )
                .order_by(audits.c.created_at.desc(), audits.c.id.desc())
                .limit(1)
            )
        ).scalar_one()
    assert last["before"] == "OWNER" and last["after"] == "STAFF"
    assert last["staff_user_id"] == owner


async def test_deactivate_and_reactivate(gql: GraphQLClient, db: Database, tenant: Tenant):
    staff = await staff_id_of(db, tenant, tenant.staff_email)
    off = await gql.data(DEACTIVATE, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    assert off["deactivateStaff"] == {
        "staffUser": {
            "id": staff,
            "name": off["deactivateStaff"]["staffUser"]["name"],
            "email": tenant.staff_email,
            "role": "STAFF",
            "status": "DEACTIVATED",
            "isActive": False,
            "lastSignInAt": off["deactivateStaff"]["staffUser"]["lastSignInAt"],
        },
        "userErrors": [],
    }
    assert (await gql.post(ME, token=tenant.staff_token)).status_code == 401
    twice = await gql.data(DEACTIVATE, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    assert codes(twice["deactivateStaff"]) == ["NOT_ACTIVE"]
    listed = await gql.data(LIST, {"status": "DEACTIVATED"}, token=tenant.owner_token)
    assert [n["id"] for n in listed["staffUsers"]["nodes"]] == [staff]

    on = await gql.data(REACTIVATE, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    assert on["reactivateStaff"]["staffUser"]["status"] == "ACTIVE"
    again = await gql.data(REACTIVATE, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    assert codes(again["reactivateStaff"]) == ["NOT_DEACTIVATED"]
    token = await sign_in(gql, tenant.staff_email)
    assert (await gql.data(ME, token=token))["viewer"]["staffUser"]["id"] == staff
    assert await _staff_actions(db, tenant) == ["staff.deactivated", "staff.reactivated"]


async def test_a_forgotten_password_is_reset_by_email(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    other_session = await sign_in(gql, tenant.staff_email)
    variables = {"input": {"email": tenant.staff_email.upper(), "organization": tenant.slug}}
    answer = await gql.data(REQUEST_RESET, variables)
    assert answer["requestStaffPasswordReset"] == {
        "message": "If that address belongs to an active staff account, an email is on its way.",
        "userErrors": [],
    }
    [token] = await link_tokens(db, smtp, tenant.staff_email)
    message = [m for m in smtp.messages if m["To"] == tenant.staff_email][-1]
    assert message["Subject"].startswith("Reset your Tenant")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/staff/reset-password?token={token}" in body and "30 minutes" in body
    # Asking alone changes nothing: the current password still works.
    assert await sign_in(gql, tenant.staff_email) is not None

    done = await reset(gql, token)
    assert done["userErrors"] == [] and done["staffUser"]["email"] == tenant.staff_email
    for old in (tenant.staff_token, other_session):  # every earlier session ended
        assert (await gql.post(ME, token=old)).status_code == 401
    assert (await gql.data(ME, token=done["token"]))["viewer"]["kind"] == "STAFF"
    assert await sign_in(gql, tenant.staff_email) is None
    assert await sign_in(gql, tenant.staff_email, password=NEW_PASSWORD) is not None
    assert await _staff_actions(db, tenant) == [
        "staff.password_reset_requested",
        "staff.password_changed",
    ]


async def test_an_admin_sends_a_reset_link(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    staff = await staff_id_of(db, tenant, tenant.staff_email)
    sent = await gql.data(SEND_RESET, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    assert sent["sendStaffPasswordReset"]["userErrors"] == []
    [token] = await link_tokens(db, smtp, tenant.staff_email)
    assert (await reset(gql, token))["userErrors"] == []
    assert await _staff_actions(db, tenant) == [
        "staff.password_reset_sent",
        "staff.password_changed",
    ]


async def test_changing_ones_own_password_ends_the_other_sessions(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    other_session = await sign_in(gql, tenant.staff_email)
    wrong = {"input": {"currentPassword": "not my password", "newPassword": NEW_PASSWORD}}
    refused = await gql.data(CHANGE_MINE, wrong, token=tenant.staff_token)
    assert [(e["field"], e["code"]) for e in refused["changeMyPassword"]["userErrors"]] == [
        (["input", "currentPassword"], "WRONG_PASSWORD")
    ]
    short = {"input": {"currentPassword": PASSWORD, "newPassword": "short"}}
    refused = await gql.data(CHANGE_MINE, short, token=tenant.staff_token)
    assert [(e["field"], e["code"]) for e in refused["changeMyPassword"]["userErrors"]] == [
        (["input", "newPassword"], "INVALID")
    ]
    assert (await gql.post(ME, token=other_session)).status_code == 200

    right = {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}
    changed = await gql.data(CHANGE_MINE, right, token=tenant.staff_token)
    assert changed["changeMyPassword"]["userErrors"] == []
    assert (await gql.post(ME, token=tenant.staff_token)).status_code == 200  # this one stays
    assert (await gql.post(ME, token=other_session)).status_code == 401
    assert await sign_in(gql, tenant.staff_email) is None
    assert await sign_in(gql, tenant.staff_email, password=NEW_PASSWORD) is not None
    assert await _staff_actions(db, tenant) == ["staff.password_changed"]
    anonymous = await gql(CHANGE_MINE, right)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_the_staff_list_pages_by_name(gql: GraphQLClient, db: Database, tenant: Tenant):
    for _ in range(3):
        await add_staff(db, gql, tenant, StaffRole.STAFF)
    first = await gql.data(LIST, {"first": 2}, token=tenant.staff_token)
    page = first["staffUsers"]
    assert page["totalCount"] == 5 and page["pageInfo"]["hasNextPage"] is True
    rest = await gql.data(
        LIST, {"first": 10, "after": page["pageInfo"]["endCursor"]}, token=tenant.staff_token
    )
    names = [n["name"] for n in page["nodes"] + rest["staffUsers"]["nodes"]]
    assert len(names) == 5 and names == sorted(names)


async def test_portico_serves_the_staff_link_pages_without_burning_the_token(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    email = f"page-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    await invite(gql, tenant.owner_token, email)
    [token] = await link_tokens(db, smtp, email)
    for path, mutation in (
        ("/staff/accept-invite", "acceptStaffInvite"),
        ("/staff/reset-password", "resetStaffPassword"),
    ):
        page = await gql.http.get(f"{path}?token={token}")
        assert page.status_code == 200
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
        assert mutation in page.text and token not in page.text
    assert (await accept(gql, token))["userErrors"] == []  # opening the page used nothing


async def test_an_invite_without_an_email_is_a_required_error_and_invites_no_one(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    for blank in ("", "   "):
        payload = await invite(gql, tenant.owner_token, blank)
        assert payload["staffUser"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "email"], "REQUIRED")
        ]
    assert "staff.invited" not in await _staff_actions(db, tenant)
