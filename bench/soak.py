"""Memory over a long mixed load: one `portico serve` worker, 100,000 requests by default.

    .venv/bin/python -m bench.soak [--requests 100000] [--size small] [--limit-mib 250]
        [--clients 16] [--out bench/results/soak.md]

The requests rotate over the bench data as real clients do: every client workload of
bench/workloads.py (portal dashboards, invoices and cars, staff lists with changing searches,
customer pages, `node` on every id, inboxes, audit, weeks of appointments, nested pages with
cursors) with ids passed as variables, and documents with the id written into the query text
(a new document each time, as a careless client sends: `node_literal` and LITERAL_DETAIL),
shuffled. Every 2 s the worker's resident memory and its plan cache (plans, their weight,
hits and misses: GET /debug/plan-cache) are sampled and printed with the count of requests
answered; the run fails (exit 1) when the last sample is over `--limit-mib`, or when a
request is not answered 200 without errors. `--out` writes the samples as Markdown.

Uses the benchmark database (`python -m bench.run` generates it; `--generate` here does too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import generate
from bench.common import SIZES, database_url, load_tokens, tokens_path
from bench.queries import DEEP_PAGE
from bench.run import _stop_on_sigterm
from bench.servers import rss_mib, start_portico, stop, wait_healthy
from bench.workloads import CLIENT_WORKLOADS, WORKLOADS

CLIENTS = 16
SAMPLE_SECONDS = 2.0
LITERAL_DETAIL = """{ node(id: "%s") { ... on Customer { id name email phone
  cars(first: 5) { nodes { id make model } } invoices(first: 5) { nodes { number } } } } }"""


def bodies(tokens: dict[str, Any], seed: int = 7) -> list[tuple[str, bytes]]:
    """(token, body) items in a shuffled, repeating mix."""
    rng = random.Random(seed)
    items: list[tuple[str, bytes]] = []
    for name in CLIENT_WORKLOADS:
        for token, query, variables in WORKLOADS[name].rows(tokens):
            items.append((token, _body(query, variables)))
    for org in tokens["organizations"]:
        staff = org["staff_token"]
        for customer in org["customers"]:
            items.append((staff, _body(LITERAL_DETAIL % customer["gid"], {})))
        items.append((staff, _body(DEEP_PAGE, {"after": org["deep_cursor"]})))
        items.append((staff, _body(DEEP_PAGE, {})))
    rng.shuffle(items)
    return items


def _body(query: str, variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


Sample = dict[str, Any]  # seconds, requests, rss_mib, and the plan cache's counters


async def drive(
    url: str, items: list[tuple[str, bytes]], total: int, pid: int, clients: int = CLIENTS
) -> dict[str, Any]:
    answered = 0
    failed: dict[str, int] = {}
    samples: list[Sample] = []
    started = time.monotonic()
    next_item = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal answered, next_item
        while next_item < total:
            token, body = items[next_item % len(items)]
            next_item += 1
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            response = await http.post("/graphql", content=body, headers=headers)
            if response.status_code != 200 or b'"errors"' in response.content:
                key = f"{response.status_code} {response.text[:80]}"
                failed[key] = failed.get(key, 0) + 1
            answered += 1

    async def take(http: httpx.AsyncClient) -> None:
        sample: Sample = {
            "seconds": time.monotonic() - started,
            "requests": answered,
            "rss_mib": rss_mib(pid),
        }
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = await http.get("/debug/plan-cache")
            if response.status_code == 200:
                sample.update(response.json())
        samples.append(sample)
        print("  " + describe(sample), flush=True)

    async def sample(http: httpx.AsyncClient, done: asyncio.Event) -> None:
        while not done.is_set():
            await take(http)
            with _quietly():
                await asyncio.wait_for(done.wait(), SAMPLE_SECONDS)
        await take(http)

    done = asyncio.Event()
    limits = httpx.Limits(max_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        sampler = asyncio.create_task(sample(http, done))
        await asyncio.gather(*(client(http) for _ in range(clients)))
        done.set()
        await sampler
    return {"answered": answered, "failed": failed, "samples": samples}


def describe(sample: Sample) -> str:
    text = (
        f"{sample['seconds']:6.0f} s  {sample['requests']:7d} requests  "
        f"{sample['rss_mib']:6.1f} MiB"
    )
    if "plans" in sample:
        looked = sample["hits"] + sample["misses"]
        rate = sample["hits"] / looked if looked else 0.0
        text += (
            f"  plans {sample['plans']:5d} ({sample['bytes'] / 2**20:5.1f} MiB), "
            f"hits {rate:.0%}, evicted {sample['evictions']}"
        )
    return text


def markdown(args: argparse.Namespace, result: dict[str, Any], items: int) -> str:
    samples = result["samples"]
    step = max(1, len(samples) // 40)
    kept = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    lines = [
        f"# Soak: {args.requests:,} requests, one worker, {args.clients} clients, {args.size} data",
        "",
        f"Command: `python -m bench.soak --requests {args.requests} --size {args.size}`; "
        f"{items:,} distinct requests in rotation (bench/soak.py). Answered "
        f"{result['answered']:,}; not answered 200 without errors: {result['failed'] or 0}.",
        "",
        "| s | requests | RSS MiB | plans | plan MiB | hit rate | evicted |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for sample in kept:
        looked = sample.get("hits", 0) + sample.get("misses", 0)
        lines.append(
            f"| {sample['seconds']:.0f} | {sample['requests']:,} | {sample['rss_mib']:.0f} | "
            f"{sample.get('plans', '—')} | {sample.get('bytes', 0) / 2**20:.1f} | "
            f"{sample.get('hits', 0) / looked if looked else 0:.0%} | "
            f"{sample.get('evictions', '—')} |"
        )
    return "\n".join(lines) + "\n"


class _quietly:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is TimeoutError


def worker_pid(server_pid: int) -> int:
    """The serving process: uvicorn's worker when it has children, else the server itself."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children")
    found = children.read_text().split() if children.exists() else []
    return int(found[0]) if found else server_pid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--limit-mib", type=float, default=250.0)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--out", type=Path, default=None, help="write the samples as Markdown")
    parser.add_argument("--generate", action="store_true", help="make the bench data first")
    args = parser.parse_args(argv)
    _stop_on_sigterm()  # the server is stopped on the way out
    if args.generate or not tokens_path(args.size).exists():
        asyncio.run(generate.generate(SIZES[args.size], seed=1, now=generate.today_utc()))
    items = bodies(load_tokens(args.size))
    server = start_portico(database_url(args.size), workers=1)
    try:
        wait_healthy(server)
        pid = worker_pid(server.process.pid)
        print(f"soak: {args.requests} requests, {args.clients} clients, worker pid {pid}")
        result = asyncio.run(drive(server.url, items, args.requests, pid, args.clients))
    finally:
        stop(server)
    samples = result["samples"]
    first, last = samples[0], samples[-1]
    peak = max(s["rss_mib"] for s in samples)
    print(
        f"\n{result['answered']} answered in {last['seconds']:.0f} s; RSS "
        f"{first['rss_mib']:.0f} MiB at start, {peak:.0f} MiB at most, "
        f"{last['rss_mib']:.0f} MiB at the end (limit {args.limit_mib:.0f})"
    )
    if args.out:
        args.out.write_text(markdown(args, result, len(items)))
        print(f"wrote {args.out}")
    problems = []
    if result["failed"]:
        problems.append(f"requests not answered 200 without errors: {result['failed']}")
    if last["rss_mib"] > args.limit_mib:
        problems.append(f"{last['rss_mib']:.0f} MiB at the end, over {args.limit_mib:.0f}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
