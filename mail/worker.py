"""Delivering the outbox: at least once, retried with backoff, never silently lost.

A worker claims due rows in a short transaction by leasing them (`next_attempt_at` pushed
a short lease ahead, `attempts` counted), sends outside any transaction, then records the
outcome in a second one. While it works through a batch it renews the lease of the rows
it still holds every fifth of the lease, so a lease only runs out when its worker is gone
(killed, or cut off from the database): its emails are then claimed again within the lease
(MAIL_LEASE_SECONDS, 20 s), not minutes later. Other workers skip leased rows (`FOR UPDATE
SKIP LOCKED` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises the claims). A lease
names the process that holds it (`leased_by`, core/process.py): a worker on the same
machine that finds the holder gone (killed: a worker of `serve --workers N`, or the whole
server before a restart) takes its emails back at the start of its next round, so a crash
delays mail by about a second, not by the lease.

The guarantee: every email is sent at least once. A worker sends a row only while its lease
is confirmed for longer than a send may take, and a renewal holds only rows nobody claimed
since (`attempts` unchanged), so two live workers never send one email; a duplicate is
possible only across a crash, when a worker dies (or loses the database) after the SMTP
server accepted an email and before it recorded it sent. The resend carries the same
`Message-ID` (the outbox row's), so it is recognisably the same message.

A mail server that cannot be reached (refused or dropped connection, 421) is an outage, not
a failure of the email in hand: the batch stops, its unsent emails go back as they were (no
attempt counted, due at once), and the worker logs one warning, tries again less and less
often (up to every 30 s) and logs one line when a send succeeds again. So an outage of any
length neither kills emails nor spreads their next tries out over the backoff: they all go
out within one pause of the server's return.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import email.utils
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from auth.magic_links import start_link_clock
from core.outage_watch import MAX_WAIT_SECONDS, OutageWatch
from core.process import process_gone, process_identity
from mail.sender import Mailer, PermanentMailError, is_permanent, server_unreachable
from mail.texts import RecipientOptedOut, Text, TextSender, opt_out
from models.clock import db_now
from models.db import Database
from models.enums import Channel, OutboxStatus
from models.tables import outbox_emails as outbox
from storage import FileMissing, read_bytes, storage_from_settings

logger = logging.getLogger("portico.mail")


# The longest one send may take; within a lease, at most half of it (`_send_bound`).
SEND_SECONDS = 60.0
MIN_LEASE_SECONDS = 1.0
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
ERROR_LIMIT = 2000


class MailServerUnavailable(Exception):
    """The mail server could not be reached: `deliver_due` stopped and put the batch back."""


def backoff_seconds(attempts: int) -> int:
    """Wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min ... 1 h."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


def build_message(row: Mapping[Any, Any], mail_from: str) -> email.message.EmailMessage:
    """The email for one outbox row; its Message-ID is the row's, so retries are recognisable."""
    domain = email.utils.parseaddr(mail_from)[1].rpartition("@")[2] or "portico.invalid"
    message = email.message.EmailMessage()
    name, address = email.utils.parseaddr(mail_from)
    from_name = row.get("from_name")
    message["From"] = email.utils.formataddr((from_name or name, address)) if address else mail_from
    if row.get("reply_to"):
        message["Reply-To"] = row["reply_to"]
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = f"<{row['id']}@{domain}>"
    message.set_content(row["body_text"])
    if row["body_html"]:
        message.add_alternative(row["body_html"], subtype="html")
    return message


async def _attach(
    db: Database, row: Mapping[Any, Any], message: email.message.EmailMessage
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
    mailer: Mailer | TextSender,
    *,
    channel: Channel = Channel.EMAIL,
    batch: int = 20,
    max_attempts: int = 8,
    link_minutes: int | None = None,
    mail_from: str | None = None,
    lease_seconds: float | None = None,
) -> int:
    """Send up to `batch` due emails; returns how many were sent. Raises
    `MailServerUnavailable` when the mail server cannot be reached, having put the emails
    not sent back as they were.

    `link_minutes`, `mail_from` and `lease_seconds` default to the database's settings
    (MAGIC_LINK_MINUTES, MAIL_FROM, MAIL_LEASE_SECONDS). `channel` says which rows this
    worker sends, and `mailer` is that channel's transport: a `Mailer` for EMAIL, a
    `TextSender` for SMS (texts have their own worker, so a text provider's outage never
    holds email up, nor the other way round).
    """
    minutes = db.settings.magic_link_minutes if link_minutes is None else link_minutes
    sender = mail_from or db.settings.mail_from
    lease = max(lease_seconds or db.settings.mail_lease_seconds, MIN_LEASE_SECONDS)
    await reclaim_from_the_gone(db)
    held = Lease(db, lease)
    rows = await held.claim(batch, channel)
    if not rows:
        return 0
    renewing = asyncio.create_task(held.keep_renewed(), name="mail lease")
    sent = 0
    try:
        for index, row in enumerate(rows):
            if not held.holds(row["id"]):
                continue  # its lease ran out and another worker has it now
            if not held.lasts(_send_bound(lease)):
                # Not sure the lease outlives a send (the database is not answering):
                # stop, and hand back what is left if it can still be reached.
                await _release(db, held.still_held(rows[index:]))
                break
            try:
                if await _deliver_one(db, mailer, row, sender, minutes, max_attempts, lease):
                    sent += 1
            except MailServerUnavailable as down:
                # Not this email's fault: it and the rest go back untried, for after the
                # outage (the caller pauses); the email in hand says why it waits.
                await _release(db, held.still_held(rows[index:]), (row["id"], str(down)))
                raise
            held.done(row["id"])
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    return sent


