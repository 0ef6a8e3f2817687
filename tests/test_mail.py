"""The mail outbox and its worker, against a real SMTP server, on both databases."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import hashlib
import logging
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

import mail.worker as worker
from core.process import process_identity
from core.settings import Settings
from mail.outbox import enqueue
from mail.sender import (
    FileMailer,
    PermanentMailError,
    SmtpMailer,
    TemporaryMailError,
    is_permanent,
    mailer_from_settings,
    server_unreachable,
)
from mail.templates import DEFAULT_COLOR, branded
from mail.worker import deliver_due, run_worker
from models import Customer, MagicLink, Organization
from models.clock import db_now
from models.db import Database
from models.enums import MailKind, OutboxStatus
from models.tables import magic_links as links
from models.writes import add_in_order
from tests.smtp import SmtpServer

outbox = worker.outbox
BOUND = 10  # seconds any single delivery round may take in these tests


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def mail_db(db: Database) -> AsyncIterator[Database]:
    """The database with no pending email from other tests, before and after: counts stay exact."""
    await _drop_pending(db)
    yield db
    await _drop_pending(db)


async def _drop_pending(db: Database) -> None:
    async with db.write() as session:
        await session.execute(sa.delete(outbox).where(outbox.c.status == OutboxStatus.PENDING))


class RecordingMailer:
    """Keeps what it is asked to send, optionally after a delay."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: list[email.message.EmailMessage] = []
        self.arrived = asyncio.Event()

    async def send(self, message: email.message.EmailMessage) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.sent.append(message)
        self.arrived.set()


class HangingMailer:
    async def send(self, message: email.message.EmailMessage) -> None:
        await asyncio.Event().wait()


def address() -> str:
    return f"{uuid.uuid4().hex[:10]}@customer.test"


async def enqueue_some(db: Database, count: int = 1, **kwargs: Any) -> list[uuid.UUID]:
    """`count` staff emails committed in one transaction."""
    async with db.write() as session:
        rows = [
            await enqueue(
                session,
                kind=MailKind.STAFF,
                to=address(),
                subject=f"Test {n}",
                text=f"Hello {n}",
                **kwargs,
            )
            for n in range(count)
        ]
    return [row.id for row in rows]


async def deliver(db: Database, mailer: Any, **kwargs: Any) -> int:
    async with asyncio.timeout(BOUND):
        return await deliver_due(db, mailer, **kwargs)


async def row_of(db: Database, outbox_id: uuid.UUID) -> RowMapping:
    async with db.connect() as conn:
        result = await conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id))
        return result.mappings().one()


async def due_in_future(db: Database, outbox_id: uuid.UUID) -> bool:
    async with db.connect() as conn:
        query = sa.select(outbox.c.next_attempt_at > db_now()).where(outbox.c.id == outbox_id)
        return bool((await conn.execute(query)).scalar_one())


async def make_due(db: Database, ids: list[uuid.UUID]) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(outbox).where(outbox.c.id.in_(ids)).values(next_attempt_at=db_now(-1))
        )


def outbox_ids_of(messages: list[email.message.EmailMessage]) -> list[str]:
    return [str(m["Message-ID"]).strip("<>").split("@")[0] for m in messages]


async def test_enqueue_commits_or_rolls_back_with_its_transaction(mail_db: Database):
    (kept,) = await enqueue_some(mail_db)
    with pytest.raises(RuntimeError):
        async with mail_db.write() as session:
            dropped = await enqueue(
                session, kind=MailKind.STAFF, to=address(), subject="Never", text="Never"
            )
            raise RuntimeError("the causing change failed")
    async with mail_db.connect() as conn:
        found = set(
            (await conn.execute(sa.select(outbox.c.id).where(outbox.c.id.in_([kept, dropped.id]))))
            .scalars()
            .all()
        )
    assert found == {kept}
    assert (await row_of(mail_db, kept))["status"] == OutboxStatus.PENDING


