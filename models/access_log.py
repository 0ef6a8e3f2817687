"""Who in the portal looked at what: every view or download of a document, invoice or
estimate by a portal viewer, per person. Staff previews are never written here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, new_id, table_of
from models.enums import AccessAction
from models.types import utcnow

if TYPE_CHECKING:
    from models.db import Database

log = logging.getLogger("portico.access_log")


class AccessLog(TenantRow, table=True):
    __tablename__ = "access_logs"
    __table_args__ = (
        sa.Index("ix_access_logs_subject", "organization_id", "subject_type", "subject_id"),
    )

    subject_type: str = Field(max_length=40)  # Document, Invoice, Estimate
    subject_id: uuid.UUID
    action: AccessAction = enum_field(AccessAction)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)


class AccessLogBuffer:
    """Access-log rows written in batches, off the request path.

    A request hands its rows over and goes on; a background writer (started by the app's
    lifespan, `run`) inserts what has gathered every FLUSH_SECONDS in one statement, or
    sooner once MAX_PENDING rows wait, and writes the rest when the process stops. Without
    a running writer (scripts, tests without a lifespan) rows are written at once. Rows the
    database refused (an outage) wait for the next flush, up to MAX_KEPT.
    """

    FLUSH_SECONDS = 0.5
    MAX_PENDING = 500
    MAX_KEPT = 50_000

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: list[dict[str, Any]] = []
        self.running = False
        self._full = asyncio.Event()
        self._failing = False

    async def add(self, rows: list[dict[str, Any]]) -> None:
        self.pending.extend(rows)
        if not self.running:
            await self.flush()
        elif len(self.pending) >= self.MAX_PENDING:
            self._full.set()

    async def flush(self) -> None:
        rows, self.pending = self.pending, []
        if not rows:
            return
        try:
            async with self.db.write() as session:
                await session.execute(sa.insert(table_of(AccessLog)), rows)
        except Exception as exc:  # the rows wait for the next flush
            self.pending = (rows + self.pending)[-self.MAX_KEPT :]
            if not self._failing:
                log.warning("access log not written, kept for later: %s", exc)
            self._failing = True
            if not self.running:
                raise
        else:
            if self._failing:
                log.info("access log written again")
            self._failing = False

    async def run(self, stop: asyncio.Event) -> None:
        """Flush until `stop` is set, then once more."""
        self.running = True
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.FLUSH_SECONDS):
                        await _first_of(stop.wait(), self._full.wait())
                self._full.clear()
                await self.flush()
        finally:
            self.running = False
            await self.flush()


async def _first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def access_row(
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    subject: tuple[str, uuid.UUID],
    action: AccessAction,
    *,
    ip: str | None,
    user_agent: str | None,
) -> dict[str, Any]:
    """One access-log row, as the buffer inserts it."""
    now = utcnow()
    return {
        "id": new_id(),
        "created_at": now,
        "updated_at": now,
        "organization_id": organization_id,
        "subject_type": subject[0],
        "subject_id": subject[1],
        "action": action,
        "customer_id": customer_id,
        "contact_id": contact_id,
        "ip": ip,
        "user_agent": (user_agent or "")[:500] or None,
    }