def _send_bound(lease: float) -> float:
    return min(SEND_SECONDS, lease / 2)


async def _deliver_one(
    db: Database,
    mailer: Mailer | TextSender,
    row: RowMapping,
    sender: str,
    minutes: int,
    max_attempts: int,
    lease: float,
) -> bool:
    attempt = row["attempts"] + 1
    message: email.message.EmailMessage | Text
    try:
        if row["channel"] == Channel.SMS:
            message = Text(to=row["to_address"], body=row["body_text"], reference=str(row["id"]))
        else:
            message = build_message(row, sender)
            await _attach(db, row, message)
    except (ValueError, TypeError, FileMissing) as exc:  # no retry will make it valid
        failure = PermanentMailError(f"cannot build the message: {exc}")
        await _record_failure(db, row, attempt, max_attempts, failure)
        return False
    try:
        async with asyncio.timeout(_send_bound(lease)):
            provider_id = await _send(mailer, message)
    except Exception as exc:
        if server_unreachable(exc):
            raise MailServerUnavailable(describe(exc)) from None
        await _record_failure(db, row, attempt, max_attempts, exc)
        if isinstance(exc, RecipientOptedOut) and row["organization_id"] is not None:
            async with db.write() as session:  # the provider's block, kept as ours
                await opt_out(session, [row["organization_id"]], row["to_address"])
        return False
    await _record_sent(db, row, minutes, provider_id)
    return True


async def _send(
    transport: Mailer | TextSender, message: email.message.EmailMessage | Text
) -> str | None:
    """Hand `message` to its channel's transport; the provider's id for it, if any."""
    if isinstance(message, Text):
        return await cast(TextSender, transport).send(message)
    await cast(Mailer, transport).send(message)
    return None


class Lease:
    """The rows one batch claimed, and until when their lease is known to last.

    A row is held under the `attempts` value the claim gave it: a renewal extends only rows
    still PENDING with that value, so a row another worker claimed after the lease ran out
    (which counted another attempt) is not taken back.
    """

    def __init__(self, db: Database, seconds: float) -> None:
        self.db = db
        self.seconds = seconds
        self._held: dict[uuid.UUID, int] = {}
        self._confirmed_at = 0.0

    async def claim(self, batch: int, channel: Channel) -> Sequence[RowMapping]:
        started = asyncio.get_running_loop().time()
        rows = await _claim(self.db, batch, self.seconds, channel)
        self._held = {row["id"]: row["attempts"] + 1 for row in rows}
        self._confirmed_at = started
        return rows

    def holds(self, row_id: uuid.UUID) -> bool:
        return row_id in self._held

    def still_held(self, rows: Sequence[RowMapping]) -> dict[uuid.UUID, int]:
        return {row["id"]: self._held[row["id"]] for row in rows if row["id"] in self._held}

    def done(self, row_id: uuid.UUID) -> None:
        self._held.pop(row_id, None)

    def lasts(self, seconds: float) -> bool:
        """Whether the lease is known to last `seconds` more (from the last renewal)."""
        now = asyncio.get_running_loop().time()
        return self._confirmed_at + self.seconds - now >= seconds

    async def keep_renewed(self) -> None:
        """Renew every fifth of the lease until cancelled; a failed renewal is retried at
        the next turn (meanwhile `lasts` runs down, and sending stops in time)."""
        while True:
            await asyncio.sleep(self.seconds / 5)
            started = asyncio.get_running_loop().time()
            wanted = dict(self._held)
            if not wanted:
                continue
            try:
                kept = await _renew(self.db, wanted, self.seconds)
            except Exception as exc:
                logger.debug("mail lease renewal failed: %s", exc)
                continue
            for row_id in set(wanted) - kept:
                self._held.pop(row_id, None)
            self._confirmed_at = started


async def reclaim_from_the_gone(db: Database) -> int:
    """Make due again the emails leased by processes that are surely gone; how many."""
    leased = (outbox.c.status == OutboxStatus.PENDING) & (outbox.c.next_attempt_at > db_now())
    holding = sa.select(outbox.c.leased_by).where(leased, outbox.c.leased_by.is_not(None))
    async with db.connect() as conn:
        holders = (await conn.execute(holding.distinct())).scalars().all()
    gone = [holder for holder in holders if process_gone(holder)]
    if not gone:
        return 0
    async with db.write() as session:
        taken = await session.execute(
            sa.update(outbox)
            .where(leased, outbox.c.leased_by.in_(gone))
            # Due since they were written: back in their place at the head of the line.
            .values(next_attempt_at=outbox.c.created_at, leased_by=None, updated_at=db_now())
            .returning(outbox.c.id)
        )
        count = len(taken.all())
    if count:
        logger.info("took back %d emails leased by a sender that is gone (%s)", count, gone)
    return count


