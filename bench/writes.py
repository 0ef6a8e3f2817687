"""The write benchmark: four mutations against Portico and the hand-written baseline
(bench/baseline_writes.py), both served by uvicorn on the bench database, interleaved.

    .venv/bin/python -m bench.writes --size small --requests 400 --runs 2 --concurrency 16

Each run sends every item once (count-bounded: an approval cannot be repeated) at the
given concurrency, and reads each server's CPU time from /proc before and after, and that
of the database backends serving the bench database. Reported per mutation: req/s and its
ratio to the baseline, server CPU ms per request (the best run of each: the machine may be
shared), database CPU ms per request, p50/p99, and SQL statements per request (Portico's
counted in process, bench/profile_writes.py; the baseline's by the baseline itself).
Writes `bench/results/<UTC date>-writes-<size>.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import servers
from bench import write_workloads as ww
from bench.common import RESULTS_DIR, database_url, load_tokens
from bench.profile_writes import measure as measure_in_process

REQUEST_TIMEOUT_S = 30


@dataclass
class Run:
    requests: int
    seconds: float
    server_cpu_s: float
    db_cpu_s: float
    latencies_ms: list[float]
    failed: int
    first_failure: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def server_ms(self) -> float:
        return 1000 * self.server_cpu_s / self.requests

    @property
    def db_ms(self) -> float:
        return 1000 * self.db_cpu_s / self.requests

    def percentile(self, pct: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))]


@dataclass
class Figures:
    portico: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)
    portico_statements: float = 0.0
    baseline_statements: float = 0.0


def _failed(name: str, status: int, text: str) -> bool:
    if status != 200:
        return True
    answer = json.loads(text)
    found = (answer.get("data") or {}).get(name) or {}
    return "errors" in answer or bool(found.get("userErrors")) or not found


async def send_all(
    url: str,
    name: str,
    items: list[ww.Item],
    concurrency: int,
    server: servers.Server,
    database: str,
) -> Run:
    """Every item once over `concurrency` connections; the server's CPU around it."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    queue = list(reversed(items))
    latencies: list[float] = []
    failures: list[str] = []
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:

        async def worker() -> None:
            while queue:
                token, body = queue.pop()
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                sent = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(1000 * (time.perf_counter() - sent))
                if _failed(name, response.status_code, response.text):
                    failures.append(response.text[:300])

        cpu, backends = server.cpu_seconds(), servers.postgres_backends(database)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu
        db_cpu = servers.postgres_cpu_seconds(backends, servers.postgres_backends(database))
    return Run(len(items), seconds, cpu, db_cpu, latencies, len(failures), (failures or [""])[0])


def start_baseline(url: str, workers: int) -> servers.Server:
    port = servers.free_port()
    env = servers._environment(BENCH_DATABASE_URL=url)
    command = [
        sys.executable, "-m", "uvicorn", "bench.baseline_writes:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return servers._start("baseline_writes", command, env, port, workers)


def _statements(server: servers.Server) -> dict[str, int]:
    counts: dict[str, int] = httpx.get(f"{server.url}/stats", timeout=10).json()
    return counts


async def bench_mutation(
    name: str,
    args: argparse.Namespace,
    tokens: dict[str, Any],
    portico: servers.Server,
    baseline: servers.Server,
) -> Figures:
    url = args.database_url
    figures = Figures()
    for run in range(args.runs):
        for which, server in (("baseline", baseline), ("portico", portico)):
            if name == "approveEstimate":
                await ww.reset(url, tokens)
            tag = f"{which[0]}{run}{int(time.time()) % 100000}"
            offset = (2 * run + (which == "portico")) * args.requests
            rows = await ww.inputs(url, tokens, name, args.requests, tag, offset)
            if which == "portico":
                items = ww.portico_items(name, rows)
                target = f"{server.url}/graphql"
            else:
                items = ww.baseline_items(rows)
                target = f"{server.url}/{name}"
                before = _statements(server)
            database = url.rsplit("/", 1)[1]
            result = await send_all(target, name, items, args.concurrency, server, database)
            if which == "baseline":
                after = _statements(server)
                requests = after["requests"] - before["requests"]
                if requests:
                    statements = after["statements"] - before["statements"]
                    figures.baseline_statements = statements / requests
            getattr(figures, which).append(result)
            print(
                f"  {name:<16} {which:<9} run {run + 1}: {result.rps:7.1f} req/s  "
                f"server {result.server_ms:6.2f} ms/req  db {result.db_ms:5.2f} ms/req  "
                f"failed {result.failed} {result.first_failure[:200]}",
                flush=True,
            )
    if name == "approveEstimate":
        await ww.reset(url, tokens)
    counted = await measure_in_process(args.size, name, 20, 1, 0, False, url)
    figures.portico_statements = counted["statements"]
    return figures


def _best(runs: list[Run]) -> Run:
    return min(runs, key=lambda run: run.server_ms)


def report(results: dict[str, Figures], args: argparse.Namespace) -> str:
    lines = [
        f"# Writes: Portico against the hand-written baseline ({args.size} data)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; c{args.concurrency}, {args.workers} worker(s), "
        f"{args.requests} requests per run (approveEstimate: the viewers' estimates), "
        f"{args.runs} run(s) per server, interleaved; best run by server CPU. "
        "CPU from /proc: the server's processes, and the PostgreSQL backends of the bench "
        "database.",
        "",
        "| mutation | Portico req/s | baseline req/s | ratio | Portico CPU ms/req | "
        "baseline CPU ms/req | CPU ratio | Portico db ms/req | baseline db ms/req | "
        "Portico statements | baseline statements | Portico p50/p99 ms | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, figures in results.items():
        p, b = _best(figures.portico), _best(figures.baseline)
        rps_p = statistics.median(r.rps for r in figures.portico)
        rps_b = statistics.median(r.rps for r in figures.baseline)
        failed = sum(r.failed for r in figures.portico + figures.baseline)
        lines.append(
            f"| {name} | {rps_p:.0f} | {rps_b:.0f} | {rps_p / rps_b:.2f} | "
            f"{p.server_ms:.2f} | {b.server_ms:.2f} | {p.server_ms / b.server_ms:.1f}x | "
            f"{p.db_ms:.2f} | {b.db_ms:.2f} | {figures.portico_statements:.1f} | "
            f"{figures.baseline_statements:.1f} | {p.percentile(50):.0f}/{p.percentile(99):.0f} | "
            f"{failed} |"
        )
    return "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> None:
    tokens = load_tokens(args.size)
    names = list(ww.MUTATIONS) if args.mutations == "all" else args.mutations.split(",")
    results: dict[str, Figures] = {}
    portico = servers.start_portico(args.database_url, args.workers)
    baseline = start_baseline(args.database_url, args.workers)
    try:
        servers.wait_healthy(portico)
        servers.wait_healthy(baseline)
        for name in names:
            results[name] = await bench_mutation(name, args, tokens, portico, baseline)
    finally:
        servers.stop(portico)
        servers.stop(baseline)
    text = report(results, args)
    print(text)
    if not args.no_write:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{datetime.now(UTC):%Y-%m-%d}-writes-{args.size}.md"
        path.write_text(text)
        print(f"written to {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.writes", description=__doc__)
    parser.add_argument("--size", default="small")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--mutations", default="all")
    parser.add_argument("--database-url", default=None, help="instead of the bench database")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    args = parser.parse_args(argv)
    args.database_url = args.database_url or database_url(args.size)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
