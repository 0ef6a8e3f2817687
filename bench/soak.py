"""Memory over a long mixed load: one `portico serve` worker, 100,000 requests by default.

    .venv/bin/python -m bench.soak [--requests 100000] [--size small] [--limit-mib 250]

The requests rotate over the bench data as real clients do: the portal dashboard of every
portal viewer, staff lists with changing searches and cursors, customer detail pages of every
customer by variable, and the same detail page with the id written into the query text (a new
document each time, as a careless client sends). The worker's resident memory is sampled
every 2 s and printed with the count of requests answered; the run fails (exit 1) when the
last sample is over `--limit-mib`, or when a request is not answered 200.

Uses the benchmark database (`python -m bench.run` generates it; `--generate` here does too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import generate
from bench.common import SIZES, database_url, load_tokens, tokens_path
from bench.queries import DASHBOARD, DEEP_PAGE, STAFF_DETAIL, STAFF_LIST
from bench.servers import start_portico, stop, wait_healthy

CLIENTS = 16
SAMPLE_SECONDS = 2.0
SEARCHES = ["a", "mor", "son", "lee", "e", "an", "ca 2019", "porsche", "911", "jo"]
LITERAL_DETAIL = """{ node(id: "%s") { ... on Customer { id name email phone
  cars(first: 5) { nodes { id make model } } invoices(first: 5) { nodes { number } } } } }"""


def bodies(tokens: dict[str, Any], seed: int = 7) -> list[tuple[str, bytes]]:
    """(token, body) items in a shuffled, repeating mix."""
    rng = random.Random(seed)
    items: list[tuple[str, bytes]] = []
    for org in tokens["organizations"]:
        staff = org["staff_token"]
        for portal in org["portal"]:
            items.append((portal["token"], _body(DASHBOARD, {})))
        for customer in org["customers"]:
            items.append((staff, _body(STAFF_DETAIL, {"id": customer["gid"]})))
            items.append((staff, _body(LITERAL_DETAIL % customer["gid"], {})))
        for word in SEARCHES:
            items.append((staff, _body(STAFF_LIST, {"search": word})))
        items.append((staff, _body(DEEP_PAGE, {"after": org["deep_cursor"]})))
        items.append((staff, _body(DEEP_PAGE, {})))
    rng.shuffle(items)
    return items


def _body(query: str, variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def drive(url: str, items: list[tuple[str, bytes]], total: int, pid: int) -> dict[str, Any]:
    answered = 0
    failed: dict[str, int] = {}
    samples: list[tuple[float, int, float]] = []
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

    async def sample(done: asyncio.Event) -> None:
        while not done.is_set():
            samples.append((time.monotonic() - started, answered, rss_mib(pid)))
            print(f"  {samples[-1][0]:6.0f} s  {answered:7d} requests  {samples[-1][2]:6.1f} MiB")
            with _quietly():
                await asyncio.wait_for(done.wait(), SAMPLE_SECONDS)
        samples.append((time.monotonic() - started, answered, rss_mib(pid)))

    done = asyncio.Event()
    sampler = asyncio.create_task(sample(done))
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
    done.set()
    await sampler
    return {"answered": answered, "failed": failed, "samples": samples}


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
    parser.add_argument("--generate", action="store_true", help="make the bench data first")
    args = parser.parse_args(argv)
    if args.generate or not tokens_path(args.size).exists():
        asyncio.run(generate.generate(SIZES[args.size], seed=1, now=generate.today_utc()))
    items = bodies(load_tokens(args.size))
    server = start_portico(database_url(args.size), workers=1)
    try:
        wait_healthy(server)
        pid = worker_pid(server.process.pid)
        print(f"soak: {args.requests} requests, {CLIENTS} clients, worker pid {pid}")
        result = asyncio.run(drive(server.url, items, args.requests, pid))
    finally:
        stop(server)
    first, last = result["samples"][0], result["samples"][-1]
    peak = max(s[2] for s in result["samples"])
    print(
        f"\n{result['answered']} answered in {last[0]:.0f} s; RSS {first[2]:.0f} MiB at start, "
        f"{peak:.0f} MiB at most, {last[2]:.0f} MiB at the end (limit {args.limit_mib:.0f})"
    )
    problems = []
    if result["failed"]:
        problems.append(f"requests not answered 200 without errors: {result['failed']}")
    if last[2] > args.limit_mib:
        problems.append(f"{last[2]:.0f} MiB at the end, over {args.limit_mib:.0f}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
