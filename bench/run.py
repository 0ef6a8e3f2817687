"""Measure Portico against the hand-written baseline in one run and write the report.

    .venv/bin/python -m bench.run [--size small|large] [--duration 5] [--runs 3]
        [--concurrency 1,16,64] [--workers 1,2] [--workloads dashboard,staff_list,...]

Regenerates the benchmark database (unless --no-generate), counts Portico's SQL statements per
request in process, then for each worker count starts both servers, checks that the baseline
answers exactly what Portico answers, and loads each workload at each concurrency, alternating
Portico and baseline runs. Writes bench/results/<UTC date>-<size>.md and the raw figures to
bench/results/raw/. The servers are always stopped, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import asyncpg

from bench import generate
from bench import sqlite as on_sqlite
from bench.baseline import check
from bench.common import (
    PROJECT_DIR,
    RAW_DIR,
    RESULTS_DIR,
    SIZES,
    database_url,
    load_tokens,
    sqlite_path,
    sqlite_url,
)
from bench.load import WRK_INSTALL_HINT, Load, LoadResult, run, wrk_available
from bench.report import machine_info, render
from bench.servers import (
    Server,
    Servers,
    plan_cache,
    postgres_backends,
    postgres_cpu_seconds,
    running_servers,
)
from bench.statements import count_statements
from bench.workloads import CLIENT_WORKLOADS, WORKLOADS, Workload

WARM_UP_SECONDS = 1.0
# Names for several workloads at once: `--workloads client` (what a client sends), `all`.
WORKLOAD_SETS = {"client": CLIENT_WORKLOADS, "all": list(WORKLOADS)}
WRITE_RATE = 10.0  # mutations per second in write_mix
WRITE_CONNECTIONS = 4  # at most this many mutations in flight


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _workloads(text: str) -> list[str]:
    names: list[str] = []
    for name in (x.strip() for x in text.split(",") if x.strip()):
        names += WORKLOAD_SETS.get(name, [name])
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown workloads {unknown}; known: {list(WORKLOADS)}")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per setting (median kept)")
    parser.add_argument("--concurrency", type=_ints, default=[1, 16, 64])
    parser.add_argument("--workers", type=_ints, default=[1, 2])
    parser.add_argument("--workloads", type=_workloads, default=list(WORKLOADS))
    parser.add_argument("--write-rate", type=float, default=WRITE_RATE, help="mutations/s")
    parser.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--database",
        choices=["postgresql", "sqlite"],
        default="postgresql",
        help="sqlite: also serve Portico on the SQLite copy of the data (bench.generate "
        "--sqlite), checked against and measured beside Portico on PostgreSQL",
    )
    parser.add_argument(
        "--no-generate", action="store_true", help="reuse the database and tokens as they are"
    )
    parser.add_argument(
        "--ignore-check",
        action="store_true",
        help="measure even if the baseline's answers differ from Portico's (listed in the report)",
    )
    return parser.parse_args(argv)


def _stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers are stopped on the way out."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


class Bench:
    """One invocation: its settings, the tokens, and the runs measured so far."""

    def __init__(self, args: argparse.Namespace, driver: str, tokens: dict[str, Any]) -> None:
        self.args = args
        self.driver = driver
        self.tokens = tokens
        self.runs: list[dict[str, Any]] = []
        self.mutations_sent = 0  # each mutation run goes on through the list: real changes
        self.last_extra: dict[str, Any] = {}  # the last run's memory and plan-cache figures

    def _next_writes(self, writes: Load | None, seconds: float) -> Load | None:
        if writes is None:
            return None
        offset = self.mutations_sent
        self.mutations_sent += int(seconds * (writes.rate or 0))
        return replace(writes, seconds=seconds, offset=offset)

    def measure(
        self, server: Server, url: str, items: list[Any], concurrency: int, writes: Load | None
    ) -> tuple[LoadResult, LoadResult | None, float, float]:
        """A warm-up, then one measured run (with the mutation load beside it, if any);
        returns the read result, the write result, and the CPU seconds the server and
        PostgreSQL used."""
        reads = Load(url, items, concurrency, self.args.duration)
        warm_reads = Load(url, items, concurrency, WARM_UP_SECONDS)
        self._together(warm_reads, self._next_writes(writes, WARM_UP_SECONDS))
        database = self.tokens["database_url"].rsplit("/", 1)[-1]
        cache_before = plan_cache(server) if server.name.startswith("portico") else None
        before, db_before = server.cpu_seconds(), postgres_backends(database)
        read, write = self._together(reads, self._next_writes(writes, self.args.duration))
        db_cpu = postgres_cpu_seconds(db_before, postgres_backends(database))
        cpu = server.cpu_seconds() - before
        self.last_extra = {"rss_mib": server.rss_mib(), **_cache_delta(cache_before, server)}
        return read, write, cpu, db_cpu

    def _together(self, reads: Load, writes: Load | None) -> tuple[LoadResult, LoadResult | None]:
        if writes is None:
            return run(reads, self.driver), None
        with ThreadPoolExecutor(max_workers=2) as pool:
            read = pool.submit(run, reads, self.driver)
            write = pool.submit(run, writes, "python")  # at a fixed rate
            return read.result(), write.result()

    def record(
        self, workload: str, server: str, role: str, workers: int, concurrency: int, run_no: int,
        result: LoadResult, per_request: dict[str, float | None],
    ) -> dict[str, Any]:  # fmt: skip
        entry = {
            "workload": workload,
            "server": server,
            "role": role,
            "workers": workers,
            "concurrency": concurrency,
            "run": run_no,
            **per_request,
            **result.as_dict(),
        }
        self.runs.append(entry)
        return entry

    def workload(self, workload: Workload, servers: Servers, workers: int) -> None:
        portico_items = workload.portico_items(self.tokens)
        baseline_items = workload.baseline_items(self.tokens) if workload.baseline_path else None
        mutations = workload.mutation_items(self.tokens) if workload.writes else None
        targets: list[tuple[str, Server, str, list[Any]]] = []
        if servers.portico_sqlite is not None:  # S, P, B, S, P, B, ...
            sqlite_graphql = f"{servers.portico_sqlite.url}/graphql"
            targets.append(
                ("portico_sqlite", servers.portico_sqlite, sqlite_graphql, portico_items)
            )
        targets.append(
            ("portico", servers.portico, f"{servers.portico_url}/graphql", portico_items)
        )
        if baseline_items is not None:
            url = f"{servers.baseline_url}{workload.baseline_path}"
            targets.append(("baseline", servers.baseline, url, baseline_items))
        writes = None
        if mutations:
            mutation_url = f"{servers.portico_url}/graphql"
            duration, rate = self.args.duration, self.args.write_rate
            writes = Load(mutation_url, mutations, WRITE_CONNECTIONS, duration, rate)
        for concurrency in self.args.concurrency:
            for run_no in range(1, self.args.runs + 1):
                for name, server, url, items in targets:  # P, B, P, B, ...
                    # Portico on SQLite takes the mutations itself; the others, Portico's.
                    own = (
                        replace(writes, url=url) if writes and name == "portico_sqlite" else writes
                    )
                    read, write, cpu, db_cpu = self.measure(server, url, items, concurrency, own)
                    served = read.requests + (write.requests if write else 0)
                    per_request = {
                        "cpu_ms_per_req": cpu * 1000 / served if served else None,
                        "db_cpu_ms_per_req": db_cpu * 1000 / served if served else None,
                        **self.last_extra,
                    }
                    entry = self.record(
                        workload.name, name, "read", workers, concurrency, run_no, read, per_request
                    )
                    if write is not None:
                        self.record(
                            workload.name, name, "write", workers, concurrency, run_no, write, {}
                        )
                    print(_progress(entry, self.args.runs, write), flush=True)


def _cache_delta(before: dict[str, int] | None, server: Server) -> dict[str, Any]:
    """The plan cache's hit rate over a run of Portico, and its size after it."""
    if before is None:
        return {}
    after = plan_cache(server)
    if after is None:
        return {}
    hits, misses = after["hits"] - before["hits"], after["misses"] - before["misses"]
    return {
        "plan_hit_rate": hits / (hits + misses) if hits + misses else None,
        "plans": after["plans"],
        "plan_bytes": after["bytes"],
    }


