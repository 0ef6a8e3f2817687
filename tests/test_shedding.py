"""Load shedding: a worker takes on at most MAX_REQUESTS_IN_FLIGHT requests, refuses the
rest at once with 503 OVERLOADED and Retry-After (unrun), and one organization holds at most
TENANT_SLOT_SHARE of the turns, so its stuck requests stall only itself.

The served tests run a real `portico serve` on PostgreSQL with hundreds of clients on loopback
(bench/chaos/load.py: a lean HTTP client, so the load generator does not take the CPU the
server needs). They assert behaviour, not absolute timings: who was refused, how quickly
compared with the answered, what was stored, and that the server is back to normal after.
The figures are printed (`-s`); bench/chaos runs the same scenarios and reports them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench.chaos.load import UPDATE, Step, Tally, mixed_steps, percentile, run_clients
from bench.chaos.site import Site
from core import admission
from core.admission import Admission, Overloaded, Turn
from core.ids import encode_id
from core.settings import settings_from_env
from models.db import Database
from portico.app import create_app
from portico.shedding import Shedding
from tests.conftest import _admin, _pg_url
from tests.helpers import GraphQLClient, Tenant
from tests.served import start_server, stop_server

CLIENTS = 200
LOAD_SECONDS = 6.0
RECOVERY_BOUND_SECONDS = 10.0
SHED = {"503 OVERLOADED"}


# --- the admission itself ----------------------------------------------------------------


async def test_turns_beyond_the_bound_wait_their_turn_in_order_then_are_refused():
    gate = Admission(2, tenant_share=1, wait_seconds=0.2)
    first, second = await gate.acquire(), await gate.acquire()
    order: list[str] = []

    async def waiting(name: str) -> None:
        turn = await gate.acquire()
        order.append(name)
        await asyncio.sleep(0.01)
        gate.release(turn)

    waiters = [asyncio.create_task(waiting(name)) for name in ("a", "b")]
    await asyncio.sleep(0.01)
    gate.release(first)  # a takes it, then b after a
    await asyncio.gather(*waiters)
    assert order == ["a", "b"]
    started = time.monotonic()
    with pytest.raises(Overloaded):  # `second` is still held: one turn free, then none
        await gate.acquire(), await gate.acquire()
    assert 0.15 < time.monotonic() - started < 1.0  # refused after the wait, not before
    gate.release(second)
    assert gate.in_use == 1  # the first of the two above still holds its turn
    # Behind as many waiters as there are turns, a request is refused without waiting
    # (a gate that has refused none yet: one that has refuses at once anyway).
    gate = Admission(2, tenant_share=1, wait_seconds=0.2)
    await gate.acquire(), await gate.acquire()
    queued = [asyncio.create_task(gate.acquire()) for _ in range(2)]
    await asyncio.sleep(0)
    started = time.monotonic()
    with pytest.raises(Overloaded):
        await gate.acquire()
    assert time.monotonic() - started < 0.05
    await asyncio.gather(*queued, return_exceptions=True)


async def test_a_tenant_at_its_share_waits_while_others_go_ahead():
    gate = Admission(4, tenant_share=0.5, wait_seconds=0.1)
    a, b = uuid.uuid4(), uuid.uuid4()
    held = [await gate.acquire(a), await gate.acquire(a)]
    assert gate.tenant_slots == 2
    with pytest.raises(Overloaded):
        await gate.acquire(a)  # two free turns, but not for a
    assert (await gate.acquire(b)).tenant == b
    # A turn taken before sign-in is counted once its tenant is known; beyond the share, no.
    anonymous = await gate.acquire()
    with pytest.raises(Overloaded):
        gate.claim(anonymous, a)
    gate.release(anonymous)
    gate.release(held[0])
    late = await gate.acquire()
    gate.claim(late, a)
    assert gate.held[a] == 2 and gate.in_use == 3


async def test_a_tenant_waiting_on_its_own_share_holds_nobody_else_back():
    gate = Admission(4, tenant_share=0.5, wait_seconds=0.2)
    a, b = uuid.uuid4(), uuid.uuid4()
    held = [await gate.acquire(a), await gate.acquire(a)]
    waiting = [asyncio.create_task(gate.acquire(a)) for _ in range(2)]
    await asyncio.sleep(0)
    # Two turns are free: b takes one at once, though a's waiters came first.
    started = time.monotonic()
    assert (await gate.acquire(b)).tenant == b
    assert time.monotonic() - started < 0.05
    # a waits with at most its share of waiters: the rest of the queue is left to others.
    started = time.monotonic()
    with pytest.raises(Overloaded):
        await gate.acquire(a)
    assert time.monotonic() - started < 0.05
    gate.release(held[0])  # one of a's own turns ends: its first waiter takes it
    assert (await waiting[0]).tenant == a
    with pytest.raises(Overloaded):
        await waiting[1]
    # A turn counted against a tenant guessed wrong is counted against the right one.
    guessed = await gate.acquire(b)
    gate.claim(guessed, None)
    assert gate.held[b] == 1 and guessed.tenant is None


async def test_while_refusing_a_gate_refuses_at_once_and_waits_again_once_quiet(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(admission, "QUIET_SECONDS", 0.3)

    async def timed(gate: Admission, tenant: uuid.UUID | None = None) -> tuple[str, float]:
        started = time.monotonic()
        try:
            await gate.acquire(tenant)
            outcome = "admitted"
        except Overloaded:
            outcome = "refused"
        return outcome, time.monotonic() - started

    def release_soon(gate: Admission, turn: Turn) -> None:
        asyncio.get_running_loop().call_later(0.03, gate.release, turn)

    gate = Admission(2, tenant_share=1, wait_seconds=0.1)
    held = [await gate.acquire(), await gate.acquire()]
    outcome, waited = await timed(gate)
    assert outcome == "refused" and waited >= 0.09  # the first waits its while
    outcome, waited = await timed(gate)
    assert outcome == "refused" and waited < 0.02  # overloaded: no queue, refused at once
    await asyncio.sleep(0.3)
    release_soon(gate, held[0])  # quiet again: a burst waits, and gets a turn
    assert (await timed(gate))[0] == "admitted"

    # A tenant refused at its share is refused at once from then on; others still wait.
    gate = Admission(4, tenant_share=0.5, wait_seconds=0.1)
    a, b = uuid.uuid4(), uuid.uuid4()
    [await gate.acquire(a) for _ in range(2)]
    assert (await timed(gate, a))[0] == "refused"
    outcome, waited = await timed(gate, a)
    assert outcome == "refused" and waited < 0.02
    held = [await gate.acquire(b), await gate.acquire(b)]  # every turn of the process taken
    release_soon(gate, held[0])
    assert (await timed(gate, b))[0] == "admitted"


def test_the_share_leaves_other_tenants_a_turn():
    assert Admission(6, tenant_share=0.5, wait_seconds=0).tenant_slots == 3
    assert Admission(2, tenant_share=0.9, wait_seconds=0).tenant_slots == 1
    assert Admission(1, tenant_share=0.5, wait_seconds=0).tenant_slots == 1
    assert Admission(6, tenant_share=1, wait_seconds=0).tenant_slots == 6


# --- the gate in the app ------------------------------------------------------------------


SHEDDING_ON = {"MAX_REQUESTS_IN_FLIGHT": "6", "ADMISSION_WAIT_MS": "20", "TENANT_SLOT_SHARE": "0.5"}


@pytest.fixture
async def shed_app(db: Database) -> AsyncIterator[tuple[GraphQLClient, Shedding]]:
    """The app with load shedding on, and its gate (found once the app has served)."""
    settings = settings_from_env({"DATABASE_URL": db.settings.database_url, **SHEDDING_ON})
    app = create_app(settings, db=db, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
        assert (await http.get("/healthz")).status_code == 200
        layer = app.middleware_stack
        while not isinstance(layer, Shedding):
            layer = layer.app
        yield GraphQLClient(http), layer


async def _hold_share(shedding: Shedding, tenant: uuid.UUID) -> list[Turn]:
    """Every turn the tenant may hold, as its requests stuck on a locked row would."""
    gate = shedding.gate
    assert gate is not None
    return [await gate.acquire(tenant) for _ in range(gate.tenant_slots)]


def _outcome(response: httpx.Response) -> str:
    errors = response.json().get("errors") or [{}]
    return f"{response.status_code} {errors[0].get('extensions', {}).get('code', 'OK')}"


async def test_an_organization_at_its_share_is_refused_before_any_work_of_its_own(
    shed_app: tuple[GraphQLClient, Shedding],
    tenant: Tenant,
    other_tenant: Tenant,
    count_statements: Any,
):
    gql, shedding = shed_app
    assert shedding.gate is not None
    query = "{ customers(first: 5) { totalCount } }"
    assert _outcome(await gql.post(query, token=tenant.staff_token)) == "200 OK"
    held = await _hold_share(shedding, tenant.organization_id)  # its requests are stuck
    # Its credential is known: refused at the gate, not even its session read, and
    # without taking one of the turns the others are left.
    before = count_statements.count
    assert _outcome(await gql.post(query, token=tenant.staff_token)) == "503 OVERLOADED"
    assert count_statements.count == before
    assert shedding.gate.in_use == len(held)
    # A credential the gate has not seen takes a turn, and is refused once signed in;
    # from then on the gate knows it too.
    assert _outcome(await gql.post(query, token=tenant.owner_token)) == "503 OVERLOADED"
    assert shedding.gate.in_use == len(held)
    before = count_statements.count
    assert _outcome(await gql.post(query, token=tenant.owner_token)) == "503 OVERLOADED"
    assert count_statements.count == before
    # Another organization is served.
    assert _outcome(await gql.post(query, token=other_tenant.staff_token)) == "200 OK"
    for turn in held:
        shedding.gate.release(turn)
    assert _outcome(await gql.post(query, token=tenant.owner_token)) == "200 OK"


async def test_a_planned_read_counts_against_its_organization(
    shed_app: tuple[GraphQLClient, Shedding],
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
):
    gql, shedding = shed_app
    query = "{ customers(first: 5) { totalCount } }"
    for _ in range(3):  # planned, then answered by the prepared path with the session checked
        assert _outcome(await gql.post(query, token=tenant.staff_token)) == "200 OK"
    # The gate does not know the credential (forgotten, or another process signed it in).
    monkeypatch.setattr(shedding.known, "guess", lambda key: None)
    held = await _hold_share(shedding, tenant.organization_id)
    assert _outcome(await gql.post(query, token=tenant.staff_token)) == "503 OVERLOADED"
    for turn in held:
        shedding.gate.release(turn)
    assert _outcome(await gql.post(query, token=tenant.staff_token)) == "200 OK"


# --- a served worker ---------------------------------------------------------------------


@pytest.fixture
async def shed_database_url(postgres_database: str) -> AsyncIterator[str]:
    """A PostgreSQL database of the test's own (its counts concern this run alone)."""
    name = f"portico_shed_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _pg_url(name)
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _idle(base_url: str, token: str, prefix: str, seconds: float = 3.0) -> Tally:
    return await run_clients(base_url, 1, mixed_steps(token, prefix), seconds, accept=set())


