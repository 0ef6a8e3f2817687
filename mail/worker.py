"""Delivering the outbox: each email sent once, retried with backoff, never silently lost.

A worker claims due rows in a short transaction by leasing them (`next_attempt_at` pushed
ahead, `attempts` counted), sends outside any transaction, then records the outcome in a
second one. Other workers skip leased rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
`BEGIN IMMEDIATE` serialises the claims), so several workers never send the same email. A
worker that dies mid-send leaves its rows to be claimed again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import email.utils
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from auth.magic_links import start_link_clock
from mail.sender import Mailer, PermanentMailError, is_permanent
from models import OutboxEmail
from models.clock import db_now
from models.db import Database
from models.enums import OutboxStatus
from portico.outage_watch import MAX_WAIT_SECONDS, OutageWatch
from storage import FileMissing, read_bytes, storage_from_settings

logger = logging.getLogger("portico.mail")

outbox: sa.Table = OutboxEmail.__table__  # type: ignore[attr-defined]

# A claimed row is invisible to other workers for LEASE_SECONDS. One send may take at most
# SEND_SECONDS, and no send starts later than LEASE_SECONDS - 2 * SEND_SECONDS after the
# claim, so a live worker always finishes (and records) a send before its lease runs out.
LEASE_SECONDS = 300
SEND_SECONDS = 60.0
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
ERROR_LIMIT = 2000


def backoff_seconds(attempts: int) -> int:
    """Wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min ... 1 h."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


def build_message(row: Mapping[str, Any], mail_from: str) -> email.message.EmailMessage:
    """The email for one outbox row; its Message-ID is the row's, so retries are recognisable."""
    domain = email.utils.parseaddr(mail_from)[1].rpartition("@")[2] or "portico.invalid"
    message = email.message.EmailMessage()
    message["From"] = mail_from
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = f"<{row['id']}@{domain}>"
    message.set_content(row["body_text"])
    if row["body_html"]:
        message.add_alternative(row["body_html"], subtype="html")
    return message


async def _attach(
    db: Database, row: Mapping[str, Any], message: email.message.EmailMessage
) -> None:
    if not row["attachment_key"]:
        return
    data = await read_bytes(storage_from_settings(db.settings), row["attachment_key"])
    maintype, _, subtype = (row["attachment_type"] or "application/octet-stream").partition("/")
    message.add_attachment(
        data, maintype=maintype, subtype=subtype, filename=row["attachment_filename"] or "file"
    )


async def deliver_due(
    db: Database,
    mailer: Mailer,
    *,
    batch: int = 20,
    max_attempts: int = 8,
    link_minutes: int | None = None,
    mail_from: str | None = None,
) -> int:
    """Send up to `batch` due emails; returns how many were sent.

    `link_minutes` and `mail_from` default to the database's settings (MAGIC_LINK_MINUTES,
    MAIL_FROM).
    """
    minutes = db.settings.magic_link_minutes if link_minutes is None else link_minutes
    sender = mail_from or db.settings.mail_from
    loop = asyncio.get_running_loop()
    claimed_at = loop.time()
    rows = await _claim(db, batch)
    sent = 0
    for index, row in enumerate(rows):
        if loop.time() - claimed_at > LEASE_SECONDS - 2 * SEND_SECONDS:
            await _release(db, rows[index:])
            break
        attempt = row["attempts"] + 1
        try:
            message = build_message(row, sender)
            await _attach(db, row, message)
        except (ValueError, TypeError, FileMissing) as exc:  # no retry will make it valid
            failure = PermanentMailError(f"cannot build the message: {exc}")
            await _record_failure(db, row, attempt, max_attempts, failure)
            continue
        try:
            async with asyncio.timeout(SEND_SECONDS):
                await mailer.send(message)
        except Exception as exc:
            await _record_failure(db, row, attempt, max_attempts, exc)
            continue
        await _record_sent(db, row, minutes)
        sent += 1
    return sent


async def _claim(db: Database, batch: int) -> Sequence[RowMapping]:
    async with db.write() as session:
        due = (
            sa.select(outbox)
            .where(outbox.c.status == OutboxStatus.PENDING, outbox.c.next_attempt_at <= db_now())
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        rows = (await session.execute(due)).mappings().all()
        if rows:
            await session.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_([row["id"] for row in rows]))
                .values(
                    attempts=outbox.c.attempts + 1,
                    next_attempt_at=db_now(LEASE_SECONDS),
                    updated_at=db_now(),
                )
            )
    return rows


async def _release(db: Database, rows: Sequence[RowMapping]) -> None:
    """Hand back claimed rows this worker has no time left to send, as they were."""
    async with db.write() as session:
        await session.execute(
            sa.update(outbox)
            .where(
                outbox.c.id.in_([row["id"] for row in rows]),
                outbox.c.status == OutboxStatus.PENDING,
            )
            .values(attempts=outbox.c.attempts - 1, next_attempt_at=db_now(), updated_at=db_now())
        )


async def _record_sent(db: Database, row: RowMapping, link_minutes: int) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(outbox)
            .where(outbox.c.id == row["id"])
            .values(status=OutboxStatus.SENT, sent_at=db_now(), updated_at=db_now())
        )
        if row["magic_link_id"] is not None:
            await start_link_clock(session, row["magic_link_id"], link_minutes)


async def _record_failure(
    db: Database, row: RowMapping, attempt: int, max_attempts: int, exc: Exception
) -> None:
    error = describe(exc)
    values: dict[str, Any] = {"last_error": error, "updated_at": db_now()}
    if is_permanent(exc) or attempt >= max_attempts:
        values["status"] = OutboxStatus.DEAD
        logger.error("mail %s to %s is dead after %d attempt(s): %s", *_who(row), attempt, error)
    else:
        values["next_attempt_at"] = db_now(backoff_seconds(attempt))
        logger.warning("mail %s to %s failed (attempt %d): %s", *_who(row), attempt, error)
    async with db.write() as session:
        await session.execute(sa.update(outbox).where(outbox.c.id == row["id"]).values(**values))


def _who(row: RowMapping) -> tuple[uuid.UUID, str]:
    return row["id"], row["to_address"]


def describe(exc: BaseException) -> str:
    """What staff see in `last_error`: the error's type and the server's words, not the body."""
    text = str(exc)
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:ERROR_LIMIT]


async def run_worker(
    db: Database,
    mailer: Mailer,
    stop: asyncio.Event,
    *,
    interval: float = 1.0,
    batch: int = 20,
    max_attempts: int = 8,
    link_minutes: int | None = None,
    mail_from: str | None = None,
    outage_max_wait: float = MAX_WAIT_SECONDS,
) -> None:
    """Deliver until `stop` is set; a failing round is logged and the next one tries again.
    While the database is unreachable the outage is logged once, when it starts and when
    it ends, and rounds come less often (up to `outage_max_wait` apart).

    Meant as an application lifespan task: set `stop` and await the task to finish the
    batch in hand.
    """
    watch = OutageWatch(logger, "mail delivery", interval, outage_max_wait)
    while not stop.is_set():
        try:
            sent = await deliver_due(
                db,
                mailer,
                batch=batch,
                max_attempts=max_attempts,
                link_minutes=link_minutes,
                mail_from=mail_from,
            )
        except Exception as exc:
            if not watch.failed(exc):
                logger.exception("mail delivery round failed")
            sent = 0
        else:
            watch.succeeded()
        if sent >= batch:
            continue  # a full batch went out: more may be waiting
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(watch.wait):
                await stop.wait()