def _progress(entry: dict[str, Any], runs: int, write: LoadResult | None) -> str:
    cpu, db_cpu = entry["cpu_ms_per_req"], entry["db_cpu_ms_per_req"]
    text = (
        f"  {entry['workload']:<21} {entry['server']:<8} w{entry['workers']} "
        f"c{entry['concurrency']:<3} run {entry['run']}/{runs}: {entry['rps']:8.1f} req/s  "
        f"p50 {entry['p50_ms']:7.2f}  p99 {entry['p99_ms']:7.2f} ms  "
        f"cpu {cpu if cpu is not None else float('nan'):6.2f} "
        f"(db {db_cpu if db_cpu is not None else float('nan'):5.2f}) ms/req"
    )
    text += f"  rss {entry.get('rss_mib', 0):.0f} MiB"
    if entry.get("plan_hit_rate") is not None:
        text += f"  plan hits {entry['plan_hit_rate']:.0%}"
    if entry["errors"]:
        text += f"  errors {entry['errors']}"
    if write is not None:
        text += f"  | mutations {write.rps:.1f}/s p50 {write.p50_ms:.1f} ms"
    return text


def statement_requests(
    tokens: dict[str, Any], names: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """One Portico request per workload (and the mutation) to count statements with."""
    requests = {name: WORKLOADS[name].portico_items(tokens)[:1] for name in names}
    if "write_mix" in names:
        # Different customers and numbers each time: a mutation that changes nothing writes less.
        requests["write_mix_mutation"] = WORKLOADS["write_mix"].mutation_items(tokens, seed=2)
    return requests


async def postgres_version(url: str) -> str:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def git_head() -> str:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def choose_driver(requested: str) -> str:
    if requested == "python":
        return "python"
    if wrk_available():
        return "wrk"
    if requested == "wrk":
        raise SystemExit(WRK_INSTALL_HINT)
    print(WRK_INSTALL_HINT, file=sys.stderr)
    return "python"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    _stop_on_sigterm()
    driver = choose_driver(args.driver)
    started = datetime.now(UTC)
    with_sqlite = args.database == "sqlite"
    if not args.no_generate:
        print(f"generating the {args.size} database", flush=True)
        asyncio.run(
            generate.generate(
                SIZES[args.size], seed=1, now=generate.today_utc(), sqlite=with_sqlite
            )
        )
    tokens = load_tokens(args.size)
    url = database_url(args.size)
    on_file = sqlite_url(args.size) if with_sqlite else None
    if with_sqlite and (not sqlite_path(args.size).exists() or tokens.get("sqlite_path") is None):
        raise SystemExit(
            f"no SQLite copy of these tokens' data: run `.venv/bin/python -m bench.generate "
            f"--size {args.size} --sqlite` (or bench.run without --no-generate)"
        )

    print("counting Portico's SQL statements per request", flush=True)
    requests = statement_requests(tokens, args.workloads)
    statements, sizes = asyncio.run(count_statements(url, requests))
    print("  " + ", ".join(f"{k} {v:g}" for k, v in statements.items()), flush=True)
    sqlite_statements: dict[str, float] = {}
    if on_file is not None:
        sqlite_statements, _ = asyncio.run(count_statements(on_file, requests))
        print(
            "  SQLite: " + ", ".join(f"{k} {v:g}" for k, v in sqlite_statements.items()),
            flush=True,
        )

    bench = Bench(args, driver, tokens)
    check_lines: list[str] = []
    sqlite_check: list[str] = []
    for workers in args.workers:
        print(f"starting Portico and the baseline with {workers} worker(s)", flush=True)
        with running_servers(url, workers, on_file) as servers:
            if servers.portico_sqlite is not None and not sqlite_check:
                sqlite_check = asyncio.run(
                    on_sqlite.check(
                        servers.portico_url, servers.portico_sqlite.url, tokens, args.workloads
                    )
                )
                different = [line for line in sqlite_check if line.startswith("DIFF")]
                if different:
                    print("\n".join(different))
                    if not args.ignore_check:
                        raise SystemExit(
                            "Portico on SQLite does not answer what it does on PostgreSQL"
                        )
                equal = len(sqlite_check) - len(different)
                print(f"  SQLite check: {equal} of {len(sqlite_check)} cases equal", flush=True)
            if not check_lines:
                check_lines = asyncio.run(check(servers.portico_url, servers.baseline_url, tokens))
                different = [line for line in check_lines if line.startswith("DIFF")]
                if different:
                    print("\n".join(different))
                    if not args.ignore_check:
                        raise SystemExit("the baseline does not answer what Portico answers")
                equal = len(check_lines) - len(different)
                print(f"  baseline check: {equal} of {len(check_lines)} cases equal", flush=True)
            for name in args.workloads:
                bench.workload(WORKLOADS[name], servers, workers)

    finished = datetime.now(UTC)
    byte_equal = sum("byte-equal" in line for line in check_lines)
    different = [line for line in check_lines if line.startswith("DIFF")]
    summary = (
        f"{len(check_lines)} cases compared, all equal ({byte_equal} byte-for-byte)"
        if not different
        else f"**{len(different)} of {len(check_lines)} cases differ** (run with --ignore-check): "
        + "; ".join(line.removeprefix("DIFF ") for line in different[:5])
    )
    org0 = tokens["organizations"][0]
    result = {
        "meta": {
            "size": args.size,
            "date": started.date().isoformat(),
            "command": shlex.join([".venv/bin/python", "-m", "bench.run", *(argv or sys.argv[1:])]),
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "driver": driver,
            "git": git_head(),
            "machine": machine_info(),
            "postgres": asyncio.run(postgres_version(url)),
            "counts": tokens["counts"],
            "organizations": len(tokens["organizations"]),
            "portal_sessions": sum(len(o["portal"]) for o in tokens["organizations"]),
            "seed": tokens["seed"],
            "now": tokens["now"],
            "deep_page": org0["deep_page"],
            "check_summary": summary,
            "args": vars(args),
        },
        "statements": statements,
        "sqlite_statements": sqlite_statements,
        "response_bytes": sizes,
        "check": check_lines,
        "sqlite_check": sqlite_check,
        "runs": bench.runs,
    }
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y-%m-%dT%H%M%SZ")
    suffix = f"{args.size}-sqlite" if with_sqlite else args.size
    raw_path = RAW_DIR / f"{stamp}-{suffix}.json"
    raw_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    report_path = RESULTS_DIR / f"{started.date().isoformat()}-{suffix}.md"
    report_path.write_text(render(result))
    print(f"wrote {report_path.relative_to(PROJECT_DIR)} and {raw_path.relative_to(PROJECT_DIR)}")


if __name__ == "__main__":
    main()