async def _recovery_seconds(base_url: str, token: str, normal_p99: float) -> float:
    """Seconds until ten requests in a row are answered 200 within the idle p99 x 3."""
    started = time.monotonic()
    streak = 0
    while streak < 10 and time.monotonic() - started < 3 * RECOVERY_BOUND_SECONDS:
        tally = await run_clients(base_url, 1, mixed_steps(token, "Recovery"), 0.2, accept=SHED)
        fast = [t for t in tally.latencies() if t <= 3 * normal_p99]
        slow = tally.requests - len(fast)
        streak = 0 if slow else streak + len(fast)
    return time.monotonic() - started


def _figures(name: str, idle: Tally, loaded: Tally) -> str:
    ms = 1000
    return (
        f"{name}: idle p50 {percentile(idle.latencies(), 0.5) * ms:.0f} ms "
        f"p99 {percentile(idle.latencies(), 0.99) * ms:.0f} ms; loaded: "
        f"{len(loaded.latencies())} answered (p50 "
        f"{percentile(loaded.latencies(), 0.5) * ms:.0f} ms, p99 "
        f"{percentile(loaded.latencies(), 0.99) * ms:.0f} ms, createCustomer p50 "
        f"{percentile(loaded.latencies('createCustomer'), 0.5) * ms:.0f} ms), "
        f"{len(loaded.shed)} shed (p50 {percentile(loaded.shed, 0.5) * ms:.0f} ms, p99 "
        f"{percentile(loaded.shed, 0.99) * ms:.0f} ms); outcomes {dict(loaded.outcomes)}"
    )


