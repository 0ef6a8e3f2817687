"""Background delivery apart from the server: several workers on one outbox, and the
`portico worker` command."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from core.settings import Settings, settings_from_env
from mail.sender import SmtpMailer, mailer_from_settings
from mail.worker import run_worker
from models.db import Database
from tests import test_mail
from tests.smtp import CapturingHandler, SmtpServer
from tests.test_mail import enqueue_some

mail_db = test_mail.mail_db  # the database without other tests' pending email

BOUND = 20.0  # seconds for a whole test


def _message_ids(smtp: SmtpServer) -> Counter[str]:
    return Counter(m["Message-ID"].strip("<>").split("@")[0] for m in smtp.messages)


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


async def test_two_worker_processes_send_each_email_once(mail_db: Database, smtp: SmtpServer):
    """Two workers with pools of their own, as two processes have, drain one outbox."""
    settings = settings_from_env({"DATABASE_URL": mail_db.settings.database_url})
    smtp_settings = Settings(smtp_url=smtp.url)
    workers = [Database(settings), Database(settings)]
    ids = await enqueue_some(mail_db, 40)
    stop = asyncio.Event()
    running = [
        asyncio.create_task(
            run_worker(db, mailer_from_settings(smtp_settings), stop, interval=0.05, batch=3)
        )
        for db in workers
    ]
    try:
        await _until(lambda: len(smtp.messages) >= len(ids), BOUND)
        await asyncio.sleep(0.3)  # a duplicate would arrive now
    finally:
        stop.set()
        await asyncio.gather(*running)
        for db in workers:
            await db.dispose()
    sent = _message_ids(smtp)
    assert sorted(sent) == sorted(str(i) for i in ids)
    assert set(sent.values()) == {1}


async def test_portico_worker_delivers_the_outbox_and_stops_on_sigterm(
    mail_db: Database, smtp: SmtpServer
):
    ids = await enqueue_some(mail_db, 3)
    env = {
        **os.environ,
        "DATABASE_URL": mail_db.settings.database_url,
        "SMTP_URL": smtp.url,
        "STRIPE_SECRET_KEY": "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portico.cli",
        "worker",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await _until(lambda: len(smtp.messages) >= len(ids), BOUND)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(BOUND):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output.decode()
    assert sorted(_message_ids(smtp)) == sorted(str(i) for i in ids)
    assert b"worker stopped" in output


class HoldingHandler(CapturingHandler):
    """Keeps each message as it arrives, then holds the answer `hold` seconds: a sender
    killed meanwhile has had its email accepted without hearing so."""

    def __init__(self, hold: float) -> None:
        super().__init__()
        self.hold = hold

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.hold)
        return answer


async def test_a_worker_killed_mid_batch_leaves_its_mail_to_another_within_seconds(
    mail_db: Database,
):
    lease = 3.0
    smtp = SmtpServer()
    smtp.handler = HoldingHandler(hold=2.0)
    smtp.start()
    ids = await enqueue_some(mail_db, 5)
    env = {
        **os.environ,
        "DATABASE_URL": mail_db.settings.database_url,
        "SMTP_URL": smtp.url,
        "STRIPE_SECRET_KEY": "",
        "MAIL_LEASE_SECONDS": str(lease),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portico.cli", "worker", env=env, stdout=subprocess.DEVNULL
    )
    stop = asyncio.Event()
    other = Database(settings_from_env({"DATABASE_URL": mail_db.settings.database_url}))
    try:
        await _until(lambda: len(smtp.messages) >= 1, BOUND)
        process.kill()  # SIGKILL, mid-send: the server has the email, the worker no answer
        await process.wait()
        killed = time.monotonic()
        smtp.handler.hold = 0.0
        mailer = SmtpMailer(smtp.url)
        second = asyncio.create_task(
            run_worker(other, mailer, stop, interval=0.1, lease_seconds=lease)
        )
        await _until(lambda: set(_message_ids(smtp)) >= {str(i) for i in ids}, BOUND)
        recovered = time.monotonic() - killed
        await asyncio.sleep(0.5)  # a further duplicate would arrive now
        stop.set()
        await second
    finally:
        stop.set()
        if process.returncode is None:
            process.kill()
            await process.wait()
        await other.dispose()
        smtp.stop()
    print(f"mail of a SIGKILLed worker sent by another {recovered:.1f} s after the kill")
    # Within the lease and a poll or two, not the old five minutes.
    assert recovered < lease + 2.0
    sent = _message_ids(smtp)
    assert sorted(sent) == sorted(str(i) for i in ids)
    # The one in flight went out twice, recognisably the same message; nothing else did.
    (resent,) = [outbox_id for outbox_id, n in sent.items() if n == 2]
    assert set(sent.values()) == {1, 2}
    copies = [m for m in smtp.messages if resent in m["Message-ID"]]
    assert len({m["Message-ID"] for m in copies}) == 1
    assert len({m["Subject"] for m in copies}) == 1


def test_serve_runs_the_worker_unless_told_otherwise():
    assert settings_from_env({}).run_worker_in_server
    assert settings_from_env({"RUN_WORKER_IN_SERVER": "true"}).run_worker_in_server
    assert not settings_from_env({"RUN_WORKER_IN_SERVER": "false"}).run_worker_in_server
