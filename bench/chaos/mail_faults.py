"""The chaos scenarios about mail: a server worker SIGKILLed while it sends, and the SMTP
server gone for a minute. Both run writes whose transaction enqueues an email (staff send a
message to a new customer: `sendMessage` emails the first message of an unread run to the
customer's address), against a real SMTP server (tests/smtp.py) set as SMTP_URL, so the
server's own outbox worker delivers them.

Each email is followed from its write to the SMTP server: the outbox row committed with the
message, and the message the SMTP server received with that row's Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.chaos.load import (
    BROKEN_PAUSE_SECONDS,
    CREATE,
    Step,
    Tally,
    error_code,
    mixed_steps,
    percentile,
    request,
    run_clients,
)
from bench.chaos.scenarios import (
    OUTAGE_OUTCOMES,
    Report,
    _parent,
    _site,
    check_writes,
    ms,
    recovery_seconds,
)
from bench.chaos.site import Site
from bench.chaos.wire import Connection, split_url
from bench.queries import STAFF_LIST
from core.outage_watch import MAX_WAIT_SECONDS
from tests.private_postgres import PrivatePostgres
from tests.served import start_server, stop_server
from tests.smtp import CapturingHandler, SmtpServer

SEND = """
mutation M($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id } userErrors { code } }
}
"""
MAIL_DOMAIN = "mail.test"  # the customers' addresses: only the scenario's emails go there
# A killed worker's leased emails must go out within this: seconds, not minutes. The other
# worker takes them back when its round ends (the batch it has in hand, 20 emails at
# RELAY_SECONDS, then a pause of a second) and sends them first (20 more at RELAY_SECONDS).
LEASED_MAIL_BOUND = 12.0
DRAIN_BOUND = 120.0  # seconds for the outbox to empty once the load stops
# The relay's time to accept one message (a real one, across the network, takes as long):
# a worker is mid-send often enough to be killed there.
RELAY_SECONDS = 0.2
SHED = {"503 OVERLOADED"}  # the shipped admission bound: a client now and then waits a turn


class RelayHandler(CapturingHandler):
    """Accepts each message (keeps it), then takes `delay` seconds to answer, and says which
    client connections are in that moment: a sender killed then has had its email accepted
    without knowing it."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self._answering: set[int] = set()

    def answering(self) -> set[int]:
        """The client ports of the connections waiting for the answer to their message."""
        with self._lock:
            return set(self._answering)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        port = int(session.peer[1])
        with self._lock:
            self._answering.add(port)
        try:
            await asyncio.sleep(self.delay)
        finally:
            with self._lock:
                self._answering.discard(port)
        return answer


def relay(delay: float = 0.0) -> tuple[SmtpServer, RelayHandler]:
    smtp = SmtpServer()
    smtp.handler = handler = RelayHandler(delay)
    smtp.start()
    return smtp, handler


@dataclass(frozen=True)
class Outbox:
    """The scenario's outbox rows at the end: id, address, status, attempts, sent_at."""

    rows: list[asyncpg.Record]

    @property
    def by_address(self) -> dict[str, list[asyncpg.Record]]:
        found: dict[str, list[asyncpg.Record]] = {}
        for row in self.rows:
            found.setdefault(row["to_address"], []).append(row)
        return found


async def _connect(site: Site) -> asyncpg.Connection:
    return await asyncpg.connect(site.database_url.replace("+asyncpg", ""), timeout=5)


async def _outbox(site: Site) -> Outbox:
    conn = await _connect(site)
    try:
        rows = await conn.fetch(
            "SELECT id, to_address, status, attempts, sent_at, last_error FROM outbox_emails "
            "WHERE to_address LIKE $1",
            f"%@{MAIL_DOMAIN}",
        )
    finally:
        await conn.close()
    return Outbox(list(rows))


async def _pending(site: Site) -> int:
    conn = await _connect(site)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM outbox_emails WHERE status = 'PENDING' AND to_address LIKE $1",
            f"%@{MAIL_DOMAIN}",
        )
    finally:
        await conn.close()


async def _drained(site: Site, bound: float) -> float | None:
    """Seconds until no email of the scenario is PENDING (None: still some after `bound`)."""
    started = time.monotonic()
    while time.monotonic() - started < bound:
        if not await _pending(site):
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    return None