async def test_an_overloaded_worker_sheds_at_once_and_keeps_the_admitted_fast(
    shed_database_url: str, tmp_path: Path
):
    site = Site.prepare(shed_database_url, tmp_path, **SHEDDING_ON)
    site.add_organization("busy")
    with (tmp_path / "server.log").open("wb") as log_file:
        server, base_url = await start_server(site.env, stderr=log_file)
    try:
        token = await site.sign_in(base_url, "busy")
        await _idle(base_url, token, "Warm", 1.0)
        idle = await _idle(base_url, token, "Idle")
        loaded = await run_clients(
            base_url, CLIENTS, mixed_steps(token, "Load"), LOAD_SECONDS, accept=SHED
        )
        idle_p99 = percentile(idle.latencies(), 0.99)
        recovery = await _recovery_seconds(base_url, token, idle_p99)
        stored = await site.stored_names("Load ")
    finally:
        await stop_server(server)
    summary = _figures("overload", idle, loaded) + f"; back to normal in {recovery:.1f} s"
    print(f"\n{summary}")

    assert not idle.failures and not loaded.failures, (idle.failures + loaded.failures)[:5]
    # Some were refused, with Retry-After, and their refusals came sooner than answers did.
    assert len(loaded.shed) > CLIENTS // 2, summary
    assert set(loaded.retry_after) == {"1"}, loaded.retry_after
    # Refusals came without queueing: the server says how long each waited for a turn
    # (Server-Timing), and under sustained overload nearly all were refused at once rather
    # than after the admission wait (20 ms). Timed by the client, on two cores shared with
    # 200 clients, a refusal also carries the event loop's lag: that is the bench's figure.
    waits = loaded.shed_waits
    assert len(waits) == len(loaded.shed) and all(w == w for w in waits), waits[:5]
    at_once = [w for w in waits if w < 0.005]
    assert len(at_once) >= 0.9 * len(waits), (len(at_once), len(waits), summary)
    # The admitted kept their latency within the same order as idle's (unbounded, every
    # request was answered and the p99 was 100x idle's, 4 s); bench/chaos gives the ratio.
    assert percentile(loaded.latencies(), 0.99) < 25 * idle_p99 + 0.1, summary
    # Refused writes did nothing; acknowledged ones are stored once.
    assert loaded.refused and not loaded.unknown
    assert sorted(stored) == sorted(loaded.acknowledged), "stored writes differ from acknowledged"
    assert recovery < RECOVERY_BOUND_SECONDS, summary
    assert "Traceback" not in (tmp_path / "server.log").read_text(errors="replace")


