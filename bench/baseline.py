"""The hand-written baseline: Starlette + asyncpg, one SQL statement per request, no GraphQL.

    POST /dashboard    Authorization: Bearer <portal token>   body: {} (ignored)
    POST /staff-list   Authorization: Bearer <staff token>    body: {"search": ..., "after": ...}
    GET  /healthz

Each answers with the same bytes Portico answers DASHBOARD / STAFF_LIST with (see
bench/baseline_sql.py). Served by uvicorn like Portico:

    BENCH_DATABASE_URL=postgresql://... uvicorn bench.baseline:create_app --factory --workers W

`python -m bench.baseline --check [--size small]` starts both servers, compares their answers
for several viewers, searches and pages, and exits non-zero on any difference.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.baseline_sql import (
    DASHBOARD_SQL,
    STAFF_LIST_SQL,
    BadCursor,
    decode_cursor,
    search_patterns,
)
from bench.queries import DASHBOARD, STAFF_LIST

POOL_SIZE = 10
STATEMENT_TIMEOUT_MS = "5000"  # Portico's default
# Portico's answer to a token whose session is over (portico/app.py).
SESSION_ENDED = {
    "data": None,
    "errors": [
        {
            "message": "Your session has ended. Sign in again.",
            "extensions": {"code": "UNAUTHENTICATED"},
        }
    ],
}


def token_hash(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()


def answer(body: str | None) -> Response:
    if body is None:
        return JSONResponse(SESSION_ENDED, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return Response(body.encode(), media_type="application/json")


async def dashboard(request: Request) -> Response:
    hashed = token_hash(request)
    pool: asyncpg.Pool = request.app.state.pool
    return answer(await pool.fetchval(DASHBOARD_SQL, hashed) if hashed else None)


async def staff_list(request: Request) -> Response:
    hashed = token_hash(request)
    if hashed is None:
        return answer(None)
    raw = await request.body()
    params: dict[str, Any] = json.loads(raw) if raw else {}
    try:
        after_name, after_id = decode_cursor(params.get("after"))
    except BadCursor:
        error = {"message": "The cursor is not valid for this list."}
        return JSONResponse({"data": None, "errors": [error]}, status_code=400)
    pool: asyncpg.Pool = request.app.state.pool
    patterns = search_patterns(params.get("search"))
    return answer(await pool.fetchval(STAFF_LIST_SQL, hashed, patterns, after_name, after_id))


async def healthz(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    await pool.fetchval("SELECT 1")
    return JSONResponse({"status": "ok"})


def create_app(database_url: str | None = None) -> Starlette:
    """The ASGI app; the database comes from BENCH_DATABASE_URL unless given."""
    url = database_url or os.environ["BENCH_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            url,
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            timeout=10,
            server_settings={"statement_timeout": STATEMENT_TIMEOUT_MS, "timezone": "UTC"},
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [
        Route("/dashboard", dashboard, methods=["POST"]),
        Route("/staff-list", staff_list, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


# --- check: the baseline answers exactly what Portico answers -----------------------------


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two parsed JSON values first differ, or None."""
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


Case = tuple[str, str, dict[str, Any], dict[str, Any], int]


def check_cases(
    tokens: dict[str, Any], page2: dict[str, str | None], viewers: int = 5
) -> list[Case]:
    """(name, token, Portico request body, baseline request body, expected status) for each
    comparison: several portal viewers, the staff list plain, searched and on its second page,
    and a token without a session."""
    cases: list[Case] = []
    for org in tokens["organizations"]:
        short = org["id"][:8]
        for portal in org["portal"][:viewers]:
            name = f"dashboard org {short} customer {portal['customer_id'][:8]}"
            cases.append((name, portal["token"], {"query": DASHBOARD}, {}, 200))
        pages: list[tuple[str | None, str | None]] = [(None, None), ("ar", None), ("mor 555", None)]
        if page2.get(org["id"]):
            pages.append((None, page2[org["id"]]))
        for search, after in pages:
            variables = {"search": search, "after": after}
            name = f"staff list org {short} search={search!r} after={'page 2' if after else None}"
            body = {"query": STAFF_LIST, "variables": variables}
            cases.append((name, org["staff_token"], body, variables, 200))
    ended = "no-such-session"
    cases.append(("dashboard, ended session", ended, {"query": DASHBOARD}, {}, 401))
    cases.append(("staff list, ended session", ended, {"query": STAFF_LIST}, {}, 401))
    return cases


async def check(portico_url: str, baseline_url: str, tokens: dict[str, Any]) -> list[str]:
    """Compare both servers' answers; returns one line per case (prefixed OK or DIFF)."""
    lines: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        page2: dict[str, str | None] = {}  # each organization's second-page cursor, from Portico
        for org in tokens["organizations"]:
            response = await client.post(
                f"{portico_url}/graphql",
                json={"query": STAFF_LIST, "variables": {"search": None}},
                headers={"Authorization": f"Bearer {org['staff_token']}"},
            )
            try:
                cursor = response.json()["data"]["customers"]["pageInfo"]["endCursor"]
            except (ValueError, KeyError, TypeError):
                text = response.text[:300]
                lines.append(f"DIFF staff list org {org['id'][:8]}: Portico answered {text}")
                cursor = None
            page2[org["id"]] = cursor
        for name, token, portico_body, baseline_body, expected in check_cases(tokens, page2):
            headers = {"Authorization": f"Bearer {token}"}
            path = "/dashboard" if portico_body["query"] is DASHBOARD else "/staff-list"
            ours = await client.post(f"{portico_url}/graphql", json=portico_body, headers=headers)
            theirs = await client.post(f"{baseline_url}{path}", json=baseline_body, headers=headers)
            try:
                a, b = ours.json(), theirs.json()
            except ValueError:
                lines.append(f"DIFF {name}: not JSON: {ours.text[:200]!r} / {theirs.text[:200]!r}")
                continue
            status = f"{ours.status_code}/{theirs.status_code}"
            if ours.status_code != theirs.status_code or ours.status_code != expected:
                lines.append(f"DIFF {name}: status {status}, expected {expected}")
            elif ours.status_code == 200 and "errors" in a:
                lines.append(f"DIFF {name}: Portico answered with errors {a['errors']}")
            elif ours.content == theirs.content:
                lines.append(f"OK   {name}: {status}, {len(ours.content):,} bytes, byte-equal")
            elif (difference := first_difference(a, b)) is None:
                lines.append(f"OK   {name}: {status}, equal after parsing (bytes differ)")
            else:
                lines.append(f"DIFF {name}: {difference}")
    return lines


def main(argv: list[str] | None = None) -> None:
    from bench.common import SIZES, database_url, load_tokens
    from bench.servers import running_servers

    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with Portico and exit")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    args = parser.parse_args(argv)
    if not args.check:
        parser.error("serve the baseline with uvicorn (see above), or pass --check")
    tokens = load_tokens(args.size)

    async def run() -> list[str]:
        with running_servers(database_url(args.size), workers=1) as servers:
            return await check(servers.portico_url, servers.baseline_url, tokens)

    lines = asyncio.run(run())
    print("\n".join(lines))
    failed = sum(line.startswith("DIFF") for line in lines)
    print(f"{len(lines) - failed} equal, {failed} different")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