async def _stored(site: Site, prefixes: tuple[str, ...], body_prefix: str) -> list[str]:
    """The scenario's writes as stored: customers' names and messages' bodies."""
    conn = await _connect(site)
    try:
        names = []
        for prefix in prefixes:
            rows = await conn.fetch("SELECT name FROM customers WHERE name LIKE $1", prefix + "%")
            names += [row["name"] for row in rows]
        rows = await conn.fetch("SELECT body FROM messages WHERE body LIKE $1", body_prefix + "%")
        return names + [row["body"] for row in rows]
    finally:
        await conn.close()


async def _messaged_addresses(site: Site, body_prefix: str) -> list[str]:
    """The addresses of the customers a stored message of the scenario went to."""
    conn = await _connect(site)
    try:
        rows = await conn.fetch(
            "SELECT c.email FROM messages m JOIN customers c ON c.id = m.customer_id "
            "WHERE m.body LIKE $1",
            body_prefix + "%",
        )
        return [row["email"] for row in rows]
    finally:
        await conn.close()


def _outbox_id(message: Any) -> str:
    return str(message["Message-ID"]).strip().strip("<>").split("@", 1)[0]


@dataclass
class MailCheck:
    expected: int
    received: Counter[str]
    duplicated: list[str]
    missing: list[str]


def check_mail(report: Report, outbox: Outbox, addresses: list[str], smtp: SmtpServer) -> MailCheck:
    """Every committed write's email in the outbox once, and at the SMTP server; the
    duplicates are returned for the scenario to judge."""
    by_address = outbox.by_address
    wanted = Counter(addresses)
    without_email = sorted(a for a in wanted if a not in by_address)
    twice = sorted(a for a, rows in by_address.items() if len(rows) > 1 or wanted[a] > 1)
    strays = sorted(set(by_address) - set(wanted))
    for label, items in (
        ("committed writes without their email", without_email),
        ("emails enqueued twice", twice),
        ("emails without a committed write", strays),
    ):
        if items:
            report.problems.append(f"{len(items)} {label}: {items[:5]}")
    received = Counter(
        _outbox_id(m) for m in smtp.messages if str(m["To"]).endswith(f"@{MAIL_DOMAIN}")
    )
    ids = {str(row["id"]) for row in outbox.rows}
    missing = sorted(ids - set(received))
    if missing:
        report.problems.append(f"{len(missing)} committed emails never sent: {missing[:5]}")
    unsent = [str(row["id"]) for row in outbox.rows if row["status"] != "SENT"]
    if unsent:
        statuses = Counter(row["status"] for row in outbox.rows if row["status"] != "SENT")
        report.problems.append(f"{len(unsent)} emails not marked SENT: {dict(statuses)}")
    foreign = sorted(set(received) - ids)
    if foreign:
        report.problems.append(f"{len(foreign)} emails sent that no outbox row wrote")
    duplicated = sorted(i for i, n in received.items() if n > 1)
    return MailCheck(len(ids), received, duplicated, missing)


async def mail_writer(
    base_url: str,
    token: str,
    k: int,
    tally: Tally,
    stop: asyncio.Event,
    *,
    accept: set[str],
    pause: float = 0.05,
) -> None:
    """Until `stop`: a customer `Mail k-n` with the address `k-n@mail.test`, then a staff
    message `Note k-n` to them (which enqueues its email), then the customer list."""
    conn = Connection(*split_url(base_url))
    serial = 0
    try:
        while not stop.is_set():
            serial += 1
            name, body = f"Mail {k}-{serial}", f"Note {k}-{serial}"
            email = f"{k}-{serial}@{MAIL_DOMAIN}"
            create = {"input": {"name": name, "email": email}}
            answer = await request(
                conn,
                Step("createCustomer", CREATE, create, token, write=name),
                tally,
                accept=accept,
            )
            if answer is not None and answer.status == 200 and error_code(answer) == "OK":
                customer = answer.json()["data"]["createCustomer"]["customer"]["id"]
                send = {"input": {"customerId": customer, "body": body}}
                answer = await request(
                    conn, Step("sendMessage", SEND, send, token, write=body), tally, accept=accept
                )
            if answer is not None and answer.status == 200:
                read = Step("customers", STAFF_LIST, {"search": None}, token)
                answer = await request(conn, read, tally, accept=accept)
            if answer is None:
                await asyncio.sleep(BROKEN_PAUSE_SECONDS)
            elif answer.status == 503:
                retry_after = float(answer.headers.get("retry-after") or 1)
                await asyncio.sleep(min(retry_after, 2) * random.uniform(0.5, 1.5))
            else:
                await asyncio.sleep(pause)
    finally:
        await conn.close()


