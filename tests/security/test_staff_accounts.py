"""Staff accounts cannot be turned against anyone: another organization's staff answer like
missing ones, STAFF manage nobody, ADMINs never make or unmake an OWNER, the last OWNER
stays, deactivation ends sessions at once, and invite and reset links work once, for their
person and purpose, until they expire or a newer one replaces them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.ids import encode_id
from models import AuditEvent, AuthSession, OutboxEmail, StaffToken, StaffUser
from models.db import Database
from models.enums import StaffRole
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.smtp import SmtpServer
from tests.staff import (
    CANCEL,
    CHANGE_MINE,
    CHANGE_ROLE,
    DEACTIVATE,
    INVITE,
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

staff_table = StaffUser.__table__
tokens_table = StaffToken.__table__
sessions_table = AuthSession.__table__


def _by_id(mutation: str, staff_id: str) -> tuple[str, dict[str, Any]]:
    """One management mutation naming `staff_id`, with its variables."""
    if mutation == CHANGE_ROLE:
        return mutation, {"input": {"staffUserId": staff_id, "role": "ADMIN"}}
    return mutation, {"input": {"staffUserId": staff_id}}


BY_ID = [RESEND, CANCEL, CHANGE_ROLE, DEACTIVATE, REACTIVATE, SEND_RESET]


async def _staff_state(db: Database, organization_id: uuid.UUID) -> list[tuple[Any, ...]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(
                staff_table.c.email,
                staff_table.c.role,
                staff_table.c.status,
                staff_table.c.password_hash,
            )
            .where(staff_table.c.organization_id == organization_id)
            .order_by(staff_table.c.email)
        )
        return [tuple(r) for r in rows]


async def _outbox_to(db: Database, address: str) -> int:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(sa.func.count())
            .select_from(OutboxEmail.__table__)
            .where(OutboxEmail.__table__.c.to_address == address)
        )
        return int(found.scalar_one())


def _without_errors(result: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in result, result["errors"]
    [payload] = result["data"].values()
    return payload


async def test_another_organizations_staff_answer_like_missing_ones(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    _, _, admin_token = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    theirs = await staff_id_of(db, other_tenant, other_tenant.staff_email)
    their_owner = await staff_id_of(db, other_tenant, other_tenant.owner_email)
    invited = await invite(gql, other_tenant.owner_token, f"new@{other_tenant.slug}.test")
    their_invite = invited["staffUser"]["id"]
    missing = encode_id("StaffUser", uuid.uuid4())
    before = await _staff_state(db, other_tenant.organization_id)

    for token in (admin_token, tenant.owner_token):
        for mutation in BY_ID:
            query, variables = _by_id(mutation, missing)
            expected = _without_errors(await gql(query, variables, token=token))
            assert [(e["field"], e["code"]) for e in expected["userErrors"]] == [
                (["input", "staffUserId"], "NOT_FOUND")
            ]
            for target in (theirs, their_owner, their_invite):
                query, variables = _by_id(mutation, target)
                answer = _without_errors(await gql(query, variables, token=token))
                assert answer == expected, (mutation[:30], answer)
        # Reading them by ID answers like a missing ID too.
        for target in (theirs, their_invite):
            node = await gql("query N($id: ID!) { node(id: $id) { id } }", {"id": target}, token)
            missing_node = await gql(
                "query N($id: ID!) { node(id: $id) { id } }", {"id": missing}, token
            )
            assert node == missing_node
        # The list holds their own organization only.
        listed = (await gql.data(LIST, {"first": 100}, token=token))["staffUsers"]
        assert tenant.owner_email in {n["email"] for n in listed["nodes"]}
        assert not {n["id"] for n in listed["nodes"]} & {theirs, their_owner, their_invite}
        # Inviting always invites into the inviter's organization, whatever the address.
        mine = await invite(gql, token, f"x{uuid.uuid4().hex[:6]}@{other_tenant.slug}.test")
        assert mine["userErrors"] == []

    assert await _staff_state(db, other_tenant.organization_id) == before
    # Their staff still work: no session of theirs ended.
    assert (await gql.data(ME, token=other_tenant.staff_token))["viewer"]["kind"] == "STAFF"
    # The invite's link still works only for their person.
    tokens = await link_tokens(db, smtp, f"new@{other_tenant.slug}.test")
    accepted = await accept(gql, tokens[-1])
    assert accepted["userErrors"] == [] and accepted["staffUser"]["id"] == their_invite


async def test_staff_role_and_outsiders_manage_nobody(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    target = await staff_id_of(db, tenant, tenant.owner_email)
    invited = await invite(gql, tenant.owner_token, f"pending@{tenant.slug}.test")
    before = await _staff_state(db, tenant.organization_id)
    attempts = [
        (INVITE, {"input": {"email": f"z@{tenant.slug}.test", "name": "Z", "role": "STAFF"}}),
        *(_by_id(m, target) for m in BY_ID),
        *(_by_id(m, invited["staffUser"]["id"]) for m in (RESEND, CANCEL, CHANGE_ROLE)),
    ]
    for query, variables in attempts:
        refused = await gql(query, variables, token=tenant.staff_token)
        assert error_codes(refused) == ["FORBIDDEN"], (query[:30], refused)
        assert refused["data"] is None
        anonymous = await gql(query, variables)
        assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    # STAFF still read the list (staff-only), the portal does not.
    listed = await gql.data(LIST, {}, token=tenant.staff_token)
    assert listed["staffUsers"]["totalCount"] == 3
    assert error_codes(await gql(LIST, {})) == ["UNAUTHENTICATED"]
    assert await _staff_state(db, tenant.organization_id) == before
    assert await _outbox_to(db, f"z@{tenant.slug}.test") == 0


async def test_an_admin_never_makes_or_unmakes_an_owner(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    admin_id, _, admin_token = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    owner = await staff_id_of(db, tenant, tenant.owner_email)
    staff = await staff_id_of(db, tenant, tenant.staff_email)
    before = await _staff_state(db, tenant.organization_id)

    made = await invite(gql, admin_token, f"boss@{tenant.slug}.test", role="OWNER")
    assert [(e["field"], e["code"]) for e in made["userErrors"]] == [
        (["input", "role"], "OWNER_REQUIRED")
    ]
    for who, role in ((staff, "OWNER"), (admin_id, "OWNER"), (owner, "ADMIN"), (owner, "STAFF")):
        variables = {"input": {"staffUserId": who, "role": role}}
        changed = (await gql.data(CHANGE_ROLE, variables, token=admin_token))["changeStaffRole"]
        assert codes(changed) == ["OWNER_REQUIRED"], (who, role)
    off = await gql.data(DEACTIVATE, {"input": {"staffUserId": owner}}, token=admin_token)
    assert codes(off["deactivateStaff"]) == ["OWNER_REQUIRED"]
    assert await _staff_state(db, tenant.organization_id) == before
    assert await _outbox_to(db, f"boss@{tenant.slug}.test") == 0
    # An ADMIN does manage STAFF and ADMINs.
    variables = {"input": {"staffUserId": staff, "role": "ADMIN"}}
    promoted = (await gql.data(CHANGE_ROLE, variables, token=admin_token))["changeStaffRole"]
    assert promoted["userErrors"] == [] and promoted["staffUser"]["role"] == "ADMIN"


async def test_the_last_owner_is_never_demoted_or_deactivated(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    owner = await staff_id_of(db, tenant, tenant.owner_email)
    for role in ("ADMIN", "STAFF"):
        variables = {"input": {"staffUserId": owner, "role": role}}
        changed = await gql.data(CHANGE_ROLE, variables, token=tenant.owner_token)
        assert [(e["field"], e["code"]) for e in changed["changeStaffRole"]["userErrors"]] == [
            (["input", "role"], "LAST_OWNER")
        ]
    off = await gql.data(DEACTIVATE, {"input": {"staffUserId": owner}}, token=tenant.owner_token)
    assert codes(off["deactivateStaff"]) == ["LAST_OWNER"]
    assert (await gql.data(ME, token=tenant.owner_token))["viewer"]["staffUser"]["role"] == "OWNER"

    # With a second active owner, one may step down; then the other is the last.
    second, _, second_token = await add_staff(db, gql, tenant, StaffRole.OWNER)
    variables = {"input": {"staffUserId": owner, "role": "ADMIN"}}
    stepped = await gql.data(CHANGE_ROLE, variables, token=tenant.owner_token)
    assert stepped["changeStaffRole"]["staffUser"]["role"] == "ADMIN"
    variables = {"input": {"staffUserId": second, "role": "STAFF"}}
    kept = await gql.data(CHANGE_ROLE, variables, token=second_token)
    assert codes(kept["changeStaffRole"]) == ["LAST_OWNER"]
    kept = await gql.data(DEACTIVATE, {"input": {"staffUserId": second}}, token=second_token)
    assert codes(kept["deactivateStaff"]) == ["LAST_OWNER"]
    # The former owner, now an ADMIN, cannot take the role back.
    variables = {"input": {"staffUserId": owner, "role": "OWNER"}}
    back = await gql.data(CHANGE_ROLE, variables, token=tenant.owner_token)
    assert codes(back["changeStaffRole"]) == ["OWNER_REQUIRED"]
    # A deactivated owner does not count as one.
    async with db.write() as session:
        await session.execute(
            sa.update(staff_table)
            .where(staff_table.c.email == tenant.owner_email)
            .values(role=StaffRole.OWNER, status="DEACTIVATED", is_active=False)
        )
    kept = await gql.data(DEACTIVATE, {"input": {"staffUserId": second}}, token=second_token)
    assert codes(kept["deactivateStaff"]) == ["LAST_OWNER"]


async def test_a_deactivated_person_is_out_at_once(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    staff = await staff_id_of(db, tenant, tenant.staff_email)
    second_session = await sign_in(gql, tenant.staff_email)
    assert second_session is not None
    # A reset link sent before the deactivation dies with it.
    await gql.data(SEND_RESET, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    [reset_token] = await link_tokens(db, smtp, tenant.staff_email)

    off = await gql.data(DEACTIVATE, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    assert off["deactivateStaff"]["staffUser"]["status"] == "DEACTIVATED"
    for token in (tenant.staff_token, second_session):
        response = await gql.post(ME, token=token)
        assert response.status_code == 401
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    async with db.connect() as conn:
        left = await conn.execute(
            sa.select(sa.func.count())
            .select_from(sessions_table)
            .where(
                sessions_table.c.staff_user_id
                == sa.select(staff_table.c.id)
                .where(staff_table.c.email == tenant.staff_email)
                .scalar_subquery()
            )
        )
        assert left.scalar_one() == 0
    signed = await gql.data(
        "mutation S($input: SignInInput!) { signIn(input: $input) { token userErrors { code } } }",
        {"input": {"email": tenant.staff_email, "password": "correct horse battery staple"}},
    )
    assert signed["signIn"] == {"token": None, "userErrors": [{"code": "INVALID_CREDENTIALS"}]}
    assert codes(await reset(gql, reset_token)) == ["LINK_INVALID"]
    # A reset cannot be asked for the deactivated address either (answered alike).
    before = await _outbox_to(db, tenant.staff_email)
    variables = {"input": {"email": tenant.staff_email, "organization": tenant.slug}}
    await gql.data(REQUEST_RESET, variables)
    assert await _outbox_to(db, tenant.staff_email) == before
    # History stays: the row and its audit trail.
    async with db.connect() as conn:
        actions = (
            await conn.execute(
                sa.select(AuditEvent.__table__.c.action).where(
                    AuditEvent.__table__.c.organization_id == tenant.organization_id,
                    AuditEvent.__table__.c.action.like("staff.%"),
                )
            )
        ).scalars()
        assert {"staff.password_reset_sent", "staff.deactivated"} <= set(actions)

    on = await gql.data(REACTIVATE, {"input": {"staffUserId": staff}}, token=tenant.owner_token)
    assert on["reactivateStaff"]["staffUser"]["status"] == "ACTIVE"
    assert await sign_in(gql, tenant.staff_email) is not None
    # The old tokens stay dead.
    assert (await gql.post(ME, token=tenant.staff_token)).status_code == 401


async def test_an_invite_link_works_once_for_its_person_until_replaced_or_expired(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    email = f"invitee-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    invited = await invite(gql, tenant.owner_token, email, role="ADMIN")
    staff_id = invited["staffUser"]["id"]
    [first] = await link_tokens(db, smtp, email)
    resent = await gql.data(RESEND, {"input": {"staffUserId": staff_id}}, token=tenant.owner_token)
    assert resent["resendStaffInvite"]["userErrors"] == []
    first_again, second = await link_tokens(db, smtp, email)
    assert first_again == first and second != first

    assert codes(await accept(gql, first)) == ["LINK_INVALID"]  # replaced by the resend
    assert codes(await reset(gql, second)) == ["LINK_INVALID"]  # another purpose
    async with db.connect() as conn:  # only its hash is stored
        hashes = set((await conn.execute(sa.select(tokens_table.c.token_hash))).scalars().all())
    assert second not in hashes and first not in hashes
    # Too short a password uses nothing up.
    short = await accept(gql, second, password="short")
    assert [(e["field"], e["code"]) for e in short["userErrors"]] == [
        (["input", "password"], "INVALID")
    ]
    done = await accept(gql, second)
    assert done["userErrors"] == [] and done["staffUser"]["id"] == staff_id
    assert done["staffUser"]["role"] == "ADMIN"
    assert codes(await accept(gql, second)) == ["LINK_INVALID"]  # used
    # Accepted: there is nothing to resend or cancel.
    again = await gql.data(RESEND, {"input": {"staffUserId": staff_id}}, token=tenant.owner_token)
    assert codes(again["resendStaffInvite"]) == ["NOT_INVITED"]

    # Expiry.
    late = f"late-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    await invite(gql, tenant.owner_token, late)
    [expiring] = await link_tokens(db, smtp, late)
    async with db.write() as session:
        await session.execute(
            sa.update(tokens_table)
            .where(tokens_table.c.email == late)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await accept(gql, expiring)
    assert [(e["field"], e["code"]) for e in expired["userErrors"]] == [
        (["input", "token"], "LINK_EXPIRED")
    ]
    # A cancelled invite's link is dead, and the account is gone.
    gone = f"gone-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    cancelled_id = (await invite(gql, tenant.owner_token, gone))["staffUser"]["id"]
    [cancelled] = await link_tokens(db, smtp, gone)
    await gql.data(CANCEL, {"input": {"staffUserId": cancelled_id}}, token=tenant.owner_token)
    assert codes(await accept(gql, cancelled)) == ["LINK_INVALID"]
    assert await sign_in(gql, gone, password=NEW_PASSWORD) is None
    # Made-up tokens.
    for token in ("", "x" * 43, first + "x"):
        assert codes(await accept(gql, token)) == ["LINK_INVALID"]


async def test_a_reset_link_works_once_for_its_person_and_organization(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    # One address with staff accounts in two organizations.
    email = f"shared-{uuid.uuid4().hex[:6]}@example.test"
    await add_staff(db, gql, tenant, StaffRole.STAFF, email=email)
    _, _, other_token = await add_staff(db, gql, other_tenant, StaffRole.STAFF, email=email)

    variables = {"input": {"email": email, "organization": tenant.slug}}
    await gql.data(REQUEST_RESET, variables)
    [first] = await link_tokens(db, smtp, email)  # one link: only the named organization
    await gql.data(REQUEST_RESET, variables)
    first_again, second = await link_tokens(db, smtp, email)
    assert first_again == first
    assert codes(await reset(gql, first)) == ["LINK_INVALID"]  # replaced
    assert codes(await accept(gql, second)) == ["LINK_INVALID"]  # another purpose
    done = await reset(gql, second)
    assert done["userErrors"] == []
    assert done["staffUser"]["id"] == await staff_id_of(db, tenant, email)
    assert codes(await reset(gql, second)) == ["LINK_INVALID"]  # used
    # The other organization's account keeps its password and its session.
    assert await sign_in(gql, email, tenant.slug, password=NEW_PASSWORD) is not None
    assert await sign_in(gql, email, other_tenant.slug) is not None
    assert await sign_in(gql, email, other_tenant.slug, password=NEW_PASSWORD) is None
    assert (await gql.data(ME, token=other_token))["viewer"]["kind"] == "STAFF"

    # Expiry.
    await gql.data(REQUEST_RESET, variables)
    *_, expiring = await link_tokens(db, smtp, email)
    async with db.write() as session:
        await session.execute(
            sa.update(tokens_table)
            .where(tokens_table.c.email == email, tokens_table.c.used_at.is_(None))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert codes(await reset(gql, expiring)) == ["LINK_EXPIRED"]


async def test_a_reset_request_answers_alike_for_unknown_addresses(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    unknown = f"nobody-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    invited = f"invited-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    await invite(gql, tenant.owner_token, invited)
    answers = []
    for email, organization in (
        (tenant.staff_email, tenant.slug),
        (unknown, tenant.slug),
        (tenant.staff_email, "no-such-organization"),
        (invited, tenant.slug),  # an invite not yet accepted: the invite is the way in
        (tenant.staff_email, None),
        (unknown, None),
    ):
        variables = {"input": {"email": email, "organization": organization}}
        response = await gql.post(REQUEST_RESET, variables)
        answers.append((response.status_code, response.json()))
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0][1]["data"]["requestStaffPasswordReset"]["userErrors"] == []
    assert await _outbox_to(db, unknown) == 0
    assert len(await link_tokens(db, smtp, tenant.staff_email)) == 2
    assert len(await link_tokens(db, smtp, invited)) == 1  # the invite alone


async def test_an_invite_token_cannot_sign_in_a_signed_in_viewer_elsewhere(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    """Redeeming a link acts for the link's person from then on, whoever sent it."""
    email = f"switch-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    await invite(gql, tenant.owner_token, email)
    [token] = await link_tokens(db, smtp, email)
    query = (
        "mutation A($input: StaffLinkPasswordInput!) { acceptStaffInvite(input: $input) "
        "{ staffUser { email } userErrors { code } } }"
    )
    variables = {"input": {"token": token, "password": NEW_PASSWORD}}
    data = await gql.data(query, variables, token=other_tenant.owner_token)
    assert data["acceptStaffInvite"] == {"staffUser": {"email": email}, "userErrors": []}
    # The other organization's owner is untouched and still theirs.
    me = await gql.data(ME, token=other_tenant.owner_token)
    assert me["viewer"]["staffUser"]["email"] == other_tenant.owner_email


