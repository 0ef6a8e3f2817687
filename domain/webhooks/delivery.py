"""Delivering webhooks: signed, retried with backoff for WEBHOOK_RETRY_HOURS, in order per
object, each attempt by one worker.

A worker claims due deliveries in a short transaction by leasing them (`next_attempt_at`
pushed WEBHOOK_LEASE_SECONDS ahead, `attempts` counted, `leased_by` named; other workers
skip locked rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, and SQLite's `BEGIN
IMMEDIATE` serialises the claims). It posts them all at once outside any transaction, each
bounded by WEBHOOK_TIMEOUT_SECONDS, well inside the lease, and records each outcome only
while the row is still PENDING with the attempt it claimed, so a late worker never writes
over a newer attempt. A delivery is due only when no earlier delivery of the same object
to the same endpoint is still pending: an endpoint sees one object's events in order.

A failed attempt (no answer in time, refused, not 2xx, redirects included) is tried again
after 30 s, 1 min, 2 min ... up to 3 h apart, and FAILED once the next try would fall past
its window. An endpoint that has not succeeded for WEBHOOK_DISABLE_AFTER_HOURS since its
first failure is disabled, and its OWNERs get an email through the outbox in the same
transaction. Deliveries to a disabled endpoint wait (enabling it sends them).

The same event id goes with every attempt and redelivery, so a receiver dedups by it; a
duplicate is possible only when a worker dies after the receiver answered and before the
worker recorded it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbound import Answer, Refused, post
from core.process import process_identity
from core.settings import Settings
from domain.audit import system_audit
from domain.webhooks.signing import HEADER, signature
from mail.outbox import enqueue_to, one_line
from mail.recipients import Recipient
from models import Organization
from models.db import Database
from models.enums import MailKind, StaffRole, StaffStatus, WebhookDeliveryStatus
from models.tables import staff_users
from models.tables import webhook_deliveries as deliveries
from models.tables import webhook_endpoints as endpoints
from models.tables import webhook_events as events

logger = logging.getLogger("portico.webhooks")

FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3 * 3600
ERROR_LIMIT = 2000
PENDING = WebhookDeliveryStatus.PENDING


def backoff_seconds(attempts: int) -> int:
    """Wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min ... 3 h."""
    return int(min(FIRST_RETRY_SECONDS * 2 ** min(max(attempts - 1, 0), 20), MAX_RETRY_SECONDS))


@dataclass(frozen=True, slots=True)
class Outcome:
    answer: Answer | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.answer is not None and 200 <= self.answer.status < 300


async def deliver_due(
    db: Database,
    *,
    now: datetime | None = None,
    batch: int = 20,
    settings: Settings | None = None,
) -> int:
    """Post up to `batch` due deliveries; how many were delivered. `now` is the instant
    the round acts at (the clock by default; tests move it); `settings` default to the
    database's."""
    settings = settings or db.settings
    now = now or datetime.now(UTC)
    rows = await _claim(db, batch, now, settings.webhook_lease_seconds)
    if not rows:
        return 0
    outcomes = await asyncio.gather(*(_attempt(row, now, settings) for row in rows))
    delivered = 0
    for row, outcome in zip(rows, outcomes, strict=True):
        await _record(db, row, outcome, now, settings)
        delivered += outcome.delivered
    return delivered


def _is_due(now: datetime) -> sa.ColumnElement[bool]:
    earlier = deliveries.alias("earlier")
    waiting_behind = sa.exists().where(
        earlier.c.endpoint_id == deliveries.c.endpoint_id,
        earlier.c.object_id == deliveries.c.object_id,
        earlier.c.status == PENDING,
        sa.or_(
            earlier.c.created_at < deliveries.c.created_at,
            sa.and_(
                earlier.c.created_at == deliveries.c.created_at, earlier.c.id < deliveries.c.id
            ),
        ),
    )
    return sa.and_(
        deliveries.c.status == PENDING,
        deliveries.c.next_attempt_at <= now,
        endpoints.c.enabled.is_(True),
        ~waiting_behind,
    )


async def _claim(db: Database, batch: int, now: datetime, lease: float) -> Sequence[RowMapping]:
    async with db.write() as session:
        due = (
            sa.select(
                deliveries.c.id,
                deliveries.c.attempts,
                deliveries.c.created_at,
                deliveries.c.endpoint_id,
                deliveries.c.organization_id,
                endpoints.c.url,
                endpoints.c.secret,
                deliveries.c.event_type,
                events.c.body,
            )
            .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
            .join(events, events.c.id == deliveries.c.event_id)
            .where(_is_due(now))
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(batch)
            .with_for_update(of=deliveries, skip_locked=True)
        )
        rows = (await session.execute(due)).mappings().all()
        if rows:
            await session.execute(
                sa.update(deliveries)
                .where(deliveries.c.id.in_([row["id"] for row in rows]))
                .values(
                    attempts=deliveries.c.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=lease),
                    leased_by=process_identity(),
                    updated_at=now,
                )
            )
    return rows


