"""Bulk portal invites: the single invite (domain/portal/portal_access.py) sent to every
customer a customers-list filter chose, by a job in the jobs loop.

Starting one writes the job and one item per chosen customer (unique per job and customer).
The runner (`send_bulk_invites`, portico/background.py) takes PENDING items in turn, each in
a transaction of its own that locks the item, checks it is still PENDING and its job still
RUNNING, then either sends the invite (its outbox email written in that same transaction)
or skips the customer with a reason, and marks the item SENT or SKIPPED. A crash before the
commit leaves the item PENDING with no email; after it, SENT with its email: a restart or a
second runner continues where the first stopped and never invites anyone twice.

Invites go at most `bulk_invites_per_minute` per organization (SENT items of the last 60
seconds, by the runner's clock, which tests set). Staff follow a job's counts and items,
and cancel it: its PENDING items become CANCELLED and are never sent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.exports import may_import
from auth.portal import portal_enabled
from core.errors import Forbidden, NotFound
from core.ids import encode_id
from core.settings import Settings
from domain.audit import audit, system_audit
from domain.imports.codes import ImportCode
from domain.portal.codes import PortalCode
from domain.portal.portal_access import Named, invite, invite_problems, person_of_named
from domain.problems import Problem, Rejected
from domain.work import Work
from models import BulkInvite, BulkInviteItem
from models.db import Database
from models.derived import onboarding_progress
from models.enums import BulkInviteItemState, BulkInviteState, PortalStatus
from models.relations import archived_filter
from models.search import customer_search
from models.tables import bulk_invite_items, bulk_invites, customers, onboarding_steps
from models.writes import get_for_update

log = logging.getLogger("portico.bulk_invites")

BATCH = 1000
WINDOW = timedelta(minutes=1)


class SkipReason(StrEnum):
    NO_EMAIL = "NO_EMAIL"
    ALREADY_HAS_ACCESS = "ALREADY_HAS_ACCESS"  # signed in to the portal already
    ALREADY_INVITED = "ALREADY_INVITED"  # invited before, not yet signed in
    ACCESS_REVOKED = "ACCESS_REVOKED"  # staff took their access away (an opt-out)
    ARCHIVED = "ARCHIVED"
    PORTAL_DISABLED = "PORTAL_DISABLED"
    GONE = "GONE"  # the customer is no longer there


REASON_OF = {
    PortalCode.EMAIL_MISSING: SkipReason.NO_EMAIL,
    PortalCode.ACCESS_REVOKED: SkipReason.ACCESS_REVOKED,
    PortalCode.ARCHIVED: SkipReason.ARCHIVED,
    PortalCode.PORTAL_DISABLED: SkipReason.PORTAL_DISABLED,
}


@dataclass(frozen=True)
class CustomerFilter:
    """The customers list's filter (Query.customers: search, includeArchived, onboarding)."""

    search: str | None = None
    include_archived: bool = False
    onboarding_complete: bool | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found = [
            *customer_search(customers, self.search),
            *archived_filter(customers, self.include_archived),
        ]
        if self.onboarding_complete is not None:
            done = onboarding_progress(customers, onboarding_steps)["complete"]
            found.append(done if self.onboarding_complete else sa.not_(done))
        return found

    def stored(self) -> dict[str, Any]:
        return {
            "search": self.search,
            "include_archived": self.include_archived,
            "onboarding_complete": self.onboarding_complete,
        }


def _may_invite_in_bulk(work: Work) -> uuid.UUID:
    viewer = work.viewer
    if viewer.organization_id is None or not may_import(viewer):
        raise Forbidden()
    return viewer.organization_id


