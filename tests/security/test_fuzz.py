"""Issue 7 part 7: schemathesis fuzzes a live server (uvicorn on loopback) on both databases.

It reads the committed `schema.graphql` (introspection may be off) and sends generated
queries and mutations as the OWNER of tenant A, with tenant B seeded beside it. Every
response must be below 500, must not be a masked internal error (each one is a bug
found: the server log has its stack), must not show an unmasked one, and must not
contain any of tenant B's marker strings. `FUZZ_EXAMPLES` sets the number of examples
per database (default 300, enough for CI; raise it locally for a longer hunt).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from core.settings import settings_from_env
from models.db import Database
from portico.app import create_app
from tests.helpers import GraphQLClient, Tenant, make_tenant
from tests.portal import make_car, make_customer

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
# Ending the fuzzer's own session would leave the rest of the run anonymous.
SKIPPED = {"signOut"}
LEAKS = ("Traceback", 'File "', "sqlalchemy", "asyncpg", "sqlite3", "/srv/", '.py"')
UNLIMITED = {
    "REQUESTS_PER_MINUTE_PER_CLIENT": "0",
    "REQUESTS_PER_MINUTE_PER_SESSION": "0",
    "INVITES_PER_HOUR": "100000",
    "STAFF_SIGN_INS_PER_HOUR": "100000",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def two_tenants(db: Database, gql: GraphQLClient) -> tuple[Tenant, list[str]]:
    """Tenant A (fuzzed) and tenant B, whose rows carry marker strings."""
    a = await make_tenant(db, gql)
    b = await make_tenant(db, gql)
    markers = ["ZZMARKB-customer", "zzmarkb-mail"]
    await make_customer(gql, a, name="Alpha Customer")
    owner, _ = await make_customer(gql, b, name=markers[0], email=f"{markers[1]}@b.test")
    await make_car(gql, b, owner, "ZZMARKB-model")
    return a, [*markers, "ZZMARKB-model", b.slug]


@pytest.fixture
def live_server(db: Database) -> Iterator[str]:
    settings = settings_from_env({"DATABASE_URL": db.settings.database_url, **UNLIMITED})
    port = _free_port()
    app = create_app(settings, run_mail_worker=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def _codes(response: Any) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code}"]
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return ["data"]
    return [str(e.get("extensions", {}).get("code", "VALIDATION")) for e in errors][:1]


def _strategy() -> Any:
    # Files arrive as multipart parts, never inside a query: a string stands in, and the
    # server must refuse it cleanly.
    schemathesis.graphql.scalar("Upload", st.just("file").map(nodes.String))
    schema = schemathesis.graphql.from_path(str(SCHEMA))
    operations = [r.ok() for r in schema.get_all_operations()]
    chosen = [o for o in operations if o.label.split(".")[-1] not in SKIPPED]
    return st.one_of(*(o.as_strategy() for o in chosen))


def test_fuzzing_finds_no_crash_leak_or_other_tenant(
    two_tenants: tuple[Tenant, list[str]], live_server: str
):
    tenant, markers = two_tenants
    headers = {"Authorization": f"Bearer {tenant.owner_token}"}
    problems: list[str] = []
    seen: list[int] = []
    codes: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy())
    def fuzz(case: Any) -> None:
        response = case.call(base_url=f"{live_server}/graphql", headers=headers, timeout=30)
        seen.append(response.status_code)
        text = response.text
        codes.update(_codes(response))
        label = f"{case.operation.label} {case.body!r:.300}"
        if response.status_code >= 500:
            problems.append(f"{response.status_code} for {label}")
        if "INTERNAL_SERVER_ERROR" in text:
            problems.append(f"internal error for {label}: {text:.300}")
        problems.extend(f"leak {leak!r} for {label}" for leak in LEAKS if leak in text)
        problems.extend(f"tenant B's {m!r} for {label}" for m in markers if m in text)

    fuzz()
    print(f"fuzzed {len(seen)} requests, {len(problems)} problems, outcomes {dict(codes)}")
    assert len(seen) >= min(EXAMPLES, 50)
    assert codes["data"] > len(seen) // 10  # most reach resolvers, not only the edge
    assert problems == []
