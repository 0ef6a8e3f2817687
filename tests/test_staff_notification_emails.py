"""Staff choose which in-app notifications are also emailed to them: the notification is
always in the app, the email follows each person's own choice, and nobody sets another's."""

from __future__ import annotations

import sqlalchemy as sa

from models import Notification, OutboxEmail
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.messaging import portal_token
from tests.portal import make_customer
from tests.security.test_own_appointments import CANCEL_MINE, _allow, _appointment

SET = """
mutation S($input: NotificationEmailsInput!) {
  updateMyNotificationEmails(input: $input) {
    staffUser { email emailedNotificationKinds } userErrors { code }
  }
}
"""
STAFF = "{ staffUsers { nodes { email emailedNotificationKinds } } }"


async def _told(db: Database, tenant: Tenant) -> tuple[int, list[str]]:
    """In-app notifications of APPOINTMENT_CHANGED, and the staff addresses emailed."""
    async with db.connect() as conn:
        notes = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(
                Notification.organization_id == tenant.organization_id,  # type: ignore[arg-type]
                Notification.kind == "APPOINTMENT_CHANGED",  # type: ignore[arg-type]
            )
        )
        mailed = await conn.execute(
            sa.select(OutboxEmail.to_address).where(  # type: ignore[call-overload]
                OutboxEmail.organization_id == tenant.organization_id,
                OutboxEmail.kind == "STAFF",
            )
        )
        return int(notes or 0), sorted(mailed.scalars())


async def test_each_staff_member_chooses_their_emails(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    listed = await gql.data(STAFF, token=tenant.owner_token)
    for person in listed["staffUsers"]["nodes"]:
        assert "APPOINTMENT_CHANGED" in person["emailedNotificationKinds"]  # all by default
    chosen = await gql.data(
        SET, {"input": {"kinds": ["APPOINTMENT_REQUESTED"]}}, token=tenant.staff_token
    )
    me = chosen["updateMyNotificationEmails"]["staffUser"]
    assert me == {
        "email": tenant.staff_email,
        "emailedNotificationKinds": ["APPOINTMENT_REQUESTED"],
    }

    await _allow(gql, tenant)
    customer_id, _ = await make_customer(gql, tenant)
    gid = await _appointment(gql, tenant, customer_id)
    token = await portal_token(db, tenant, customer_id)
    done = await gql.data(CANCEL_MINE, {"input": {"id": gid}}, token=token)
    assert done["cancelMyAppointment"]["userErrors"] == []
    notes, mailed = await _told(db, tenant)
    assert notes == 2  # both staff see it in the app
    assert mailed == [tenant.owner_email]  # only the owner wanted it by email

    off = await gql.data(SET, {"input": {"kinds": []}}, token=tenant.owner_token)
    assert off["updateMyNotificationEmails"]["staffUser"]["emailedNotificationKinds"] == []
    again = await _appointment(gql, tenant, customer_id)
    await gql.data(CANCEL_MINE, {"input": {"id": again}}, token=token)
    notes, mailed = await _told(db, tenant)
    assert notes == 4 and mailed == [tenant.owner_email]  # no new email


async def test_portal_viewers_and_anonymous_callers_choose_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    viewer = await portal_token(db, tenant, customer_id)
    for token in (viewer, None):
        refused = await gql(SET, {"input": {"kinds": []}}, token=token)
        assert error_codes(refused) in (["FORBIDDEN"], ["UNAUTHENTICATED"])
    listed = await gql.data(STAFF, token=tenant.owner_token)
    assert all(p["emailedNotificationKinds"] for p in listed["staffUsers"]["nodes"])