async def _attempt(row: RowMapping, now: datetime, settings: Settings) -> Outcome:
    body = row["body"].encode()
    timestamp = int(now.timestamp())
    event_id = json.loads(row["body"])["id"]
    headers = {
        HEADER: signature(row["secret"], timestamp, body),
        "Portico-Event-Id": event_id,
        "Portico-Event-Type": row["event_type"],
        "Portico-Delivery-Attempt": str(row["attempts"] + 1),
    }
    try:
        answer = await post(
            row["url"],
            body,
            headers,
            # At most half the lease: the lease outlives every post of the batch.
            seconds=min(settings.webhook_timeout_seconds, settings.webhook_lease_seconds / 2),
            max_bytes=settings.webhook_max_response_bytes,
            allow_loopback=settings.webhook_allow_loopback,
        )
    except Refused as refused:
        return Outcome(None, f"Refused: {refused}")
    except TimeoutError:
        return Outcome(None, f"No answer within {settings.webhook_timeout_seconds:g} s")
    except OSError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT])
    if 200 <= answer.status < 300:
        return Outcome(answer, None)
    said = answer.body[:300].decode("utf-8", "replace")
    return Outcome(answer, f"HTTP {answer.status}: {said}"[:ERROR_LIMIT])


async def _record(
    db: Database, row: RowMapping, outcome: Outcome, now: datetime, settings: Settings
) -> None:
    attempt = row["attempts"] + 1
    answer = outcome.answer
    values: dict[str, Any] = {
        "leased_by": None,
        "updated_at": now,
        "last_attempt_at": now,
        "response_code": answer.status if answer else None,
        "latency_ms": answer.latency_ms if answer else None,
        "last_error": outcome.error,
    }
    if outcome.delivered:
        values |= {"status": WebhookDeliveryStatus.DELIVERED, "delivered_at": now}
    else:
        retry = now + timedelta(seconds=backoff_seconds(attempt))
        window_end = _aware(row["created_at"]) + timedelta(hours=settings.webhook_retry_hours)
        if retry > window_end:
            values["status"] = WebhookDeliveryStatus.FAILED
        else:
            values["next_attempt_at"] = retry
        logger.info(
            "webhook delivery %s (attempt %d) failed: %s", row["id"], attempt, outcome.error
        )
    async with db.write() as session:
        recorded = await session.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.id == row["id"],
                deliveries.c.attempts == attempt,
                deliveries.c.status == PENDING,
            )
            .values(**values)
            .returning(deliveries.c.id)
        )
        if recorded.first() is None:
            return  # deleted, or another worker took it after the lease: theirs to record
        if outcome.delivered:
            await session.execute(
                sa.update(endpoints)
                .where(endpoints.c.id == row["endpoint_id"])
                .values(failing_since=None, last_success_at=now)
            )
        else:
            await _note_failure(session, row, outcome.error or "", now, settings)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _note_failure(
    session: AsyncSession, row: RowMapping, error: str, now: datetime, settings: Settings
) -> None:
    """Start the endpoint's failure record, or disable it when it has run long enough."""
    endpoint_id = row["endpoint_id"]
    await session.execute(
        sa.update(endpoints)
        .where(endpoints.c.id == endpoint_id, endpoints.c.failing_since.is_(None))
        .values(failing_since=now)
    )
    cutoff = now - timedelta(hours=settings.webhook_disable_after_hours)
    reason = (
        f"Disabled after failing for {settings.webhook_disable_after_hours:g} hours: {row['url']}"
    )[:500]
    disabled = await session.execute(
        sa.update(endpoints)
        .where(
            endpoints.c.id == endpoint_id,
            endpoints.c.enabled.is_(True),
            endpoints.c.failing_since <= cutoff,
        )
        .values(enabled=False, disabled_at=now, disabled_reason=reason, updated_at=now)
        .returning(endpoints.c.url)
    )
    if disabled.first() is None:
        return
    logger.warning("webhook endpoint %s disabled after sustained failure", endpoint_id)
    await _tell_owners(session, row, error, settings)
    session.add(
        system_audit(
            row["organization_id"],
            "webhook.endpoint_disabled",
            subject_type="WebhookEndpoint",
            subject_id=endpoint_id,
            data={"reason": reason},
        )
    )


async def _tell_owners(
    session: AsyncSession, row: RowMapping, error: str, settings: Settings
) -> None:
    org = await session.get(Organization, row["organization_id"])
    assert org is not None
    owners = await session.execute(
        sa.select(staff_users.c.name, staff_users.c.email).where(
            staff_users.c.organization_id == row["organization_id"],
            staff_users.c.role == StaffRole.OWNER,
            staff_users.c.status == StaffStatus.ACTIVE,
        )
    )
    people = [Recipient(name=o.name, email=o.email) for o in owners]
    hours = settings.webhook_disable_after_hours
    await enqueue_to(
        session,
        org,
        MailKind.STAFF,
        people,
        "A webhook endpoint was disabled",
        [
            f"Portico could not deliver events to {one_line(row['url'])} for {hours:g} "
            "hours, so the endpoint is disabled and receives nothing more.",
            f"The last answer: {one_line(error)[:300]}",
            "Once it answers again, enable it in the webhook settings: the events it "
            "missed are then delivered.",
        ],
    )


async def run_webhook_worker(db: Database, stop: asyncio.Event, *, interval: float = 1.0) -> None:
    """Deliver until `stop` is set; a failing round is logged and the next one tries again."""
    from core.db_faults import database_unavailable

    while not stop.is_set():
        try:
            delivered = await deliver_due(db)
        except Exception as exc:
            if database_unavailable(exc):
                logger.warning("webhook delivery skipped: database unavailable (%s)", exc)
            else:
                logger.exception("webhook delivery round failed")
            delivered = 0
        if delivered:
            continue  # more may be waiting
        try:
            async with asyncio.timeout(interval):
                await stop.wait()
        except TimeoutError:
            pass