async def test_enqueue_refuses_header_injection(mail_db: Database):
    async with mail_db.write() as session:
        with pytest.raises(ValueError, match="single line"):
            await enqueue(
                session, kind=MailKind.STAFF, to="a@b.test\r\nBcc: x@y.test", subject="S", text="T"
            )


async def test_emails_enqueued_together_are_each_delivered_once(
    mail_db: Database, smtp: SmtpServer
):
    async with mail_db.write() as session:
        first = await enqueue(
            session, kind=MailKind.INVOICES, to="ann@customer.test", subject="Invoice 7", text="Due"
        )
        second = await enqueue(
            session,
            kind=MailKind.RECEIPT,
            to="bob@customer.test",
            subject="Receipt 3",
            text="Thanks",
            html="<p>Thanks</p>",
        )
    mailer = SmtpMailer(smtp.url, timeout=3)

    assert await deliver(mail_db, mailer, mail_from="Shop <shop@portico.test>") == 2

    received = {str(m["To"]): m for m in smtp.messages}
    assert set(received) == {"ann@customer.test", "bob@customer.test"}
    assert len(smtp.messages) == 2
    ann, bob = received["ann@customer.test"], received["bob@customer.test"]
    assert ann["Subject"] == "Invoice 7" and ann["From"] == "Shop <shop@portico.test>"
    assert ann["Message-ID"] == f"<{first.id}@portico.test>"
    assert ann.get_body(("plain",)).get_content().strip() == "Due"
    assert ann.get_body(("html",)) is None
    assert bob.get_content_type() == "multipart/alternative"
    assert bob.get_body(("html",)).get_content().strip() == "<p>Thanks</p>"
    for outbox_id in (first.id, second.id):
        row = await row_of(mail_db, outbox_id)
        assert row["status"] == OutboxStatus.SENT
        assert row["sent_at"] is not None and row["attempts"] == 1

    assert await deliver(mail_db, mailer) == 0
    assert len(smtp.messages) == 2


async def test_smtp_outage_keeps_the_emails_untried_until_the_server_is_back(
    mail_db: Database, smtp: SmtpServer
):
    ids = await enqueue_some(mail_db, 3)
    mailer = SmtpMailer(smtp.url, timeout=3)
    smtp.stop()

    for _ in range(2):
        with pytest.raises(worker.MailServerUnavailable, match="SMTPConnectError"):
            await deliver(mail_db, mailer)

    # The outage is no email's fault: no attempt counted, nothing pushed into the backoff
    # (which would have held them 30 s, then 1 min ... after the server's return).
    rows = [await row_of(mail_db, outbox_id) for outbox_id in ids]
    assert {(row["status"], row["attempts"]) for row in rows} == {(OutboxStatus.PENDING, 0)}
    assert any(row["last_error"].startswith("SMTPConnectError") for row in rows)
    assert not [i for i in ids if await due_in_future(mail_db, i)]

    smtp.start()
    assert await deliver(mail_db, mailer) == 3
    assert await deliver(mail_db, mailer) == 0

    assert sorted(outbox_ids_of(smtp.messages)) == sorted(str(i) for i in ids)
    rows = [await row_of(mail_db, outbox_id) for outbox_id in ids]
    assert {(row["status"], row["attempts"]) for row in rows} == {(OutboxStatus.SENT, 1)}