async def start_bulk_invite(work: Work, chosen: CustomerFilter) -> uuid.UUID:
    """A job over the customers the filter chooses now (later customers are not added)."""
    organization_id = _may_invite_in_bulk(work)
    async with work.write() as session:
        job = BulkInvite(
            organization_id=organization_id,
            staff_user_id=work.viewer.staff_user_id,
            filter=chosen.stored(),
        )
        session.add(job)
        await session.flush()
        chosen_ids = (
            await session.scalars(
                sa.select(customers.c.id)
                .where(customers.c.organization_id == organization_id, *chosen.conditions())
                .order_by(customers.c.name, customers.c.id)
            )
        ).all()
        now = datetime.now(UTC)
        rows = [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
                "organization_id": organization_id,
                "bulk_invite_id": job.id,
                "customer_id": customer_id,
                "state": BulkInviteItemState.PENDING,
            }
            for customer_id in chosen_ids
        ]
        for start in range(0, len(rows), BATCH):
            await session.execute(sa.insert(bulk_invite_items), rows[start : start + BATCH])
        job.total = len(rows)
        if not rows:
            job.state, job.finished_at = BulkInviteState.FINISHED, now
        session.add(
            audit(
                work,
                "bulk_invite.started",
                subject_type="BulkInvite",
                subject_id=job.id,
                data={**chosen.stored(), "customers": len(rows)},
            )
        )
    return job.id


async def cancel_bulk_invite(work: Work, job_id: uuid.UUID) -> uuid.UUID:
    """Stop a running job: its items not yet sent are never sent."""
    organization_id = _may_invite_in_bulk(work)
    async with work.write() as session:
        job = await get_for_update(session, BulkInvite, organization_id, job_id)
        if job is None:
            raise NotFound(row=("BulkInvite", job_id))
        if job.state is not BulkInviteState.RUNNING:
            message = "This bulk invite has already ended."
            raise Rejected(Problem("id", message, ImportCode.NOT_RUNNING))
        now = datetime.now(UTC)
        job.state, job.cancelled_at, job.updated_at = BulkInviteState.CANCELLED, now, now
        await session.execute(
            sa.update(bulk_invite_items)
            .where(
                bulk_invite_items.c.bulk_invite_id == job_id,
                bulk_invite_items.c.state == BulkInviteItemState.PENDING,
            )
            .values(state=BulkInviteItemState.CANCELLED, done_at=now, updated_at=now)
        )
        session.add(
            audit(work, "bulk_invite.cancelled", subject_type="BulkInvite", subject_id=job_id)
        )
    return job_id


@dataclass
class Sent:
    sent: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"{self.sent} invites sent, {self.skipped} skipped"


async def send_bulk_invites(
    db: Database, now: datetime | None = None, per_minute: int | None = None
) -> Sent:
    """One pass over the running jobs: each organization's pending items, within its rate
    (`per_minute`, BULK_INVITES_PER_MINUTE unless given; `now`, the clock's, for tests)."""
    now = now or datetime.now(UTC)
    rate = per_minute or db.settings.bulk_invites_per_minute
    done = Sent()
    async with db.connect() as conn:
        running = (
            await conn.execute(
                sa.select(bulk_invites.c.id, bulk_invites.c.organization_id)
                .where(bulk_invites.c.state == BulkInviteState.RUNNING)
                .order_by(bulk_invites.c.created_at, bulk_invites.c.id)
            )
        ).all()
    for job_id, organization_id in running:
        await _run_job(db, job_id, organization_id, now, rate, done)
    return done


async def _run_job(
    db: Database,
    job_id: uuid.UUID,
    organization_id: uuid.UUID,
    now: datetime,
    per_minute: int,
    done: Sent,
) -> None:
    while True:
        async with db.write() as session:
            budget = per_minute - await _sent_recently(session, organization_id, now)
            if budget <= 0:
                return
            pending = (
                await session.scalars(
                    sa.select(bulk_invite_items.c.id)
                    .where(
                        bulk_invite_items.c.bulk_invite_id == job_id,
                        bulk_invite_items.c.state == BulkInviteItemState.PENDING,
                    )
                    .order_by(bulk_invite_items.c.id)
                    .limit(budget)
                )
            ).all()
        if not pending:
            await _finish(db, job_id, now)
            return
        for item_id in pending:
            outcome = await send_one(db, item_id, now, per_minute)
            if outcome is BulkInviteItemState.SENT:
                done.sent += 1
            elif outcome is BulkInviteItemState.SKIPPED:
                done.skipped += 1
            else:
                return  # the rate is used up, or another runner or a cancel came first


