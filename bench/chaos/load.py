"""Clients for the chaos scenarios and the shedding tests: closed loops of GraphQL requests
over `wire` connections, each answer tallied, each write named so that what the server
acknowledged can be compared with what the database stored.

A client honours `Retry-After` (with jitter, as a well-behaved client does) on a 503, and
after a broken connection waits a moment and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.chaos.wire import Answer, Connection, split_url
from bench.queries import STAFF_LIST

CREATE = """
mutation C($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } userErrors { code } }
}
"""
UPDATE = """
mutation U($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { name } userErrors { code } }
}
"""
BROKEN_PAUSE_SECONDS = 0.2


@dataclass(frozen=True)
class Step:
    """One request: `label` names it in the tallies; `write` names the row it creates."""

    label: str
    query: str
    variables: dict[str, Any]
    token: str
    write: str | None = None


@dataclass
class Tally:
    answered: dict[str, list[float]] = field(default_factory=dict)  # label: seconds, 200s
    shed: list[float] = field(default_factory=list)  # seconds to a 503 OVERLOADED
    shed_waits: list[float] = field(default_factory=list)  # their wait for a turn (Server-Timing)
    outcomes: Counter[str] = field(default_factory=Counter)  # "label status CODE"
    acknowledged: list[str] = field(default_factory=list)  # writes answered as done
    refused: list[str] = field(default_factory=list)  # OVERLOADED or SERVICE_UNAVAILABLE: not done
    unknown: list[str] = field(default_factory=list)  # writes whose answer never came
    failures: list[str] = field(default_factory=list)  # answers no scenario accepts
    retry_after: Counter[str] = field(default_factory=Counter)  # Retry-After on 503s

    def latencies(self, *labels: str) -> list[float]:
        chosen = labels or tuple(self.answered)
        return sorted(t for label in chosen for t in self.answered.get(label, []))

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def admission_wait(server_timing: str) -> float:
    """Seconds a refusal waited for a turn, from its `Server-Timing: admission;dur=<ms>`;
    nan when the header does not say."""
    for metric in server_timing.split(","):
        name, _, params = metric.strip().partition(";")
        if name == "admission" and params.startswith("dur="):
            return float(params[4:]) / 1000
    return float("nan")


def error_code(answer: Answer) -> str:
    try:
        body = answer.json()
    except ValueError:
        return "NOT_JSON"
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        return str(errors[0].get("extensions", {}).get("code"))
    if isinstance(body, dict) and "code" in body:
        return str(body["code"])
    payload = next(iter((body.get("data") or {}).values()), None) if body else None
    if isinstance(payload, dict) and payload.get("userErrors"):
        return "USER_ERROR:" + str(payload["userErrors"][0].get("code"))
    return "OK"


async def request(conn: Connection, step: Step, tally: Tally, *, accept: set[str]) -> Answer | None:
    """One request, tallied. `accept` holds the outcomes ("503 OVERLOADED", ...) other than
    a clean 200 that the scenario expects; anything else is a failure."""
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {step.token}"}
    try:
        answer = await conn.post(
            "/graphql", {"query": step.query, "variables": step.variables}, headers
        )
    except (OSError, asyncio.IncompleteReadError) as exc:
        tally.outcomes[f"{step.label} broken"] += 1
        if step.write:
            tally.unknown.append(step.write)
        if "broken" not in accept:
            tally.failures.append(f"{step.label}: {exc!r}")
        return None
    elapsed = time.monotonic() - started
    code = error_code(answer)
    outcome = f"{answer.status} {code}"
    tally.outcomes[f"{step.label} {outcome}"] += 1
    if answer.status == 200 and code == "OK":
        tally.answered.setdefault(step.label, []).append(elapsed)
        if step.write:
            tally.acknowledged.append(step.write)
        return answer
    if answer.status == 503:
        tally.retry_after[answer.headers.get("retry-after", "missing")] += 1
        if code == "OVERLOADED":
            tally.shed.append(elapsed)
            tally.shed_waits.append(admission_wait(answer.headers.get("server-timing", "")))
    if step.write:
        # Shed before the work, or refused before anything was saved (SERVICE_UNAVAILABLE
        # says so), a write must have changed nothing; otherwise (OUTCOME_UNKNOWN, a broken
        # connection, a timeout) it may have.
        refused = code in ("OVERLOADED", "SERVICE_UNAVAILABLE")
        (tally.refused if refused else tally.unknown).append(step.write)
    if outcome not in accept:
        tally.failures.append(f"{step.label}: {outcome} {answer.body[:200]!r}")
    return answer


async def client(
    base_url: str,
    steps: Callable[[int], Step],
    tally: Tally,
    stop: asyncio.Event,
    *,
    accept: set[str],
    pause: float = 0.0,
) -> None:
    """Sends `steps(1)`, `steps(2)` ... until `stop`, one at a time on one connection."""
    conn = Connection(*split_url(base_url))
    serial = 0
    try:
        while not stop.is_set():
            serial += 1
            answer = await request(conn, steps(serial), tally, accept=accept)
            if answer is None:
                await asyncio.sleep(BROKEN_PAUSE_SECONDS)
            elif answer.status == 503:
                retry_after = float(answer.headers.get("retry-after") or 1)
                await _sleep_unless(stop, retry_after * random.uniform(0.5, 1.5))
            elif pause:
                await asyncio.sleep(pause)
    finally:
        await conn.close()


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_clients(
    base_url: str,
    count: int,
    steps: Callable[[int, int], Step],
    seconds: float,
    *,
    accept: set[str],
    pause: float = 0.0,
    tally: Tally | None = None,
) -> Tally:
    """`count` clients for `seconds`; client k sends `steps(k, serial)`."""
    tally = tally or Tally()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(
            client(base_url, lambda n, k=k: steps(k, n), tally, stop, accept=accept, pause=pause)
        )
        for k in range(count)
    ]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return tally


def mixed_steps(token: str, prefix: str, write_every: int = 5) -> Callable[[int, int], Step]:
    """The staff customer list, and every `write_every`th request a createCustomer named
    `<prefix> <client>-<serial>`."""

    def step(k: int, n: int) -> Step:
        if n % write_every == 0:
            name = f"{prefix} {k}-{n}"
            return Step("createCustomer", CREATE, {"input": {"name": name}}, token, write=name)
        return Step("customers", STAFF_LIST, {"search": None}, token)

    return step
