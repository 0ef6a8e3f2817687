"""Roles and access switches: `node` keeps the root fields' roles, refusals say what
happened, and access switched off ends sessions and links for good (issue 15, item 6)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import encode_id
from models import Notification, StaffUser
from models.db import Database
from models.enums import NotificationKind, StaffRole
from tests.helpers import GraphQLClient, Tenant, error_codes
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

NODE = "query N($id: ID!) { node(id: $id) { id } }"
CREATE_KEY = """
mutation { createIntegrationKey(input: {name: "Fleet tracker"}) { integrationKey { id } } }
"""
UPDATE_CONTACT = """
mutation U($input: UpdateContactInput!) { updateContact(input: $input) { userErrors { code } } }
"""
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { code } }
}
"""


async def test_node_keeps_the_roles_of_the_root_fields(gql: GraphQLClient, db: Database, tenant):
    key = await gql.data(CREATE_KEY, token=tenant.owner_token)
    key_id = key["createIntegrationKey"]["integrationKey"]["id"]
    owner_reads = await gql.data(NODE, {"id": key_id}, token=tenant.owner_token)
    assert owner_reads["node"] == {"id": key_id}
    staff_reads = await gql(NODE, {"id": key_id}, token=tenant.staff_token)
    assert error_codes(staff_reads) == ["NOT_FOUND"]

    async with db.write() as session:
        note_id = await _owner_notification(session, tenant)
    notification = encode_id("Notification", note_id)
    mine = await gql.data(NODE, {"id": notification}, token=tenant.owner_token)
    assert mine["node"] == {"id": notification}
    theirs = await gql(NODE, {"id": notification}, token=tenant.staff_token)
    missing = await gql(
        NODE, {"id": encode_id("Notification", uuid.uuid4())}, token=tenant.staff_token
    )
    assert theirs == missing and error_codes(theirs) == ["NOT_FOUND"]


async def _owner_notification(session: AsyncSession, tenant: Tenant) -> uuid.UUID:
    owner = await session.scalar(
        sa.select(StaffUser.id).where(
            StaffUser.organization_id == tenant.organization_id,  # type: ignore[arg-type]
            StaffUser.role == StaffRole.OWNER,  # type: ignore[arg-type]
        )
    )
    note = Notification(
        organization_id=tenant.organization_id,
        kind=NotificationKind.ESTIMATE_APPROVED,
        recipient_staff_id=owner,
        title="For the owner only",
    )
    session.add(note)
    await session.flush()
    return note.id


async def test_refusals_say_whether_to_sign_in_or_that_the_right_is_missing(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    anonymous = await gql("{ customers { totalCount } }")
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    customer_id, email = await make_customer(gql, tenant)
    portal = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    as_portal = await gql("{ customers { totalCount } }", token=portal)
    assert error_codes(as_portal) == ["FORBIDDEN"]
    owner_only = await gql(CREATE_KEY, token=tenant.staff_token)
    assert error_codes(owner_only) == ["OWNER_REQUIRED"]
    portal_only = "mutation { markMyMessagesRead(input: {}) { userErrors { code } } }"
    as_staff = await gql(portal_only, token=tenant.staff_token)
    assert error_codes(as_staff) == ["FORBIDDEN"]
    assert "portal" in as_staff["errors"][0]["message"]
    nobody = await gql(portal_only)
    assert error_codes(nobody) == ["UNAUTHENTICATED"]


async def test_contact_access_switched_off_ends_sessions_and_links_for_good(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, _ = await make_customer(gql, tenant)
    contact_id, email = await make_contact(gql, tenant, customer_id)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)
    await invite(gql, tenant, contactId=contact_id)
    await deliver(db, smtp)
    unused_link = tokens_for(smtp, email)[-1]

    async def access(on: bool) -> None:
        done = await gql.data(
            UPDATE_CONTACT,
            {"input": {"id": contact_id, "canAccessPortal": on}},
            token=tenant.staff_token,
        )
        assert done["updateContact"]["userErrors"] == []

    await access(False)
    assert (await gql.post(WHOAMI, token=session)).status_code == 401
    status = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Contact { portalStatus } } }",
        {"id": contact_id},
        token=tenant.staff_token,
    )
    assert status["node"]["portalStatus"] == "NOT_INVITED"  # not ACTIVE while switched off
    await access(True)
    assert (await gql.post(WHOAMI, token=session)).status_code == 401  # ended, not paused
    redeemed = await gql.data(REDEEM, {"token": unused_link})
    assert redeemed["redeemMagicLink"]["outcome"] == "INVALID"
    # A new link lets them in again.
    again = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)
    assert (await gql.data(WHOAMI, token=again))["viewer"]["kind"] == "PORTAL"


async def test_the_portal_switched_off_ends_every_portal_session_for_good(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await invite(gql, tenant, customerId=customer_id)
    await deliver(db, smtp)
    unused_link = tokens_for(smtp, email)[-1]
    for enabled in (False, True):
        await gql.data(SETTINGS, {"input": {"enabled": enabled}}, token=tenant.owner_token)
    assert (await gql.post(WHOAMI, token=session)).status_code == 401
    redeemed = await gql.data(REDEEM, {"token": unused_link})
    assert redeemed["redeemMagicLink"]["outcome"] == "INVALID"
    assert (await gql.data(WHOAMI, token=tenant.staff_token))["viewer"]["kind"] == "STAFF"
    again = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    assert (await gql.data(WHOAMI, token=again))["viewer"]["kind"] == "PORTAL"