async def send_one(
    db: Database, item_id: uuid.UUID, now: datetime, per_minute: int
) -> BulkInviteItemState | None:
    """One item, in its own transaction under its job's row lock: SENT (with its email) or
    SKIPPED; PENDING when the organization's rate is used up; None when it was no longer
    PENDING (another runner took it) or its job no longer RUNNING."""
    async with db.write() as session:
        item = (
            await session.execute(
                sa.select(BulkInviteItem)
                .where(BulkInviteItem.id == item_id)  # type: ignore[arg-type]
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if item is None or item.state is not BulkInviteItemState.PENDING:
            return None
        organization_id = item.organization_id
        job = await get_for_update(session, BulkInvite, organization_id, item.bulk_invite_id)
        if job is None or job.state is not BulkInviteState.RUNNING:
            return None
        if (
            await _sent_recently(session, organization_id, now)
            >= db.settings.bulk_invites_per_minute
        ):
            return BulkInviteItemState.PENDING
        reason = await _invite_or_reason(session, db.settings, job, item.customer_id)
        item.state = BulkInviteItemState.SENT if reason is None else BulkInviteItemState.SKIPPED
        item.reason = None if reason is None else reason.value
        item.done_at = item.updated_at = job.updated_at = now
        if reason is None:
            job.sent += 1
        else:
            job.skipped += 1
        return item.state


async def _sent_recently(session: AsyncSession, organization_id: uuid.UUID, now: datetime) -> int:
    """The organization's invites of the last minute, by the runner's clock."""
    count = await session.scalar(
        sa.select(sa.func.count()).where(
            bulk_invite_items.c.organization_id == organization_id,
            bulk_invite_items.c.state == BulkInviteItemState.SENT,
            bulk_invite_items.c.done_at > now - WINDOW,
        )
    )
    return int(count or 0)


async def _invite_or_reason(
    session: AsyncSession, settings: Settings, job: BulkInvite, customer_id: uuid.UUID
) -> SkipReason | None:
    """The invite sent (None), or why this customer was skipped."""
    try:
        person, row = await person_of_named(
            session, job.organization_id, Named("Customer", customer_id)
        )
    except NotFound:
        return SkipReason.GONE
    if row.portal_status is PortalStatus.ACTIVE:
        return SkipReason.ALREADY_HAS_ACCESS
    if row.portal_status is PortalStatus.INVITED:
        return SkipReason.ALREADY_INVITED
    enabled = await portal_enabled(session, job.organization_id)
    problems = invite_problems(person, "customerId", enabled)
    if problems:
        return REASON_OF.get(PortalCode(str(problems[0].code)), SkipReason.GONE)
    await invite(session, settings, person, row)
    session.add(
        system_audit(
            job.organization_id,
            "portal.invite",
            customer_id=customer_id,
            data={"email": person.email, "bulk_invite_id": encode_id("BulkInvite", job.id)},
        )
    )
    return None


async def _finish(db: Database, job_id: uuid.UUID, now: datetime) -> None:
    """A running job with no pending item left is finished."""
    async with db.write() as session:
        left = sa.select(bulk_invite_items.c.id).where(
            bulk_invite_items.c.bulk_invite_id == job_id,
            bulk_invite_items.c.state == BulkInviteItemState.PENDING,
        )
        await session.execute(
            sa.update(bulk_invites)
            .where(
                bulk_invites.c.id == job_id,
                bulk_invites.c.state == BulkInviteState.RUNNING,
                ~sa.exists(left),
            )
            .values(state=BulkInviteState.FINISHED, finished_at=now, updated_at=now)
        )