def _writers(
    base_url: str, token: str, count: int, tally: Tally, stop: asyncio.Event, accept: set[str]
) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(mail_writer(base_url, token, k, tally, stop, accept=accept))
        for k in range(count)
    ]


def _reads(token: str) -> Callable[[int, int], Step]:
    return lambda k, n: Step("customers", STAFF_LIST, {"search": None}, token)


def worker_pids(serve_pid: int) -> list[int]:
    """The uvicorn worker processes under `portico serve --workers N` (its children started
    by multiprocessing's spawn, not its resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _parent(int(entry)) == serve_pid:
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
    return sorted(found)


def _socket_owner(port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the loopback TCP socket whose local port is `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return pid
    return None


async def _kill_a_sending_worker(
    serve_pid: int, handler: RelayHandler, bound: float
) -> tuple[int, bool]:
    """SIGKILL the worker whose email the SMTP server has just accepted (before it hears
    so), or, when none is sending within `bound` seconds, the first one. The victim's pid,
    and whether it was mid-send."""
    deadline = time.monotonic() + bound
    workers = worker_pids(serve_pid)
    while time.monotonic() < deadline:
        for port in handler.answering():
            owner = _socket_owner(port, workers)
            if owner is not None:
                os.kill(owner, signal.SIGKILL)
                return owner, True
        await asyncio.sleep(0.01)
        workers = worker_pids(serve_pid)
    os.kill(workers[0], signal.SIGKILL)
    return workers[0], False


async def _leased_now(site: Site) -> tuple[dict[str, int], Any]:
    """The emails leased right now (PENDING, due later: someone holds them), with their
    attempts, and the database's clock."""
    conn = await _connect(site)
    try:
        rows = await conn.fetch(
            "SELECT id, attempts FROM outbox_emails "
            "WHERE status = 'PENDING' AND next_attempt_at > clock_timestamp()"
        )
        return {str(row["id"]): row["attempts"] for row in rows}, await conn.fetchval(
            "SELECT clock_timestamp()"
        )
    finally:
        await conn.close()


STARTED = "Application startup complete."  # uvicorn's line when a worker serves


def _starts(log: Path) -> int:
    return log.read_text(errors="replace").count(STARTED)


async def _replaced(log: Path, bound: float) -> float | None:
    """Seconds until another worker of `portico serve` has started serving (its log says
    so: one more start-up line than now)."""
    started = time.monotonic()
    before = _starts(log)
    while time.monotonic() - started < bound:
        if _starts(log) > before:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    return None


def _log_check(report: Report, log: Path) -> str:
    """Problems for tracebacks and ERROR lines; the log's text."""
    text = log.read_text(errors="replace")
    if "Traceback" in text:
        first = text[text.index("Traceback") :].splitlines()
        ending = next((line for line in first[1:] if line and not line.startswith(" ")), "")
        report.problems.append(
            f"{text.count('Traceback')} tracebacks in the server log (the first: {ending})"
        )
    errors = [line for line in text.splitlines() if line.startswith("ERROR ")]
    if errors:
        report.problems.append(f"{len(errors)} ERROR lines in the server log: {errors[:2]}")
    report.figures["server log"] = f"{len(text.splitlines())} lines"
    return text


