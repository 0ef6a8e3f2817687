"""Background work: delivering the outbox (emails and texts) and the webhooks, expiring
idempotency keys, sending bulk portal invites, and the scheduled jobs (recurring billing,
collections, monthly statements, appointment and event reminders and car update emails
always; with Stripe configured, autopay and reconciling online payments). It runs inside
`portico serve` by default, or alone in `portico worker` (RUN_WORKER_IN_SERVER=false); every
part is safe to run in several processes at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.db_faults import database_unavailable
from core.outage_watch import OutageWatch
from core.settings import Settings
from domain.billing.monthly_statements import send_monthly_statements
from domain.cars.updates import send_car_updates
from domain.collections.collect import collect
from domain.events.announcements import remind_event_attendees
from domain.imports.bulk_invites import send_bulk_invites
from domain.payments.autopay import run_autopay
from domain.payments.reconcile import reconcile
from domain.schedule.reminders import remind_appointments
from domain.subscriptions.billing import bill_due
from domain.webhooks.delivery import run_webhook_worker
from mail.sender import mailer_from_settings
from mail.texts import texter_from_settings
from mail.worker import run_worker
from models.db import Database
from models.enums import Channel
from models.idempotency import expire

T = TypeVar("T")

log = logging.getLogger("portico.background")

HOUSEKEEPING_SECONDS = 3600.0  # expired idempotency keys go within the hour


async def expire_idempotency_keys(db: Database) -> int:
    """Delete the idempotency keys older than 24 hours (replays stop at 24 hours anyway)."""
    async with db.engine.begin() as conn:
        return await expire(conn)


async def run_housekeeping(db: Database, stop: asyncio.Event, interval: float) -> None:
    """Every `interval` seconds until `stop`: expire idempotency keys. Safe in several
    processes at once (a delete of what is old)."""
    watch = OutageWatch(log, "housekeeping", interval)
    while not stop.is_set():
        try:
            expired = await expire_idempotency_keys(db)
        except Exception as exc:
            if not watch.failed(exc):
                log.exception("housekeeping failed; it runs again in %s s", interval)
        else:
            watch.succeeded()
            if expired:
                log.info("housekeeping: %d expired idempotency keys deleted", expired)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=watch.wait)


Job = Callable[[Database], Awaitable[object]]
# Jobs that need no provider: they only write rows (and emails to the outbox). Billing
# first, so that an invoice issued today is chased from the same pass.
ALWAYS_JOBS: list[tuple[str, Job]] = [
    ("recurring billing", bill_due),
    ("collections", collect),
    ("monthly statements", send_monthly_statements),
    ("appointment reminders", remind_appointments),
    ("event reminders", remind_event_attendees),
    ("car updates", send_car_updates),
]
STRIPE_JOBS: list[tuple[str, Job]] = [("autopay", run_autopay), ("reconcile", reconcile)]


def scheduled_jobs(settings: Settings) -> list[tuple[str, Job]]:
    """The jobs that need no provider always; the Stripe ones where Stripe is set up."""
    return ALWAYS_JOBS + (STRIPE_JOBS if settings.stripe_secret_key else [])


async def run_jobs(
    db: Database, stop: asyncio.Event, interval: float, jobs: list[tuple[str, Job]]
) -> None:
    """Every `interval` seconds until `stop`: each job is safe to repeat and to overlap
    with other server processes (see domain/payments/autopay.py,
    domain/subscriptions/billing.py)."""
    while not stop.is_set():
        for name, job in jobs:
            try:
                done = await until_stopped(stop, job(db))
            except Exception as exc:
                if database_unavailable(exc):  # an outage needs no stack trace
                    log.warning("%s skipped: database unavailable (%s)", name, exc)
                else:
                    log.exception("%s failed; it runs again in %s s", name, interval)
                continue
            if stop.is_set():
                log.info("%s stopped for shutdown; the next run finishes it", name)
                return
            log.info("%s: %s", name, done)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def until_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """`work`'s result, or None once `stop` is set first: then the work is cancelled. A
    scheduled job may be: each unit of it (an invoice, a reminder, a charge) is one
    transaction that a cancel rolls back and the next run does again, as after a crash, so a
    long catch-up never holds up a shutdown."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


async def run_bulk_invites(db: Database, stop: asyncio.Event, interval: float) -> None:
    """Every `interval` seconds until `stop`: send what the running bulk invites may send
    within their organization's rate (domain/imports/bulk_invites.py). Its own loop, not a
    scheduled job: those run hourly, and invites go out a few every minute. Safe in several
    processes at once (each invite is sent under its item's lock, once)."""
    watch = OutageWatch(log, "bulk invites", interval)
    while not stop.is_set():
        try:
            done = await send_bulk_invites(db)
        except Exception as exc:
            if not watch.failed(exc):
                log.exception("bulk invites failed; they run again in %s s", interval)
        else:
            watch.succeeded()
            if done.sent or done.skipped:
                log.info("bulk invites: %s", done)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=watch.wait)


async def run_background(db: Database, stop: asyncio.Event) -> None:
    """The outbox and webhook workers, the scheduled jobs (those that need Stripe where it is
    configured), until `stop`; returns once all have finished what they had in hand."""
    settings = db.settings
    jobs = scheduled_jobs(settings)
    tasks = [
        asyncio.create_task(run_worker(db, mailer_from_settings(settings), stop)),
        asyncio.create_task(
            run_worker(db, texter_from_settings(settings), stop, channel=Channel.SMS)
        ),
        asyncio.create_task(run_webhook_worker(db, stop)),
        asyncio.create_task(run_housekeeping(db, stop, HOUSEKEEPING_SECONDS)),
        asyncio.create_task(run_bulk_invites(db, stop, settings.bulk_invite_poll_seconds)),
        asyncio.create_task(run_jobs(db, stop, settings.jobs_interval_seconds, jobs)),
    ]
    await asyncio.gather(*tasks)
