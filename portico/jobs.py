"""Scheduled work run by the server process: autopay, reconciling online payments, and
reminding event attendees."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from models.db import Database
from payments.autopay import run_autopay
from payments.reconcile import reconcile
from resolvers.event_mail import remind_event_attendees

log = logging.getLogger("portico.jobs")


async def run_jobs(db: Database, stop: asyncio.Event, interval: float) -> None:
    """Every `interval` seconds until `stop`: each job is safe to repeat and to overlap
    with other server processes (see payments/autopay.py)."""
    while not stop.is_set():
        for name, job in (
            ("autopay", run_autopay),
            ("reconcile", reconcile),
            ("event reminders", remind_event_attendees),
        ):
            try:
                done = await job(db)
                log.info("%s: %s", name, done)
            except Exception:
                log.exception("%s failed; it runs again in %s s", name, interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
