"""Invite → email → redeem → viewer, and every way a link must fail."""

import asyncio

import pytest
import sqlalchemy as sa

from auth.tokens import token_hash
from mail.worker import MailServerUnavailable
from models import AuditEvent, AuthSession, MagicLink, OutboxEmail
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.portal import (
    REDEEM,
    RESTORE,
    REVOKE,
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

links = MagicLink.__table__
sessions = AuthSession.__table__
audits = AuditEvent.__table__
outbox = OutboxEmail.__table__
PREVIEW = """
query P($customerId: ID, $contactId: ID) {
  portalInvitePreview(customerId: $customerId, contactId: $contactId) {
    name email hasCars paymentsEnabled lastInvitedAt portalStatus canSend problems { code }
  }
}
"""
RESEND = "mutation R($token: String!) { resendMagicLink(input: {token: $token}) { message } }"
REQUEST = """
mutation R($email: String!, $org: String!) {
  requestPortalLink(input: {email: $email, organization: $org}) { message userErrors { code } }
}
"""


async def _audit_actions(db: Database, tenant: Tenant) -> list[str]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(audits.c.action)
            .where(audits.c.organization_id == tenant.organization_id)
            .order_by(audits.c.created_at)
        )
        return list(rows.scalars())


async def test_customer_invite_email_redeem_and_viewer(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant, "Alex Morgan")
    await make_car(gql, tenant, customer_id, "911")
    preview = await gql.data(PREVIEW, {"customerId": customer_id}, token=tenant.staff_token)
    assert preview["portalInvitePreview"] == {
        "name": "Alex Morgan",
        "email": email,
        "hasCars": True,
        "paymentsEnabled": False,
        "lastInvitedAt": None,
        "portalStatus": "NOT_INVITED",
        "canSend": True,
        "problems": [],
    }
    sent = await invite(gql, tenant, customerId=customer_id)
    assert sent["customer"]["portalStatus"] == "INVITED"
    assert sent["customer"]["portalInvitedAt"] is not None

    async with db.connect() as conn:  # the link's clock starts when the email leaves
        before = (
            await conn.execute(
                sa.select(links.c.expires_at, links.c.sent_at).where(links.c.email == email)
            )
        ).one()
    assert before == (None, None)
    await deliver(db, smtp)
    message = next(m for m in smtp.messages if m["To"] == email)
    assert message["To"] == email
    assert message["Subject"].startswith("Your customer portal at Tenant")
    token = tokens_for(smtp, email)[-1]
    assert len(token) >= 43  # 256 bits, URL-safe base64

    result = await gql.data(REDEEM, {"token": token})
    signed_in = result["redeemMagicLink"]
    assert signed_in["outcome"] == "SIGNED_IN"
    assert signed_in["viewer"] == {
        "kind": "PORTAL",
        "customer": {"id": customer_id, "name": "Alex Morgan"},
        "contact": None,
    }
    me = await gql.data(WHOAMI, token=signed_in["token"])
    assert me["viewer"]["customer"]["id"] == customer_id

    async with db.connect() as conn:
        stored = (
            await conn.execute(sa.select(links.c.token_hash).where(links.c.email == email))
        ).scalar_one()
    assert stored == token_hash(token) and token not in stored
    actions = await _audit_actions(db, tenant)
    assert actions[-2:] == ["portal.invite", "portal.sign_in"]


async def test_contact_signs_in_on_their_own(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, _ = await make_customer(gql, tenant, "Morgan Family")
    contact_id, email = await make_contact(gql, tenant, customer_id, name="Robin Morgan")
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)
    me = await gql.data(WHOAMI, token=session)
    assert me["viewer"] == {
        "kind": "PORTAL",
        "customer": {"id": customer_id, "name": "Morgan Family"},
        "contact": {"id": contact_id, "name": "Robin Morgan"},
    }