async def test_two_owners_deactivating_each_other_at_once_leave_one(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    first = await staff_id_of(db, tenant, tenant.owner_email)
    second, _, second_token = await add_staff(db, gql, tenant, StaffRole.OWNER)
    responses = await asyncio.gather(
        gql.post(DEACTIVATE, {"input": {"staffUserId": second}}, token=tenant.owner_token),
        gql.post(DEACTIVATE, {"input": {"staffUserId": first}}, token=second_token),
    )
    done, refused = [], []
    for response in responses:
        if response.status_code == 401:  # its session had already ended
            refused.append("UNAUTHENTICATED")
            continue
        payload = _without_errors(response.json())
        if payload["userErrors"]:
            refused += codes(payload)
        else:
            done.append(payload["staffUser"]["id"])
    assert len(done) == 1 and refused in (["LAST_OWNER"], ["UNAUTHENTICATED"]), (done, refused)
    state = await _staff_state(db, tenant.organization_id)
    assert [r for r in state if r[1] == StaffRole.OWNER and r[2] == "ACTIVE"] != []


async def test_one_address_invited_twice_at_once_is_invited_once(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    email = f"twice-{uuid.uuid4().hex[:6]}@{tenant.slug}.test"
    variables = {"input": {"email": email, "name": "Twice", "role": "STAFF"}}
    answers = await asyncio.gather(
        *(gql(INVITE, variables, token=tenant.owner_token) for _ in range(2))
    )
    payloads = [_without_errors(a) for a in answers]
    assert sorted(tuple(codes(p)) for p in payloads) == [(), ("EMAIL_TAKEN",)]
    assert await _outbox_to(db, email) == 1


async def test_guessing_the_current_password_slows_down(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    wrong = {"input": {"currentPassword": "guess", "newPassword": NEW_PASSWORD}}
    for _ in range(5):
        answer = await gql.data(CHANGE_MINE, wrong, token=tenant.staff_token)
        assert codes(answer["changeMyPassword"]) == ["WRONG_PASSWORD"]
    limited = await gql(CHANGE_MINE, wrong, token=tenant.staff_token)
    assert error_codes(limited) == ["RATE_LIMITED"]
    # Another person's attempts are theirs alone.
    answer = await gql.data(CHANGE_MINE, wrong, token=tenant.owner_token)
    assert codes(answer["changeMyPassword"]) == ["WRONG_PASSWORD"]