async def worker_killed(
    postgres: PrivatePostgres,
    workdir: Path,
    *,
    writers: int = 4,
    readers: int = 4,
    seconds: float = 12.0,
) -> Report:
    """`portico serve --workers 2` under mixed reads and writes, `writers` of them writing
    messages that email the customer; one worker SIGKILLed while it sends an email."""
    report = Report("SIGKILL of a server worker mid-send (--workers 2)")
    smtp, handler = relay(RELAY_SECONDS)
    site = await _site(postgres, workdir, "mailing", SMTP_URL=smtp.url)
    log = workdir / "server.log"
    with log.open("wb") as log_file:
        server, base_url = await start_server(site.env, stderr=log_file, args=("--workers", "2"))
    try:
        token = await site.sign_in(base_url, "mailing")
        for _ in range(300):  # uvicorn starts the second worker on its own time
            if len(worker_pids(server.pid)) >= 2:
                break
            await asyncio.sleep(0.1)
        idle = await run_clients(base_url, 1, mixed_steps(token, "Idle"), 1.0, accept=set())
        tally, stop = Tally(), asyncio.Event()
        mailing = _writers(base_url, token, writers, tally, stop, OUTAGE_OUTCOMES)
        mixed = asyncio.create_task(
            run_clients(
                base_url,
                readers,
                mixed_steps(token, "Mixed"),
                seconds,
                accept=OUTAGE_OUTCOMES,
                pause=0.01,
                tally=tally,
            )
        )
        await asyncio.sleep(seconds / 3)
        before = tally.requests
        victim, mid_send = await _kill_a_sending_worker(server.pid, handler, seconds / 3)
        leased, killed_db_time = await _leased_now(site)
        replaced = await _replaced(log, 30)
        await mixed
        stop.set()
        await asyncio.gather(*mailing)
        normal = percentile(idle.latencies(), 0.99)
        report.recovery_seconds = await recovery_seconds(base_url, token, normal, 30)
        drained = await _drained(site, DRAIN_BOUND)
        stored = await _stored(site, ("Mixed ", "Mail "), "Note ")
        addresses = await _messaged_addresses(site, "Note ")
        outbox = await _outbox(site)
    finally:
        await stop_server(server)
        smtp.stop()
    check_writes(report, tally, stored)
    mail = check_mail(report, outbox, addresses, smtp)
    rows = {str(row["id"]): row for row in outbox.rows}
    # The victim's leased emails: claimed again after the kill (another attempt counted),
    # or never sent; the survivor's own, leased at the same moment, went out under their
    # first claim.
    orphans = sorted(
        i
        for i, n in leased.items()
        if i in rows and (rows[i]["attempts"] > n or rows[i]["status"] != "SENT")
    )
    out_after = [
        (rows[i]["sent_at"] - killed_db_time).total_seconds()
        for i in orphans
        if rows[i]["sent_at"] is not None
    ]
    waited = max(out_after) if out_after else None
    broken = sum(n for outcome, n in tally.outcomes.items() if outcome.endswith(" broken"))
    report.figures.update(
        {
            "kill": f"worker {victim} {'mid-send' if mid_send else 'while no email was sent'}"
            f", after {before} requests; "
            + (
                f"a new worker served {replaced:.1f} s later"
                if replaced is not None
                else "NOT replaced"
            ),
            "requests broken by the kill": f"{broken} (writes among them {report.unknown}, of "
            f"which committed {report.unknown_stored}); outcomes {dict(tally.outcomes)}",
            "emails": f"expected {mail.expected}, sent {len(mail.received)} distinct, "
            f"{sum(mail.received.values())} in all; duplicated {len(mail.duplicated)}"
            + (f" (Message-IDs {mail.duplicated})" if mail.duplicated else ""),
            "killed worker's leased emails": f"{len(orphans)}, all out "
            + (f"{waited:.1f} s after the kill" if waited is not None else "never")
            + f" (leased by anyone at the kill: {len(leased)})",
            "outbox drained": f"{drained:.1f} s after the load" if drained else "NOT drained",
        }
    )
    if replaced is None:
        report.problems.append("the killed worker was not replaced within 30 s")
    if not mid_send or not orphans:
        report.problems.append("the kill found the worker holding no leased email")
    if waited is None or waited > LEASED_MAIL_BOUND or len(out_after) < len(orphans):
        report.problems.append(
            f"the killed worker's leased emails were not all out within {LEASED_MAIL_BOUND:g} s"
        )
    not_orphans = sorted(set(mail.duplicated) - set(orphans))
    if not_orphans:
        report.problems.append(
            f"{len(not_orphans)} emails sent twice that the killed worker had not leased: "
            f"{not_orphans[:5]}"
        )
    if report.recovery_seconds > 10:
        report.problems.append("not back to normal within 10 s of the load stopping")
    _log_check(report, log)
    return report