async def test_an_smtp_outage_is_logged_once_and_its_mail_leaves_when_the_server_returns(
    mail_db: Database, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
):
    mailer = SmtpMailer(smtp.url, timeout=3)
    smtp.stop()
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="portico.mail"):
        task = asyncio.create_task(
            run_worker(mail_db, mailer, stop, interval=0.05, outage_max_wait=0.4)
        )
        try:
            for _ in range(4):  # emails keep coming while the server is down
                await enqueue_some(mail_db, 3)
                await asyncio.sleep(0.3)
            smtp.start()
            back = asyncio.get_running_loop().time()
            for _ in range(int(BOUND / 0.02)):
                if len(smtp.messages) >= 12:
                    break
                await asyncio.sleep(0.02)
            delivered = asyncio.get_running_loop().time() - back
        finally:
            stop.set()
            await asyncio.wait_for(task, BOUND)

    assert len(set(outbox_ids_of(smtp.messages))) == 12
    assert delivered < 2.0  # within one pause (0.4 s here), not the retry backoff's 30 s
    lines = [r for r in caplog.records if r.name == "portico.mail"]
    warnings = [r.getMessage() for r in lines if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("mail server unavailable: mail delivery paused")
    ended = [r.getMessage() for r in lines if "mail server reachable again" in r.getMessage()]
    assert len(ended) == 1, ended
    assert not [r for r in lines if r.exc_info]


async def test_a_451_is_retried_later(mail_db: Database, smtp: SmtpServer):
    (outbox_id,) = await enqueue_some(mail_db)
    mailer = SmtpMailer(smtp.url, timeout=3)
    smtp.handler.refuse = 451

    assert await deliver(mail_db, mailer) == 0
    row = await row_of(mail_db, outbox_id)
    assert row["status"] == OutboxStatus.PENDING and row["attempts"] == 1
    assert "451" in row["last_error"]
    assert await due_in_future(mail_db, outbox_id)

    smtp.handler.refuse = None
    await make_due(mail_db, [outbox_id])
    assert await deliver(mail_db, mailer) == 1
    assert outbox_ids_of(smtp.messages) == [str(outbox_id)]


async def test_a_550_makes_the_email_dead_at_once(mail_db: Database, smtp: SmtpServer):
    (outbox_id,) = await enqueue_some(mail_db)
    mailer = SmtpMailer(smtp.url, timeout=3)
    smtp.handler.refuse = 550

    assert await deliver(mail_db, mailer) == 0
    row = await row_of(mail_db, outbox_id)
    assert row["status"] == OutboxStatus.DEAD and row["attempts"] == 1
    assert "550" in row["last_error"] and row["body_text"] not in row["last_error"]
    assert row["sent_at"] is None

    smtp.handler.refuse = None
    await make_due(mail_db, [outbox_id])
    assert await deliver(mail_db, mailer) == 0
    assert smtp.messages == []


async def test_an_email_that_cannot_be_built_is_dead_at_once(mail_db: Database):
    (outbox_id,) = await enqueue_some(mail_db)
    async with mail_db.write() as session:  # written around enqueue's checks
        await session.execute(
            sa.update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(subject="Hi\r\nBcc: everyone@elsewhere.test")
        )
    mailer = RecordingMailer()

    assert await deliver(mail_db, mailer) == 0

    row = await row_of(mail_db, outbox_id)
    assert (row["status"], row["attempts"]) == (OutboxStatus.DEAD, 1)
    assert row["last_error"].startswith("PermanentMailError: cannot build the message")
    assert mailer.sent == []


async def test_the_last_allowed_attempt_makes_the_email_dead(mail_db: Database, smtp: SmtpServer):
    (outbox_id,) = await enqueue_some(mail_db)
    mailer = SmtpMailer(smtp.url, timeout=3)
    smtp.handler.refuse = 451

    for attempt in (1, 2, 3):
        await make_due(mail_db, [outbox_id])
        assert await deliver(mail_db, mailer, max_attempts=3) == 0
        row = await row_of(mail_db, outbox_id)
        assert row["attempts"] == attempt
        expected = OutboxStatus.DEAD if attempt == 3 else OutboxStatus.PENDING
        assert row["status"] == expected

    smtp.handler.refuse = None
    await make_due(mail_db, [outbox_id])
    assert await deliver(mail_db, mailer, max_attempts=3) == 0
    assert smtp.messages == []


async def test_retries_back_off_exponentially_up_to_an_hour():
    waits = [worker.backoff_seconds(attempt) for attempt in range(1, 10)]
    assert waits[:4] == [30, 60, 120, 240]
    assert waits[-1] == 3600 and waits == sorted(waits)


async def test_a_sign_in_link_lives_from_when_its_email_leaves(mail_db: Database, smtp: SmtpServer):
    async with mail_db.write() as session:
        slug = f"mail-{uuid.uuid4().hex[:8]}"
        org = Organization(name="Link Motors", slug=slug)
        customer = Customer(organization_id=org.id, name="Ann", email="ann@customer.test")
        link = MagicLink(
            organization_id=org.id,
            customer_id=customer.id,
            email="ann@customer.test",
            token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        )
        await add_in_order(session, [link, customer, org])
        queued = await enqueue(
            session,
            kind=MailKind.SIGN_IN,
            to="ann@customer.test",
            subject="Sign in",
            text="https://portal.test/sign-in#token=abc",
            organization_id=org.id,
            magic_link_id=link.id,
        )

    async def link_times() -> tuple[Any, Any]:
        async with mail_db.connect() as conn:
            query = sa.select(links.c.sent_at, links.c.expires_at).where(links.c.id == link.id)
            return tuple((await conn.execute(query)).one())

    assert await link_times() == (None, None)
    mailer = SmtpMailer(smtp.url, timeout=3)
    smtp.handler.refuse = 451
    assert await deliver(mail_db, mailer) == 0
    assert await link_times() == (None, None)  # a failed send does not start the clock

    smtp.handler.refuse = None
    await make_due(mail_db, [queued.id])
    assert await deliver(mail_db, mailer) == 1

    sent_at, expires_at = await link_times()
    assert sent_at is not None and expires_at is not None
    assert abs((expires_at - sent_at) - timedelta(minutes=15)) < timedelta(seconds=1)
    row = await row_of(mail_db, queued.id)
    assert abs(row["sent_at"] - sent_at) < timedelta(seconds=1)


async def test_concurrent_workers_send_each_email_once(mail_db: Database, smtp: SmtpServer):
    ids = await enqueue_some(mail_db, 10)
    mailer = RecordingMailer(delay=0.02)

    async with asyncio.timeout(BOUND):
        counts = await asyncio.gather(deliver_due(mail_db, mailer), deliver_due(mail_db, mailer))

    assert sum(counts) == 10
    assert sorted(outbox_ids_of(mailer.sent)) == sorted(str(i) for i in ids)
    for outbox_id in ids:
        row = await row_of(mail_db, outbox_id)
        assert (row["status"], row["attempts"]) == (OutboxStatus.SENT, 1)
    assert await deliver(mail_db, mailer) == 0


async def test_a_row_claimed_elsewhere_is_skipped_not_waited_for(mail_db: Database):
    if mail_db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: there is no lock to skip")
    ids = await enqueue_some(mail_db, 3)
    mailer = RecordingMailer()
    async with mail_db.write() as other_worker:
        await other_worker.execute(
            sa.select(outbox.c.id).where(outbox.c.id == ids[0]).with_for_update()
        )
        assert await deliver(mail_db, mailer) == 2
    assert sorted(outbox_ids_of(mailer.sent)) == sorted(str(i) for i in ids[1:])
    assert await deliver(mail_db, mailer) == 1
    assert outbox_ids_of(mailer.sent)[-1] == str(ids[0])


async def test_a_hanging_send_is_cut_off_and_retried(
    mail_db: Database, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(worker, "SEND_SECONDS", 0.3)
    (outbox_id,) = await enqueue_some(mail_db)

    assert await deliver(mail_db, HangingMailer()) == 0

    row = await row_of(mail_db, outbox_id)
    assert (row["status"], row["attempts"]) == (OutboxStatus.PENDING, 1)
    assert row["last_error"] == "TimeoutError"
    assert await due_in_future(mail_db, outbox_id)


async def test_a_slow_batch_keeps_its_lease_and_another_worker_takes_none_of_it(
    mail_db: Database,
):
    # Four sends of 0.6 s outlast the 2 s lease: renewals (every 0.4 s) keep it the batch's.
    ids = await enqueue_some(mail_db, 4)
    mailer, other = RecordingMailer(delay=0.6), RecordingMailer()
    first = asyncio.create_task(deliver_due(mail_db, mailer, lease_seconds=2.0))
    await asyncio.sleep(2.2)  # past the lease the claim gave
    assert await deliver_due(mail_db, other, lease_seconds=2.0) == 0
    assert await first == 4
    assert sorted(outbox_ids_of(mailer.sent)) == sorted(str(i) for i in ids)
    assert other.sent == []


async def _lease_to(db: Database, outbox_id: uuid.UUID, holder: str | None) -> None:
    """Lease the row for an hour to `holder`, as a claim of that process would have."""
    async with db.write() as session:
        await session.execute(
            sa.update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(attempts=1, next_attempt_at=db_now(3600), leased_by=holder)
        )


async def test_emails_leased_by_a_killed_sender_go_out_at_once_not_when_the_lease_ends(
    mail_db: Database,
):
    # A real process claims, then dies (SIGKILL); one that lives holds another lease; a
    # holder on another machine (or in another container) cannot be checked from here.
    sleeping = (sys.executable, "-c", "import time; time.sleep(60)")
    dead = await asyncio.create_subprocess_exec(*sleeping)
    alive = await asyncio.create_subprocess_exec(*sleeping)
    try:
        dead_name, alive_name = process_identity(dead.pid), process_identity(alive.pid)
        assert dead_name and alive_name
        dead.send_signal(signal.SIGKILL)
        await dead.wait()
        orphan, kept, remote, unnamed = await enqueue_some(mail_db, 4)
        await _lease_to(mail_db, orphan, dead_name)
        await _lease_to(mail_db, kept, alive_name)
        await _lease_to(
            mail_db, remote, "another-boot/pid:[1]/" + dead_name.rsplit("/", 2)[1] + "/1"
        )
        await _lease_to(mail_db, unnamed, None)
        mailer = RecordingMailer()

        assert await deliver_due(mail_db, mailer) == 1
        assert outbox_ids_of(mailer.sent) == [str(orphan)]
        row = await row_of(mail_db, orphan)
        # The killed sender's claim counted an attempt (it may have sent): this is another.
        assert (row["status"], row["attempts"], row["leased_by"]) == (OutboxStatus.SENT, 2, None)
        for waiting in (kept, remote, unnamed):
            row = await row_of(mail_db, waiting)
            assert (row["status"], row["attempts"]) == (OutboxStatus.PENDING, 1)
            assert await due_in_future(mail_db, waiting)
        # Once the living holder dies too, its email is taken back in the next round.
        alive.send_signal(signal.SIGKILL)
        await alive.wait()
        assert await deliver_due(mail_db, mailer) == 1
        assert outbox_ids_of(mailer.sent)[-1] == str(kept)
    finally:
        for process in (dead, alive):
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_a_claim_names_its_process_and_a_sent_email_names_none(mail_db: Database):
    (outbox_id,) = await enqueue_some(mail_db, 1)
    seen: list[str | None] = []

    class Peeking(RecordingMailer):
        async def send(self, message: email.message.EmailMessage) -> None:
            seen.append((await row_of(mail_db, outbox_id))["leased_by"])
            await super().send(message)

    assert await deliver_due(mail_db, Peeking()) == 1
    assert seen == [process_identity()]
    assert (await row_of(mail_db, outbox_id))["leased_by"] is None


async def test_claimed_rows_go_back_when_the_lease_cannot_be_renewed(
    mail_db: Database, monkeypatch: pytest.MonkeyPatch
):
    async def unreachable(*_args: object) -> set[object]:
        raise ConnectionRefusedError("the database is gone")

    # A lease of 2 s confirmed only by the claim: a send (at most 1 s) may start until
    # 1 s after it; each send takes 0.6 s, so the third is handed back unsent.
    monkeypatch.setattr(worker, "_renew", unreachable)
    ids = await enqueue_some(mail_db, 3)
    mailer = RecordingMailer(delay=0.6)

    assert await deliver_due(mail_db, mailer, lease_seconds=2.0) == 2

    rows = {i: await row_of(mail_db, i) for i in ids}
    sent = {i for i, row in rows.items() if row["status"] == OutboxStatus.SENT}
    assert {str(i) for i in sent} == set(outbox_ids_of(mailer.sent))
    (returned,) = set(ids) - sent
    assert (rows[returned]["status"], rows[returned]["attempts"]) == (OutboxStatus.PENDING, 0)
    assert not await due_in_future(mail_db, returned)


async def test_file_mailer_is_the_default_and_logs_the_link(
    mail_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    mailer = mailer_from_settings(Settings(mail_dir=tmp_path / "mail"))
    assert isinstance(mailer, FileMailer)
    async with mail_db.write() as session:
        row = await enqueue(
            session,
            kind=MailKind.SIGN_IN,
            to="ann@customer.test",
            subject="Your sign-in link",
            text="Sign in: https://portal.test/sign-in#token=abc123\n\nThanks",
            html="<p>Sign in</p>",
        )

    with caplog.at_level(logging.INFO, logger="portico.mail"):
        assert await deliver(mail_db, mailer) == 1

    (path,) = (tmp_path / "mail").iterdir()
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}\.\d{{6}}Z-{row.id}\.eml", path.name)
    saved = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert saved["To"] == "ann@customer.test" and saved["Subject"] == "Your sign-in link"
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "portico.mail"]
    assert "ann@customer.test" in logged and "Your sign-in link" in logged
    assert "https://portal.test/sign-in#token=abc123" in logged
    assert (await row_of(mail_db, row.id))["status"] == OutboxStatus.SENT


def test_smtp_settings_choose_the_smtp_mailer():
    mailer = mailer_from_settings(Settings(smtp_url="smtps://me%40shop.test:p%3Ass@mail.test"))
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.hostname, mailer.port, mailer.use_tls, mailer.start_tls) == (
        "mail.test",
        465,
        True,
        False,
    )
    assert mailer.username == "me@shop.test" and "p:ss" not in repr(mailer)
    plain = SmtpMailer("smtp://mail.test?starttls=1")
    assert (plain.port, plain.use_tls, plain.start_tls, plain.username) == (25, False, True, None)
    assert SmtpMailer("smtp://mail.test:2525").port == 2525
    with pytest.raises(ValueError):
        SmtpMailer("http://mail.test")


