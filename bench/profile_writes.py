"""Where a mutation's server CPU goes, in process: Portico's ASGI app through httpx's ASGI
transport (no server, no sockets), the process's CPU time per request, the SQL statements
each sends, and optionally a cProfile of the whole run.

    python -m bench.profile_writes --size small --mutation createCustomer --requests 300
    python -m bench.profile_writes --mutation sendMessage --profile 40 --statements
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from typing import Any

import httpx
import sqlalchemy as sa

from bench import write_workloads as ww
from bench.common import RAW_DIR, database_url, load_tokens, sqlalchemy_url
from bench.statements import Counter
from core.settings import settings_from_env
from portico.app import create_app


async def measure(
    size: str,
    mutation: str,
    requests: int,
    concurrency: int,
    profile_lines: int,
    show_statements: bool,
    url: str | None = None,
) -> dict[str, Any]:
    url = url or database_url(size)
    tokens = load_tokens(size)
    if mutation == "approveEstimate":
        await ww.reset(url, tokens)
    tag = f"p{int(time.time() * 1000) % 10**9}"
    rows = await ww.inputs(url, tokens, mutation, requests + 10, tag)
    items = ww.portico_items(mutation, rows)
    warm, items = items[:10], items[10:]
    settings = settings_from_env(
        {
            "DATABASE_URL": sqlalchemy_url(url),
            "REQUESTS_PER_MINUTE_PER_CLIENT": str(10**9),
            "REQUESTS_PER_MINUTE_PER_SESSION": str(10**9),
            "MAX_REQUESTS_IN_FLIGHT": "0",
            "TENANT_SLOT_SHARE": "1",
            "ADMISSION_WAIT_MS": "60000",
        }
    )
    app = create_app(settings, run_mail_worker=False)
    counter = Counter()
    sa.event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", counter)
    profiler = cProfile.Profile(time.thread_time) if profile_lines else None
    errors: list[str] = []

    async def send(client: httpx.AsyncClient, item: ww.Item) -> None:
        token, body = item
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        response = await client.post("/graphql", content=body, headers=headers)
        answer = response.json()
        data = (answer.get("data") or {}).get(mutation) or {}
        if response.status_code != 200 or "errors" in answer or data.get("userErrors"):
            errors.append(response.text[:300])

    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for item in warm:
                    await send(client, item)
                counter.statements.clear()
                await send(client, items[0])
                one = list(counter.statements)
                counter.statements.clear()
                queue = list(items[1:])

                async def worker() -> None:
                    while queue:
                        await send(client, queue.pop())

                if profiler:
                    profiler.enable()
                times, wall = os.times(), time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(concurrency)))
                after, wall = os.times(), time.perf_counter() - wall
                user, system = after.user - times.user, after.system - times.system
                if profiler:
                    profiler.disable()
    finally:
        sa.event.remove(app.state.db.engine.sync_engine, "before_cursor_execute", counter)
    done = len(items) - 1
    result = {
        "mutation": mutation,
        "requests": done,
        "cpu_ms": 1000 * (user + system) / done,
        "user_ms": 1000 * user / done,
        "sys_ms": 1000 * system / done,
        "req_s": done / wall,
        "statements": len(counter.statements) / done,
        "errors": len(errors),
    }
    if errors:
        print("first error:", errors[0])
    if show_statements:
        for statement in one:
            print("   ", " ".join(statement.split())[:300])
    if profiler:
        stats = pstats.Stats(profiler)
        RAW_DIR.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(RAW_DIR / f"profile-{mutation}.pstats")
        stats.sort_stats("cumulative").print_stats(profile_lines)
        stats.sort_stats("tottime").print_stats(profile_lines)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_writes", description=__doc__)
    parser.add_argument("--size", default="small")
    parser.add_argument("--mutation", default="all", help=f"one of {list(ww.MUTATIONS)}, or all")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", type=int, default=0, help="cProfile lines to print")
    parser.add_argument("--statements", action="store_true", help="print one request's SQL")
    parser.add_argument("--database-url", default=None, help="instead of the bench database")
    args = parser.parse_args(argv)
    names = list(ww.MUTATIONS) if args.mutation == "all" else args.mutation.split(",")
    results = []
    for name in names:
        result = asyncio.run(
            measure(
                args.size,
                name,
                args.requests,
                args.concurrency,
                args.profile,
                args.statements,
                args.database_url,
            )
        )
        print(
            f"{name:<16} {result['cpu_ms']:6.2f} ms CPU/req (user {result['user_ms']:.2f}, "
            f"sys {result['sys_ms']:.2f})  {result['req_s']:7.1f} req/s  "
            f"{result['statements']:5.2f} statements/req  errors {result['errors']}",
            flush=True,
        )
        results.append(result)


if __name__ == "__main__":
    main()
