"""Where a read workload's server CPU goes, in process, on either database: Portico's ASGI app
through httpx's ASGI transport (no server, no sockets), the process's CPU per request (on
SQLite the database's too: it runs in aiosqlite's thread), statements per request, and a
sampling profile of every thread (a py-spy-like sampler: each thread's stack every
`--interval` ms, counted per function, self and inclusive).

    python -m bench.profile_reads --database sqlite --workload dashboard --requests 2000
    python -m bench.profile_reads --database postgresql --workload staff_list --top 30

Needs `bench.generate --size small --sqlite` first (the tokens work on both databases).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from collections import Counter as Tally
from types import FrameType
from typing import Any

import httpx
import httpx._transports.asgi as asgi_transport
import sqlalchemy as sa

from bench.common import database_url, load_tokens, sqlalchemy_url, sqlite_url
from bench.statements import Counter
from bench.workloads import WORKLOADS
from core.settings import settings_from_env
from portico.app import create_app


class Sampler:
    """Every thread's Python stack at a fixed interval, tallied by function."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.self_counts: dict[str, Tally[str]] = {}
        self.inclusive: dict[str, Tally[str]] = {}
        self.samples: Tally[str] = Tally()
        self.cpu: Tally[str] = Tally()  # CPU seconds per kind of thread while sampling
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        """Only a thread that used CPU since the last sample is counted (an idle thread's
        stack, blocked in a queue or in select, is not where CPU goes)."""
        me = threading.get_ident()
        clocks: dict[int, float] = {}
        while not self._stop.wait(self.interval_s):
            frames = sys._current_frames()
            for thread in threading.enumerate():
                ident = thread.ident
                if ident is None or ident == me or ident not in frames:
                    continue
                try:
                    cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except OSError:
                    continue
                used = cpu - clocks.get(ident, cpu)
                clocks[ident] = cpu
                kind = "main" if thread is threading.main_thread() else "worker"
                self.cpu[kind] += used
                if used > 0:
                    name = "main" if thread is threading.main_thread() else "worker"
                    self._add(name, frames[ident])

    def _add(self, thread: str, frame: FrameType | None) -> None:
        functions = []
        leaf = True
        while frame is not None:
            code = frame.f_code
            where = code.co_filename.rsplit("site-packages/", 1)[-1].rsplit("/work/", 1)[-1]
            line = frame.f_lineno if leaf else code.co_firstlineno
            functions.append(f"{where}:{line} {code.co_name}")
            frame, leaf = frame.f_back, False
        if not functions:
            return
        self.samples[thread] += 1
        self.self_counts.setdefault(thread, Tally())[functions[0]] += 1
        self.inclusive.setdefault(thread, Tally()).update(set(functions))

    def report(self, top: int) -> str:
        lines = []
        for thread, total in self.samples.most_common():
            lines.append(f"\n== thread {thread}: {total} samples, {self.cpu[thread]:.2f} s of CPU")
            lines.append("  self:")
            for function, n in self.self_counts[thread].most_common(top):
                lines.append(f"    {n / total:6.1%}  {function}")
            lines.append("  inclusive:")
            for function, n in self.inclusive[thread].most_common(top):
                lines.append(f"    {n / total:6.1%}  {function}")
        return "\n".join(lines)


async def measure(
    size: str, database: str, workload: str, requests: int, concurrency: int, top: int,
    interval_ms: float,
) -> dict[str, Any]:  # fmt: skip
    url = sqlite_url(size) if database == "sqlite" else sqlalchemy_url(database_url(size))
    tokens = load_tokens(size)
    items = WORKLOADS[workload].portico_items(tokens)
    settings = settings_from_env(
        {
            "DATABASE_URL": url,
            "REQUESTS_PER_MINUTE_PER_CLIENT": str(10**9),
            "REQUESTS_PER_MINUTE_PER_SESSION": str(10**9),
            "MAX_REQUESTS_IN_FLIGHT": "0",
            "TENANT_SLOT_SHARE": "1",
            "ADMISSION_WAIT_MS": "60000",
        }
    )
    app = create_app(settings, run_mail_worker=False)
    # httpx's ASGI transport looks for trio on every request (an import attempt: about
    # 0.4 ms, which a served Portico never pays).
    asgi_transport.is_running_trio = lambda: False  # type: ignore[assignment]
    engine = app.state.db.engine.sync_engine
    counter = Counter()
    sa.event.listen(engine, "before_cursor_execute", counter)
    errors: list[str] = []

    async def send(client: httpx.AsyncClient, item: tuple[str, str]) -> None:
        token, body = item
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        response = await client.post("/graphql", content=body, headers=headers)
        if response.status_code != 200 or b'"errors"' in response.content[:20]:
            errors.append(response.text[:300])

    sampler = Sampler(interval_ms / 1000) if top else None
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(2 * len(items[:50])):  # each item twice: the prepared path after
                await send(client, items[i % 50 % len(items)])
            counter.statements.clear()
            queue = [items[i % len(items)] for i in range(requests)]

            async def worker() -> None:
                while queue:
                    await send(client, queue.pop())

            times, wall = os.times(), time.perf_counter()
            if sampler:
                sampler.__enter__()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            if sampler:
                sampler.__exit__()
            after, wall = os.times(), time.perf_counter() - wall
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
        await app.state.db.dispose()
    user, system = after.user - times.user, after.system - times.system
    if sampler:
        print(sampler.report(top))
    if errors:
        print("first error:", errors[0])
    return {
        "cpu_ms": 1000 * (user + system) / requests,
        "user_ms": 1000 * user / requests,
        "sys_ms": 1000 * system / requests,
        "req_s": requests / wall,
        "statements": len(counter.statements) / requests,
        "errors": len(errors),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_reads", description=__doc__)
    parser.add_argument("--size", default="small")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workload", default="dashboard,staff_list")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", type=int, default=0, help="sampled functions to print")
    parser.add_argument("--interval", type=float, default=1.0, help="sampling interval, ms")
    args = parser.parse_args(argv)
    for name in args.workload.split(","):
        result = asyncio.run(
            measure(
                args.size, args.database, name, args.requests, args.concurrency, args.top,
                args.interval,
            )
        )  # fmt: skip
        print(
            f"{args.database} {name:<12} {result['cpu_ms']:6.2f} ms CPU/req (user "
            f"{result['user_ms']:.2f}, sys {result['sys_ms']:.2f})  {result['req_s']:7.1f} "
            f"req/s  {result['statements']:5.2f} statements/req  errors {result['errors']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
