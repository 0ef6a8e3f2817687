"""The hand-written baseline: Starlette + asyncpg, one SQL statement per request, no GraphQL.

    POST /<workload path>   Authorization: Bearer <token>   body: the workload's variables
    GET  /healthz

One route per workload of bench/workloads.py (its `baseline_path`), each answering with the
bytes Portico answers the workload's query with (see bench/baseline_sql.py): one statement
checks the session and builds the whole response. The only Python per request is what
Portico also does in Python: decoding ids and cursors, choosing the statement for the
shape of the variables, and signing download links (the statement marks where they go),
with a portal viewer's views of them written to the access log in batches off the request
path. Served by uvicorn like Portico:

    BENCH_DATABASE_URL=postgresql://... uvicorn bench.baseline:create_app --factory --workers W

`python -m bench.baseline --check [--size small]` starts both servers, compares their answers
for each workload over rotating ids, searches, cursors and weeks, and exits non-zero on any
difference.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
from itsdangerous import URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench import baseline_sql as q
from bench.baseline_sql import BadInput

POOL_SIZE = 10
STATEMENT_TIMEOUT_MS = "5000"  # Portico's default
FLUSH_SECONDS = 0.5  # access-log rows are written in batches, as Portico's buffer does
DOWNLOAD_SALT = "portico-download-link"  # auth/downloads.py
LOGGED_AS = {"invoice-pdf": "Invoice", "estimate-pdf": "Estimate", "document": "Document"}
LINK = re.compile(r'"@link:([a-z-]+):([0-9a-f]{32})"')
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

Statement = tuple[str, list[Any]]


def token_hash(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()


def _id(variables: dict[str, Any], name: str, type_name: str) -> uuid.UUID:
    found, row_id = q.decode_gid(str(variables.get(name) or ""))
    if found != type_name:
        raise BadInput(name)
    return row_id


def _customer_list(variables: dict[str, Any], deep: bool) -> Statement:
    shape, args = q.search_args(variables.get("search"))
    after = variables.get("after")
    if after:
        args += q.decode_cursor(after)
    return q.customer_list_sql(shape, bool(after), deep), args


def _node(variables: dict[str, Any]) -> Statement:
    type_name, row_id = q.decode_gid(str(variables.get("id") or ""))
    if type_name not in q.NODE_SQL:
        raise BadInput(type_name)
    return q.NODE_SQL[type_name], [row_id]


def _audit(variables: dict[str, Any]) -> Statement:
    if variables.get("customerId"):
        return q.audit_sql(True), [_id(variables, "customerId", "Customer")]
    return q.audit_sql(False), []


def _week(variables: dict[str, Any]) -> Statement:
    try:
        start, end = (datetime.fromisoformat(variables[k]) for k in ("from", "to"))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput("week") from exc
    return q.WEEK_SQL, [start.astimezone(UTC), end.astimezone(UTC)]


def _invoices_page(variables: dict[str, Any]) -> Statement:
    args: list[Any] = [_id(variables, "id", "Customer")]
    after = variables.get("after")
    if after:
        args += q.decode_time_cursor(after)
    return q.invoices_page_sql(bool(after)), args


def _searched(build: Callable[[tuple[bool, ...]], str], numbers: bool = False) -> Any:
    def statement(variables: dict[str, Any]) -> Statement:
        shape, args = q.search_args(variables.get("search"), numbers)
        return build(shape), args

    return statement


ROUTES: dict[str, Callable[[dict[str, Any]], Statement]] = {
    "/dashboard": lambda v: (q.DASHBOARD_SQL, []),
    "/staff-list": lambda v: _customer_list(v, deep=False),
    "/deep-page": lambda v: _customer_list(v, deep=True),
    "/portal-invoices": lambda v: (q.PORTAL_INVOICES_SQL, []),
    "/portal-car": lambda v: (q.PORTAL_CAR_SQL, [_id(v, "id", "Car")]),
    "/staff-customers": _searched(q.staff_customers_sql),
    "/customer-page": lambda v: (q.CUSTOMER_PAGE_SQL, [_id(v, "id", "Customer")]),
    "/node": _node,
    "/inbox": lambda v: (q.inbox_sql(bool(v.get("unreadOnly"))), []),
    "/audit": _audit,
    "/week": _week,
    "/invoices-page-2": _invoices_page,
    "/car-search": _searched(q.car_search_sql, numbers=True),
    "/open-invoices": lambda v: (q.OPEN_INVOICES_SQL, []),
    "/pending-estimates": lambda v: (q.PENDING_ESTIMATES_SQL, []),
    "/node-literal": lambda v: (q.NODE_LITERAL_SQL, [_id(v, "id", "Customer")]),
}


# The workloads whose query asks for a signed link.
FILLED = frozenset({"/portal-invoices", "/portal-car", "/customer-page"})


class Links:
    """Signs the links a statement marked, as Portico does (auth/downloads.py), and keeps a
    portal viewer's views of them for the access log's next batch."""

    def __init__(self) -> None:
        from core.settings import settings_from_env

        settings = settings_from_env(os.environ)  # the same keys and address as Portico's
        self.public_url = settings.public_url
        self.serializer = URLSafeTimedSerializer(
            list(reversed(settings.secret_keys)), salt=DOWNLOAD_SALT
        )
        self.pending: list[tuple[Any, ...]] = []

    def sign(self, body: str, session: uuid.UUID, org: uuid.UUID, customer: Any) -> str:
        seen: dict[tuple[str, str], None] = {}

        def url(match: re.Match[str]) -> str:
            kind, row = match.group(1), match.group(2)
            if customer is not None and kind in LOGGED_AS:
                seen[(LOGGED_AS[kind], row)] = None
            token = self.serializer.dumps([session.hex, kind, row])
            return f'"{self.public_url}/downloads/{token}"'

        signed = LINK.sub(url, body)
        now = datetime.now(UTC)
        for subject_type, row in seen:
            self.pending.append(
                (uuid.uuid4(), now, now, org, subject_type, uuid.UUID(hex=row), "VIEW",
                 customer, None, None, None)
            )  # fmt: skip
        return signed

    async def flush(self, pool: asyncpg.Pool) -> None:
        rows, self.pending = self.pending, []
        if rows:
            await pool.copy_records_to_table("access_logs", records=rows, columns=ACCESS_COLUMNS)

    async def run(self, pool: asyncpg.Pool) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush(pool)


ACCESS_COLUMNS = [
    "id", "created_at", "updated_at", "organization_id", "subject_type", "subject_id", "action",
    "customer_id", "contact_id", "ip", "user_agent",
]  # fmt: skip


def _error(message: str) -> Response:
    return JSONResponse({"data": None, "errors": [{"message": message}]}, status_code=400)


def endpoint(build: Callable[[dict[str, Any]], Statement], fills: bool) -> Any:
    async def serve(request: Request) -> Response:
        hashed = token_hash(request)
        if hashed is None:
            return _ended()
        raw = await request.body()
        try:
            variables = json.loads(raw) if raw else {}
            sql, args = build(variables if isinstance(variables, dict) else {})
        except (BadInput, ValueError):
            return _error("The id or cursor is not valid.")
        pool: asyncpg.Pool = request.app.state.pool
        row = await pool.fetchrow(sql, hashed, *args)
        if row is None:
            return _ended()
        body: str = row["body"]
        if fills:
            # As Portico does with an answer it fills in (planner/prepared.py): links signed,
            # then sent as compact JSON.
            body = request.app.state.links.sign(body, row["sid"], row["org"], row["customer"])
            return Response(orjson.dumps(orjson.loads(body)), media_type="application/json")
        return Response(body.encode(), media_type="application/json")

    return serve


def _ended() -> Response:
    return JSONResponse(SESSION_ENDED, status_code=401, headers={"WWW-Authenticate": "Bearer"})


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
        app.state.links = Links()
        writer = asyncio.create_task(app.state.links.run(app.state.pool))
        try:
            yield
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await app.state.links.flush(app.state.pool)
            await app.state.pool.close()

    routes = [
        Route(path, endpoint(build, path in FILLED), methods=["POST"])
        for path, build in ROUTES.items()
    ]
    routes.append(Route("/healthz", healthz, methods=["GET"]))
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


Case = tuple[str, str, str, dict[str, Any], dict[str, Any], int]
PER_WORKLOAD = 6  # requests compared per workload, spread over its rotation
STAFF_LIST_SEARCHES = ["ar", "mor 555"]


def _spread(rows: list[Any], count: int) -> list[Any]:
    step = max(1, len(rows) // count)
    return rows[::step][:count]


def check_cases(
    tokens: dict[str, Any], page2: dict[str, str | None], per_workload: int = PER_WORKLOAD
) -> list[Case]:
    """(name, baseline path, token, Portico request body, variables, expected status) for
    each comparison: requests spread over each workload's rotation (ids, searches, cursors,
    weeks), the staff list searched and on its second page, and a token without a session."""
    from bench.queries import DASHBOARD, STAFF_LIST
    from bench.workloads import WORKLOADS

    cases: list[Case] = []
    for workload in WORKLOADS.values():
        path = workload.baseline_path
        if path is None or workload.writes:
            continue
        for i, (token, query, variables) in enumerate(_spread(workload.rows(tokens), per_workload)):
            name = f"{workload.name} #{i + 1} {json.dumps(variables)[:60]}"
            body = {"query": query, "variables": variables}
            sent = workload.baseline_variables(query, variables)
            cases.append((name, path, token, body, sent, 200))
    for org in tokens["organizations"]:
        pages: list[tuple[str | None, str | None]] = [(s, None) for s in STAFF_LIST_SEARCHES]
        if page2.get(org["id"]):
            pages.append((None, page2[org["id"]]))
        for search, after in pages:
            variables = {"search": search, "after": after}
            name = f"staff_list org {org['id'][:8]} search={search!r} after={bool(after)}"
            body = {"query": STAFF_LIST, "variables": variables}
            cases.append((name, "/staff-list", org["staff_token"], body, variables, 200))
    ended = "no-such-session"
    cases.append(("dashboard, ended session", "/dashboard", ended, {"query": DASHBOARD}, {}, 401))
    body = {"query": STAFF_LIST, "variables": {}}
    cases.append(("staff list, ended session", "/staff-list", ended, body, {}, 401))
    return cases


def _grants(value: Any) -> Any:
    """The answer with each signed link replaced by what it grants: the session, kind and
    row its token names (the token also holds the second it was signed in)."""
    from auth.downloads import read_download_token
    from core.settings import settings_from_env

    settings = settings_from_env(os.environ)

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        if isinstance(item, str) and "/downloads/" in item:
            grant = read_download_token(settings, item.rsplit("/", 1)[-1])
            return ("link", grant) if grant is not None else item
        return item

    return walk(value)


async def check(portico_url: str, baseline_url: str, tokens: dict[str, Any]) -> list[str]:
    """Compare both servers' answers; returns one line per case (prefixed OK or DIFF)."""
    from bench.queries import STAFF_LIST

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
        for name, path, token, portico_body, variables, expected in check_cases(tokens, page2):
            headers = {"Authorization": f"Bearer {token}"}
            # The second answer: Portico's first to a request goes through the executor
            # (compact JSON), the next ones through the prepared path the load measures.
            url = f"{portico_url}/graphql"
            await client.post(url, json=portico_body, headers=headers)
            ours = await client.post(url, json=portico_body, headers=headers)
            theirs = await client.post(f"{baseline_url}{path}", json=variables, headers=headers)
            lines.append(_compare(name, ours, theirs, expected))
    return lines


def _compare(name: str, ours: httpx.Response, theirs: httpx.Response, expected: int) -> str:
    try:
        a, b = ours.json(), theirs.json()
    except ValueError:
        return f"DIFF {name}: not JSON: {ours.text[:200]!r} / {theirs.text[:200]!r}"
    status = f"{ours.status_code}/{theirs.status_code}"
    if ours.status_code != theirs.status_code or ours.status_code != expected:
        return f"DIFF {name}: status {status}, expected {expected}"
    if ours.status_code == 200 and "errors" in a:
        return f"DIFF {name}: Portico answered with errors {a['errors']}"
    size = f"{len(ours.content):,} bytes"
    if ours.content == theirs.content:
        return f"OK   {name}: {status}, {size}, byte-equal"
    if (difference := first_difference(a, b)) is None:
        return f"OK   {name}: {status}, {size}, equal after parsing (bytes differ)"
    if first_difference(_grants(a), _grants(b)) is None:
        return f"OK   {name}: {status}, {size}, equal, links granting the same (signed apart)"
    return f"DIFF {name}: {difference}"


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