def test_an_unreachable_server_is_an_outage_and_a_refusal_is_not():
    assert server_unreachable(aiosmtplib.SMTPConnectError("refused"))
    assert server_unreachable(aiosmtplib.SMTPConnectTimeoutError("no answer"))
    assert server_unreachable(aiosmtplib.SMTPServerDisconnected("gone"))
    assert server_unreachable(ConnectionRefusedError())
    assert server_unreachable(aiosmtplib.SMTPResponseException(421, "closing"))
    assert not server_unreachable(aiosmtplib.SMTPDataError(452, "too busy"))
    assert not server_unreachable(
        aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", "a@b")])
    )
    assert not server_unreachable(TimeoutError())  # a hung send: the email may have gone
    assert not server_unreachable(PermanentMailError("never"))


def test_only_refusals_of_the_message_are_permanent():
    refused = aiosmtplib.SMTPRecipientRefused
    assert is_permanent(aiosmtplib.SMTPRecipientsRefused([refused(550, "no", "a@b.test")]))
    assert not is_permanent(aiosmtplib.SMTPRecipientsRefused([refused(451, "later", "a@b.test")]))
    assert not is_permanent(
        aiosmtplib.SMTPRecipientsRefused(
            [refused(550, "no", "a@b.test"), refused(451, "later", "c@d.test")]
        )
    )
    assert is_permanent(aiosmtplib.SMTPDataError(554, "rejected"))
    assert not is_permanent(aiosmtplib.SMTPDataError(452, "too busy"))
    assert not is_permanent(aiosmtplib.SMTPConnectError("refused"))
    assert not is_permanent(aiosmtplib.SMTPServerDisconnected("gone"))
    assert not is_permanent(aiosmtplib.SMTPAuthenticationError(535, "bad credentials"))
    assert not is_permanent(TimeoutError())
    assert not is_permanent(OSError("network unreachable"))
    assert is_permanent(PermanentMailError("never"))
    assert not is_permanent(TemporaryMailError("later"))


