"""Bulk portal invites: the customers a list filter chose, each invited exactly once across
a crash and two runners, within the rate by a clock the test sets, with reasons for those
skipped; cancelling; who may start and cancel one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.ids import decode_id_of
from domain.imports import bulk_invites as bulk_module
from domain.imports.bulk_invites import send_bulk_invites
from models import Customer
from models.db import Database
from models.enums import PortalStatus, StaffRole
from models.tables import bulk_invite_items, bulk_invites, outbox_emails
from models.types import utcnow
from models.writes import add_in_order
from tests.helpers import GraphQLClient, Tenant
from tests.portal import make_customer, sign_in_by_invite
from tests.smtp import SmtpServer
from tests.staff import add_staff

START = """mutation ($input: StartBulkInviteInput!) { startBulkInvite(input: $input) {
  bulkInvite { id state total sent skipped } userErrors { field code } } }"""
CANCEL = """mutation ($input: CancelBulkInviteInput!) { cancelBulkInvite(input: $input) {
  bulkInvite { id state } userErrors { field code } } }"""
PROGRESS = """{ organization { bulkInvites(first: 5) { nodes { id state total sent skipped
  items(first: 50) { nodes { state reason customer { name } } } } } } }"""
T0 = datetime(2026, 12, 7, 12, tzinfo=UTC)


async def customers_of(db: Database, tenant: Tenant, prefix: str, n: int, **extra: Any) -> None:
    rows = [
        Customer(
            organization_id=tenant.organization_id,
            name=f"{prefix} {i}",
            email=f"{prefix.lower()}-{i}-{uuid.uuid4().hex[:6]}@invite.test",
            **extra,
        )
        for i in range(n)
    ]
    async with db.write() as session:
        await add_in_order(session, rows)


async def mixed_customers(db: Database, tenant: Tenant) -> None:
    """Three to invite, and one each without email, already in, invited, revoked."""
    await customers_of(db, tenant, "Fresh", 3)
    async with db.write() as session:
        org = tenant.organization_id
        await add_in_order(
            session,
            [
                Customer(organization_id=org, name="Nomail"),
                Customer(
                    organization_id=org,
                    name="Active",
                    email=f"active-{uuid.uuid4().hex[:6]}@invite.test",
                    portal_status=PortalStatus.ACTIVE,
                    portal_activated_at=utcnow(),
                ),
                Customer(
                    organization_id=org,
                    name="Invited",
                    email=f"invited-{uuid.uuid4().hex[:6]}@invite.test",
                    portal_status=PortalStatus.INVITED,
                    portal_invited_at=utcnow(),
                ),
                Customer(
                    organization_id=org,
                    name="Revoked",
                    email=f"revoked-{uuid.uuid4().hex[:6]}@invite.test",
                    portal_status=PortalStatus.REVOKED,
                ),
            ],
        )


async def start(gql: GraphQLClient, token: str, **filter: Any) -> dict[str, Any]:
    data = await gql.data(START, {"input": filter}, token=token)
    result: dict[str, Any] = data["startBulkInvite"]
    return result


async def emails_by_address(db: Database, tenant: Tenant) -> dict[str, int]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox_emails.c.to_address, sa.func.count())
            .where(outbox_emails.c.organization_id == tenant.organization_id)
            .group_by(outbox_emails.c.to_address)
        )
        return {address: n for address, n in rows}


async def job_row(db: Database, gid: str) -> Any:
    async with db.connect() as conn:
        return (
            await conn.execute(
                sa.select(bulk_invites).where(bulk_invites.c.id == decode_id_of("BulkInvite", gid))
            )
        ).one()


async def run_until_done(db: Database, per_minute: int = 100) -> None:
    now = T0
    for _ in range(20):
        done = await send_bulk_invites(db, now=now, per_minute=per_minute)
        if not done.sent and not done.skipped:
            return
        now += timedelta(minutes=2)


async def test_each_chosen_customer_is_invited_once_and_the_rest_skipped_with_a_reason(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    await mixed_customers(db, tenant)
    started = await start(gql, tenant.owner_token)
    assert started["userErrors"] == []
    assert started["bulkInvite"]["total"] == 7
    await run_until_done(db)
    job = await job_row(db, started["bulkInvite"]["id"])
    assert (job.state, job.sent, job.skipped) == ("FINISHED", 3, 4)
    sent_to = await emails_by_address(db, tenant)
    assert len(sent_to) == 3 and set(sent_to.values()) == {1}
    assert all(address.startswith("fresh-") for address in sent_to)
    progress = await gql.data(PROGRESS, token=tenant.owner_token)
    (node,) = progress["organization"]["bulkInvites"]["nodes"]
    reasons = {i["customer"]["name"]: (i["state"], i["reason"]) for i in node["items"]["nodes"]}
    assert reasons == {
        "Fresh 0": ("SENT", None),
        "Fresh 1": ("SENT", None),
        "Fresh 2": ("SENT", None),
        "Nomail": ("SKIPPED", "NO_EMAIL"),
        "Active": ("SKIPPED", "ALREADY_HAS_ACCESS"),
        "Invited": ("SKIPPED", "ALREADY_INVITED"),
        "Revoked": ("SKIPPED", "ACCESS_REVOKED"),
    }


async def test_the_filter_is_the_customers_lists(db: Database, gql: GraphQLClient, tenant: Tenant):
    await customers_of(db, tenant, "Smith", 2)
    await customers_of(db, tenant, "Jones", 3)
    await customers_of(db, tenant, "Archived Smith", 1, archived_at=utcnow())
    started = await start(gql, tenant.owner_token, search="smith")
    assert started["bulkInvite"]["total"] == 2
    with_archived = await start(gql, tenant.owner_token, search="smith", includeArchived=True)
    assert with_archived["bulkInvite"]["total"] == 3


async def test_the_rate_is_kept_by_the_runners_clock(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    await customers_of(db, tenant, "Rate", 5)
    started = await start(gql, tenant.owner_token)
    # Other tests' jobs run too (their organizations have rates of their own): count ours.
    expected = [(0, 2), (30, 2), (61, 4), (62, 4), (122, 5)]
    for seconds, sent_by_then in expected:
        await send_bulk_invites(db, now=T0 + timedelta(seconds=seconds), per_minute=2)
        assert sum((await emails_by_address(db, tenant)).values()) == sent_by_then, seconds
    job = await job_row(db, started["bulkInvite"]["id"])
    assert (job.state, job.sent) == ("FINISHED", 5)


async def test_a_crash_mid_invite_sends_nothing_and_a_restart_continues_without_repeats(
    db: Database, gql: GraphQLClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    await customers_of(db, tenant, "Crash", 4)
    started = await start(gql, tenant.owner_token)
    real_invite = bulk_module.invite
    calls = 0

    async def crashing(session: Any, settings: Any, person: Any, row: Any) -> bool:
        """Our third invite's email is written, then the process dies before COMMIT."""
        nonlocal calls
        result = await real_invite(session, settings, person, row)
        if person.organization_id == tenant.organization_id:
            calls += 1
            if calls == 3:
                raise RuntimeError("killed")
        return result

    monkeypatch.setattr(bulk_module, "invite", crashing)
    with pytest.raises(RuntimeError):
        await send_bulk_invites(db, now=T0, per_minute=100)
    assert sorted((await emails_by_address(db, tenant)).values()) == [1, 1]
    monkeypatch.setattr(bulk_module, "invite", real_invite)
    await run_until_done(db)
    sent_to = await emails_by_address(db, tenant)
    assert len(sent_to) == 4 and set(sent_to.values()) == {1}
    job = await job_row(db, started["bulkInvite"]["id"])
    assert (job.state, job.sent, job.skipped) == ("FINISHED", 4, 0)