async def _claim(db: Database, batch: int, lease: float, channel: Channel) -> Sequence[RowMapping]:
    async with db.write() as session:
        due = (
            sa.select(outbox)
            .where(
                outbox.c.status == OutboxStatus.PENDING,
                outbox.c.next_attempt_at <= db_now(),
                outbox.c.channel == channel,
            )
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
                    next_attempt_at=db_now(lease),
                    leased_by=process_identity(),
                    updated_at=db_now(),
                )
            )
    return rows


async def _renew(db: Database, held: dict[uuid.UUID, int], lease: float) -> set[uuid.UUID]:
    """Extend the lease of the rows still held (PENDING, attempts as claimed); their ids."""
    async with db.write() as session:
        renewed = await session.execute(
            sa.update(outbox)
            .where(
                sa.tuple_(outbox.c.id, outbox.c.attempts).in_(list(held.items())),
                outbox.c.status == OutboxStatus.PENDING,
            )
            .values(next_attempt_at=db_now(lease), updated_at=db_now())
            .returning(outbox.c.id)
        )
        return set(renewed.scalars())


async def _release(
    db: Database, held: dict[uuid.UUID, int], error: tuple[uuid.UUID, str] | None = None
) -> None:
    """Hand back claimed rows this worker will not send now, as they were (unless another
    worker has claimed them since); `error` is the last error of one of them."""
    if not held:
        return
    async with db.write() as session:
        await session.execute(
            sa.update(outbox)
            .where(
                sa.tuple_(outbox.c.id, outbox.c.attempts).in_(list(held.items())),
                outbox.c.status == OutboxStatus.PENDING,
            )
            .values(
                attempts=outbox.c.attempts - 1,
                next_attempt_at=db_now(),
                leased_by=None,
                updated_at=db_now(),
            )
        )
        if error is not None and error[0] in held:
            await session.execute(
                sa.update(outbox)
                .where(outbox.c.id == error[0], outbox.c.status == OutboxStatus.PENDING)
                .values(last_error=error[1][:ERROR_LIMIT])
            )


async def _record_sent(
    db: Database, row: RowMapping, link_minutes: int, provider_id: str | None = None
) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(outbox)
            .where(outbox.c.id == row["id"])
            .values(
                status=OutboxStatus.SENT,
                sent_at=db_now(),
                leased_by=None,
                updated_at=db_now(),
                provider_id=provider_id,
            )
        )
        if row["magic_link_id"] is not None:
            await start_link_clock(session, row["magic_link_id"], link_minutes)


async def _record_failure(
    db: Database, row: RowMapping, attempt: int, max_attempts: int, exc: Exception
) -> None:
    error = describe(exc)
    values: dict[str, Any] = {"last_error": error, "leased_by": None, "updated_at": db_now()}
    if is_permanent(exc) or attempt >= max_attempts:
        values["status"] = OutboxStatus.DEAD
        # A dead email is for staff to see (bounces), not a fault of Portico: a warning.
        logger.warning("mail %s to %s is dead after %d attempt(s): %s", *_who(row), attempt, error)
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
    mailer: Mailer | TextSender,
    stop: asyncio.Event,
    *,
    channel: Channel = Channel.EMAIL,
    interval: float = 1.0,
    batch: int = 20,
    max_attempts: int = 8,
    link_minutes: int | None = None,
    mail_from: str | None = None,
    outage_max_wait: float = MAX_WAIT_SECONDS,
    lease_seconds: float | None = None,
) -> None:
    """Deliver until `stop` is set; a failing round is logged and the next one tries again.
    While the database or the mail server is unreachable the outage is logged once, when it
    starts and when it ends (for the mail server: when an email goes out again), and rounds
    come less often (up to `outage_max_wait` apart).

    Meant as an application lifespan task: set `stop` and await the task to finish the
    batch in hand.
    """
    what = "text delivery" if channel == Channel.SMS else "mail delivery"
    watch = OutageWatch(logger, what, interval, outage_max_wait)
    server = OutageWatch(
        logger,
        what,
        interval,
        outage_max_wait,
        service="text provider" if channel == Channel.SMS else "mail server",
        is_outage=lambda exc: isinstance(exc, MailServerUnavailable),
    )
    while not stop.is_set():
        try:
            sent = await deliver_due(
                db,
                mailer,
                channel=channel,
                batch=batch,
                max_attempts=max_attempts,
                link_minutes=link_minutes,
                mail_from=mail_from,
                lease_seconds=lease_seconds,
            )
        except Exception as exc:
            # The mail server's outage first: its error is no database's.
            if not (server.failed(exc) or watch.failed(exc)):
                logger.exception("%s round failed", what)
            sent = 0
        else:
            watch.succeeded()
            if sent:  # a round with nothing due says nothing of the mail server
                server.succeeded()
        if sent >= batch:
            continue  # a full batch went out: more may be waiting
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(watch.wait, server.wait)):
                await stop.wait()