async def test_contact_without_email_or_access_gets_user_errors(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    no_email, _ = await make_contact(gql, tenant, customer_id, email=None)
    no_access, _ = await make_contact(gql, tenant, customer_id, canAccessPortal=False)
    first = await invite(gql, tenant, contactId=no_email)
    second = await invite(gql, tenant, contactId=no_access)
    assert [e["code"] for e in first["userErrors"]] == ["EMAIL_MISSING"]
    assert [e["code"] for e in second["userErrors"]] == ["PORTAL_ACCESS_OFF"]
    assert first["contact"] is None and second["contact"] is None


async def test_a_link_works_once(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    await invite(gql, tenant, customerId=customer_id)
    await deliver(db, smtp)
    token = tokens_for(smtp, email)[-1]
    first = await gql.data(REDEEM, {"token": token})
    second = await gql.data(REDEEM, {"token": token})
    assert first["redeemMagicLink"]["outcome"] == "SIGNED_IN"
    assert second["redeemMagicLink"] == {
        "outcome": "INVALID",
        "token": None,
        "expiresAt": None,
        "passwordRequired": False,
        "viewer": None,
    }


async def test_two_redemptions_at_once_give_one_session(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    await invite(gql, tenant, customerId=customer_id)
    await deliver(db, smtp)
    token = tokens_for(smtp, email)[-1]
    results = await asyncio.gather(*(gql.data(REDEEM, {"token": token}) for _ in range(4)))
    outcomes = sorted(r["redeemMagicLink"]["outcome"] for r in results)
    assert outcomes == ["INVALID", "INVALID", "INVALID", "SIGNED_IN"]
    async with db.connect() as conn:
        count = await conn.execute(
            sa.select(sa.func.count())
            .select_from(sessions)
            .where(
                sessions.c.organization_id == tenant.organization_id,
                sessions.c.kind == "PORTAL",
            )
        )
    assert count.scalar_one() == 1
    assert (await _audit_actions(db, tenant)).count("portal.sign_in") == 1


async def test_tampered_and_unknown_tokens_are_refused(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    await invite(gql, tenant, customerId=customer_id)
    await deliver(db, smtp)
    token = tokens_for(smtp, email)[-1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "", "x" * 43):
        result = await gql.data(REDEEM, {"token": bad})
        assert result["redeemMagicLink"]["outcome"] == "INVALID"
    ok = await gql.data(REDEEM, {"token": token})
    assert ok["redeemMagicLink"]["outcome"] == "SIGNED_IN"


async def test_expired_link_offers_a_fresh_one_to_the_same_address(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    await invite(gql, tenant, customerId=customer_id)
    await deliver(db, smtp)
    token = tokens_for(smtp, email)[-1]
    async with db.write() as session:  # 15 minutes and 1 second later
        await session.execute(
            sa.update(links)
            .where(links.c.token_hash == token_hash(token))
            .values(expires_at=sa.func.coalesce(links.c.sent_at, links.c.expires_at))
        )
    expired = await gql.data(REDEEM, {"token": token})
    assert expired["redeemMagicLink"]["outcome"] == "EXPIRED"
    answer = await gql.data(RESEND, {"token": token})
    assert email not in answer["resendMagicLink"]["message"]
    await deliver(db, smtp)
    fresh = tokens_for(smtp, email)
    assert len(fresh) == 2 and fresh[-1] != token
    assert (await gql.data(REDEEM, {"token": token}))["redeemMagicLink"]["outcome"] != "SIGNED_IN"
    signed = await gql.data(REDEEM, {"token": fresh[-1]})
    assert signed["redeemMagicLink"]["outcome"] == "SIGNED_IN"


async def test_a_newer_link_kills_the_older_one(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    await invite(gql, tenant, customerId=customer_id)
    await invite(gql, tenant, customerId=customer_id)  # a resend
    await deliver(db, smtp)
    older, newer = tokens_for(smtp, email)
    assert (await gql.data(REDEEM, {"token": older}))["redeemMagicLink"]["outcome"] == "INVALID"
    assert (await gql.data(REDEEM, {"token": newer}))["redeemMagicLink"]["outcome"] == "SIGNED_IN"
    assert (await _audit_actions(db, tenant))[-4:] == [
        "portal.invite",
        "portal.invite_resent",
        "portal.sign_in_failed",
        "portal.sign_in",
    ]


async def test_revoking_ends_live_sessions_and_links_at_once(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await invite(gql, tenant, customerId=customer_id)  # an outstanding link
    await deliver(db, smtp)
    outstanding = tokens_for(smtp, email)[-1]

    revoked = await gql.data(
        REVOKE, {"input": {"customerId": customer_id}}, token=tenant.staff_token
    )
    assert revoked["revokePortalAccess"]["customer"]["portalStatus"] == "REVOKED"
    response = await gql.post(WHOAMI, token=session)
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert (await gql.data(REDEEM, {"token": outstanding}))["redeemMagicLink"][
        "outcome"
    ] == "INVALID"
    refused = await invite(gql, tenant, customerId=customer_id)
    assert [e["code"] for e in refused["userErrors"]] == ["ACCESS_REVOKED"]

    restored = await gql.data(
        RESTORE, {"input": {"customerId": customer_id}}, token=tenant.staff_token
    )
    assert restored["restorePortalAccess"]["customer"]["portalStatus"] == "ACTIVE"
    assert (await gql.post(WHOAMI, token=session)).status_code == 401  # old sessions stay dead
    again = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    assert (await gql.data(WHOAMI, token=again))["viewer"]["kind"] == "PORTAL"
    actions = await _audit_actions(db, tenant)
    assert "portal.access_revoked" in actions and "portal.access_restored" in actions


async def test_revoking_one_person_leaves_the_other_signed_in(gql, db, tenant, smtp):
    customer_id, customer_email = await make_customer(gql, tenant)
    contact_id, contact_email = await make_contact(gql, tenant, customer_id)
    main = await sign_in_by_invite(gql, db, smtp, tenant, customer_email, customerId=customer_id)
    sub = await sign_in_by_invite(gql, db, smtp, tenant, contact_email, contactId=contact_id)

    await gql.data(REVOKE, {"input": {"contactId": contact_id}}, token=tenant.staff_token)
    assert (await gql.post(WHOAMI, token=sub)).status_code == 401
    assert (await gql.data(WHOAMI, token=main))["viewer"]["kind"] == "PORTAL"

    await gql.data(RESTORE, {"input": {"contactId": contact_id}}, token=tenant.staff_token)
    sub = await sign_in_by_invite(gql, db, smtp, tenant, contact_email, contactId=contact_id)
    await gql.data(REVOKE, {"input": {"customerId": customer_id}}, token=tenant.staff_token)
    assert (await gql.post(WHOAMI, token=main)).status_code == 401
    assert (await gql.data(WHOAMI, token=sub))["viewer"]["contact"]["id"] == contact_id


async def test_request_link_answers_alike_for_unknown_addresses(
    gql, db, tenant, other_tenant, smtp
):
    customer_id, email = await make_customer(gql, tenant)
    await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    before = len(smtp.messages)
    known = await gql.data(REQUEST, {"email": email, "org": tenant.slug})
    unknown = await gql.data(REQUEST, {"email": "nobody@nowhere.test", "org": tenant.slug})
    wrong_org = await gql.data(REQUEST, {"email": email, "org": other_tenant.slug})
    assert known == unknown == wrong_org
    await deliver(db, smtp)
    assert len(smtp.messages) == before + 1
    token = tokens_for(smtp, email)[-1]
    signed = await gql.data(REDEEM, {"token": token})
    assert signed["redeemMagicLink"]["viewer"]["customer"]["id"] == customer_id


async def test_request_link_is_rate_limited_per_address(gql, tenant):
    # Three at once, then growing delays (tests/security/test_lockouts.py has the rest).
    email = "limited@example.test"
    for _ in range(3):
        await gql.data(REQUEST, {"email": email, "org": tenant.slug})
    limited = await gql(REQUEST, {"email": email, "org": tenant.slug})
    assert error_codes(limited) == ["RATE_LIMITED"]
    assert 0 < limited["errors"][0]["extensions"]["retryAfterSeconds"] <= 60


async def test_smtp_down_during_invite_then_up_delivers_once(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    smtp.stop()
    sent = await invite(gql, tenant, customerId=customer_id)
    assert sent["userErrors"] == []  # the invite is recorded; the email waits in the outbox
    with pytest.raises(MailServerUnavailable):  # an outage: the batch goes back untried
        await deliver(db, smtp)
    assert tokens_for(smtp, email) == []
    smtp.start()
    await deliver(db, smtp)
    await deliver(db, smtp)
    assert len(tokens_for(smtp, email)) == 1
    signed = await gql.data(REDEEM, {"token": tokens_for(smtp, email)[0]})
    assert signed["redeemMagicLink"]["outcome"] == "SIGNED_IN"


async def test_sign_out_ends_the_portal_session(gql, db, tenant, smtp):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    out = await gql.data("mutation { signOut { signedOut userErrors { code } } }", token=session)
    assert out["signOut"] == {"signedOut": True, "userErrors": []}
    assert (await gql.post(WHOAMI, token=session)).status_code == 401
    assert (await _audit_actions(db, tenant))[-1] == "portal.sign_out"