async def test_two_runners_at_once_invite_each_customer_once(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    await customers_of(db, tenant, "Race", 12)
    started = await start(gql, tenant.owner_token)
    for _ in range(5):
        await asyncio.gather(
            send_bulk_invites(db, now=T0, per_minute=100),
            send_bulk_invites(db, now=T0, per_minute=100),
        )
    sent_to = await emails_by_address(db, tenant)
    assert len(sent_to) == 12 and set(sent_to.values()) == {1}
    async with db.connect() as conn:
        states = (
            await conn.execute(
                sa.select(bulk_invite_items.c.state, sa.func.count())
                .where(bulk_invite_items.c.organization_id == tenant.organization_id)
                .group_by(bulk_invite_items.c.state)
            )
        ).all()
    assert dict(states) == {"SENT": 12}
    job = await job_row(db, started["bulkInvite"]["id"])
    assert (job.state, job.sent) == ("FINISHED", 12)


async def test_a_cancelled_job_sends_nothing_more(db: Database, gql: GraphQLClient, tenant: Tenant):
    await customers_of(db, tenant, "Cancel", 4)
    started = await start(gql, tenant.owner_token)
    gid = started["bulkInvite"]["id"]
    assert (await send_bulk_invites(db, now=T0, per_minute=1)).sent == 1
    cancelled = await gql.data(CANCEL, {"input": {"id": gid}}, token=tenant.owner_token)
    assert cancelled["cancelBulkInvite"]["bulkInvite"]["state"] == "CANCELLED"
    await run_until_done(db)
    assert len(await emails_by_address(db, tenant)) == 1
    again = await gql.data(CANCEL, {"input": {"id": gid}}, token=tenant.owner_token)
    assert again["cancelBulkInvite"]["userErrors"] == [
        {"field": ["input", "id"], "code": "NOT_RUNNING"}
    ]
    progress = await gql.data(PROGRESS, token=tenant.owner_token)
    (node,) = progress["organization"]["bulkInvites"]["nodes"]
    states = sorted(i["state"] for i in node["items"]["nodes"])
    assert states == ["CANCELLED", "CANCELLED", "CANCELLED", "SENT"]


async def test_only_owners_and_admins_start_cancel_and_follow_bulk_invites(
    db: Database, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    await customers_of(db, tenant, "Guarded", 2)
    refused = await gql(START, {"input": {}}, token=tenant.staff_token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await gql(START, {"input": {}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    customer_id, email = await make_customer(gql, tenant, "Portal Person")
    portal = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    from_portal = await gql(START, {"input": {}}, token=portal)
    assert from_portal["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql(PROGRESS, token=portal))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    _, _, admin = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    started = await start(gql, admin)
    gid = started["bulkInvite"]["id"]
    staff_cancel = await gql(CANCEL, {"input": {"id": gid}}, token=tenant.staff_token)
    assert staff_cancel["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    staff_progress = await gql(PROGRESS, token=tenant.staff_token)
    assert staff_progress["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Another organization's owner: its own list is empty and our job is not found.
    theirs = await gql.data(CANCEL, {"input": {"id": gid}}, token=other_tenant.owner_token)
    assert theirs["cancelBulkInvite"]["userErrors"] == [
        {"field": ["input", "id"], "code": "NOT_FOUND"}
    ]
    their_list = await gql.data(PROGRESS, token=other_tenant.owner_token)
    assert their_list["organization"]["bulkInvites"]["nodes"] == []
    # Their start chooses only their customers (none).
    their_job = await start(gql, other_tenant.owner_token)
    assert their_job["bulkInvite"]["total"] == 0
    assert (await job_row(db, gid)).state == "RUNNING"


async def test_the_background_loop_sends_them(db: Database, gql: GraphQLClient, tenant: Tenant):
    from portico.background import run_bulk_invites

    await customers_of(db, tenant, "Loop", 3)
    started = await start(gql, tenant.owner_token)
    stop = asyncio.Event()
    loop = asyncio.create_task(run_bulk_invites(db, stop, 0.05))
    try:
        for _ in range(200):
            if (await job_row(db, started["bulkInvite"]["id"])).state == "FINISHED":
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    job = await job_row(db, started["bulkInvite"]["id"])
    assert (job.state, job.sent) == ("FINISHED", 3)