async def test_a_locked_row_stalls_only_its_own_organization(
    shed_database_url: str, tmp_path: Path
):
    site = Site.prepare(shed_database_url, tmp_path, STATEMENT_TIMEOUT_MS="20000", **SHEDDING_ON)
    site.add_organization("stuck")
    site.add_organization("other")
    with (tmp_path / "server.log").open("wb") as log_file:
        server, base_url = await start_server(site.env, stderr=log_file)
    holder: asyncpg.Connection | None = None
    try:
        stuck, other = await site.sign_in(base_url, "stuck"), await site.sign_in(base_url, "other")
        made = await run_clients(base_url, 1, mixed_steps(stuck, "Hot", 1), 0.1, accept=set())
        hot = made.answered and (await site.stored_names("Hot "))[0]
        assert hot
        idle = await _idle(base_url, other, "Idle")
        # Another connection (a long job, a stuck session) holds the hot customer's row.
        holder = await asyncpg.connect(shed_database_url.replace("+asyncpg", ""), timeout=5)
        await holder.execute("BEGIN")
        hot_id = await holder.fetchval("SELECT id FROM customers WHERE name = $1 FOR UPDATE", hot)
        gid = encode_id("Customer", hot_id)

        def update(k: int, n: int) -> Step:
            return Step(
                "updateCustomer", UPDATE, {"input": {"id": gid, "name": f"Hot {k}-{n}"}}, stuck
            )

        piling = asyncio.create_task(
            run_clients(base_url, 30, update, LOAD_SECONDS + 1, accept=SHED | {"broken"})
        )
        await asyncio.sleep(1.0)  # the stuck organization's requests pile up
        others = await run_clients(
            base_url, 2, mixed_steps(other, "Other"), LOAD_SECONDS - 1, accept=SHED
        )
        await holder.execute("ROLLBACK")
        piled = await piling
    finally:
        if holder is not None:
            await holder.close()
        await stop_server(server)
    summary = _figures("other organization", idle, others)
    print(f"\n{summary}; stuck organization: {dict(piled.outcomes)}")

    assert not others.failures, others.failures[:5]
    # The stuck organization's requests wait behind its own turns (the gate knows whose
    # credential they carry), so the other's always find a turn: none is shed. Without
    # the share, none of the other's requests was answered; with the share counted only
    # after sign-in, the stuck one's newcomers took a turn each and now and then one of
    # the other's found every turn taken.
    assert not others.shed, others.outcomes
    # Same order as idle (stalled, the other's p99 was 4.7 s); bench/chaos gives the ratio.
    assert percentile(others.latencies(), 0.99) < 25 * percentile(idle.latencies(), 0.99) + 0.1
    assert len(piled.shed) > 0, piled.outcomes  # the stuck one was refused beyond its share
    assert piled.answered.get("updateCustomer"), piled.outcomes  # and served once unlocked