async def test_run_worker_delivers_until_stopped(mail_db: Database):
    (outbox_id,) = await enqueue_some(mail_db)
    mailer = RecordingMailer()
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(mail_db, mailer, stop, interval=0.05))
    try:
        await asyncio.wait_for(mailer.arrived.wait(), BOUND)
    finally:
        stop.set()
        await asyncio.wait_for(task, BOUND)
    assert outbox_ids_of(mailer.sent) == [str(outbox_id)]
    assert task.exception() is None
    assert (await row_of(mail_db, outbox_id))["status"] == OutboxStatus.SENT


@pytest.mark.logs_errors  # provokes an unexpected error on purpose
async def test_run_worker_logs_failures_and_finishes_its_batch_when_stopped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    calls: list[str] = []
    stop = asyncio.Event()

    async def rounds(*args: Any, **kwargs: Any) -> int:
        calls.append("start")
        if len(calls) == 1:
            raise RuntimeError("database went away")
        if len(calls) == 3:
            stop.set()  # asked to stop in the middle of a batch
            await asyncio.sleep(0.05)
            calls.append("finished")
        return 0

    monkeypatch.setattr(worker, "deliver_due", rounds)
    with caplog.at_level(logging.ERROR, logger="portico.mail"):
        await asyncio.wait_for(run_worker(Any, RecordingMailer(), stop, interval=0.01), BOUND)

    assert calls == ["start", "start", "start", "finished"]
    (failure,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failure.exc_info is not None and "database went away" in str(failure.exc_info[1])


def test_branded_email_escapes_what_people_typed():
    org = {
        "name": "<script>alert(1)</script> Motors",
        "brand_color": "#0a7c3e",
        "logo_url": "https://cdn.test/logo.png",
        "email": "desk@motors.test",
        "phone": "+1 555 0100",
        "address": "1 Garage Road",
    }
    text, html = branded(
        org,
        subject="Your invoice",
        heading="Invoice <7>",
        paragraphs=["Total: 5 & 6", "Thanks"],
        button=("Pay now", "https://portal.test/pay?a=1&b=2"),
        footer="Sent to you & yours",
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Motors" in html
    assert "Invoice &lt;7&gt;" in html and "Total: 5 &amp; 6" in html
    assert "background:#0a7c3e" in html
    assert 'href="https://portal.test/pay?a=1&amp;b=2"' in html
    assert 'src="https://cdn.test/logo.png"' in html
    for contact in ("desk@motors.test", "+1 555 0100", "1 Garage Road"):
        assert contact in html and contact in text
    assert "Pay now: https://portal.test/pay?a=1&b=2" in text
    assert "<script>alert(1)</script> Motors" in text and "Invoice <7>" in text
    assert "Sent to you & yours" in text


def test_branding_falls_back_to_portico_and_refuses_odd_colours():
    text, html = branded(None, subject="Hi", heading="Hello", paragraphs=["Body"])
    assert text.startswith("Portico\n") and "Portico" in html
    assert f"background:{DEFAULT_COLOR}" in html and "<a " not in html
    _, odd = branded(
        {"name": "Shop", "brand_color": "red;background:url(x)", "logo_url": "javascript:x"},
        subject="Hi",
        heading="Hello",
        paragraphs=[],
    )
    assert "url(x)" not in odd and "javascript" not in odd
    assert f"background:{DEFAULT_COLOR}" in odd