async def smtp_down(
    postgres: PrivatePostgres,
    workdir: Path,
    *,
    writers: int = 3,
    readers: int = 2,
    outage: float = 60.0,
) -> Report:
    """The SMTP server stopped for `outage` seconds while writes that email keep coming,
    then started again on the same port."""
    report = Report(f"SMTP server down for {outage:g} s under writes that send mail")
    smtp, _ = relay()
    site = await _site(postgres, workdir, "outage", SMTP_URL=smtp.url)
    log = workdir / "server.log"
    with log.open("wb") as log_file:
        server, base_url = await start_server(site.env, stderr=log_file)
    try:
        token = await site.sign_in(base_url, "outage")
        tally, stop = Tally(), asyncio.Event()
        mailing = _writers(base_url, token, writers, tally, stop, SHED)
        normal = await run_clients(base_url, readers, _reads(token), 2.0, accept=SHED)
        smtp.stop()
        down_at = time.monotonic()
        during = await run_clients(base_url, readers, _reads(token), outage, accept=SHED)
        pending_at_return = await _pending(site)
        smtp.start()
        back = time.monotonic()
        await asyncio.sleep(1.0)  # writes go on a moment after the server's return
        stop.set()
        await asyncio.gather(*mailing)
        drained = await _drained(site, outage + DRAIN_BOUND)
        delivered = time.monotonic() - back if drained is not None else None
        stored = await _stored(site, ("Mail ",), "Note ")
        addresses = await _messaged_addresses(site, "Note ")
        outbox = await _outbox(site)
    finally:
        await stop_server(server)
        smtp.stop()
    check_writes(report, tally, stored)
    mail = check_mail(report, outbox, addresses, smtp)
    report.recovery_seconds = delivered
    normal_p99 = percentile(normal.latencies(), 0.99)
    during_p99 = percentile(during.latencies(), 0.99)
    text = _log_check(report, log)
    mail_lines = [line for line in text.splitlines() if " portico.mail " in line]
    warnings = [line for line in mail_lines if line.startswith("WARNING ")]
    ended = [line for line in mail_lines if "mail server reachable again" in line]
    attempts = Counter(row["attempts"] for row in outbox.rows)
    report.figures.update(
        {
            "outage": f"{back - down_at:.1f} s; emails waiting when SMTP returned "
            f"{pending_at_return}",
            "emails": f"expected {mail.expected}, delivered {len(mail.received)}, "
            f"duplicated {len(mail.duplicated)}; attempts per email "
            f"{dict(sorted(attempts.items()))}",
            "all mail delivered": f"{delivered:.1f} s after SMTP returned"
            if delivered is not None
            else "NOT within the bound",
            "reads": f"p99 {ms(normal_p99)} before the outage, {ms(during_p99)} during it "
            f"({len(during.latencies())} answered, outcomes {dict(during.outcomes)})",
            "mail log": f"{len(warnings)} warnings, {len(ended)} 'reachable again' lines"
            + (f"; first: {warnings[0][:160]}" if warnings else ""),
        }
    )
    if during.failures or normal.failures:
        report.problems.append(f"reads failed: {(normal.failures + during.failures)[:3]}")
    if mail.duplicated:
        report.problems.append(f"{len(mail.duplicated)} emails sent twice: {mail.duplicated[:5]}")
    bound = min(outage, MAX_WAIT_SECONDS) + 10
    if delivered is None or delivered > bound:
        report.problems.append(f"mail not all delivered within {bound:g} s of SMTP's return")
    if len(warnings) != 1 or len(ended) != 1:
        report.problems.append(
            "the outage is not logged as one warning and one line at its end "
            f"({len(warnings)} warnings, {len(ended)} end lines)"
        )
    if during_p99 > 3 * normal_p99 + 0.1:
        report.problems.append("reads slowed beyond 3x their p99 during the outage")
    return report
