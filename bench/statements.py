"""SQL statements Portico sends per request, counted in process.

The app is built with `portico.app.create_app`, a `before_cursor_execute` listener counts what
its engine executes (transaction control left out), and requests go through httpx's ASGI
transport: the same code path as over HTTP, without a server.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import httpx
import sqlalchemy as sa

from bench.common import sqlalchemy_url
from core.settings import settings_from_env
from portico.app import create_app

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# A served Portico writes access-log rows in batches off the request path (models/
# access_log.py); without its lifespan (here) they are written at once: not the request's.
BATCHED = ("INSERT INTO access_logs",)
REQUEST_TIMEOUT_S = 30


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = statement.lstrip()
        if not text.upper().startswith(TRANSACTION_CONTROL) and not text.startswith(BATCHED):
            self.statements.append(statement)


async def count_statements(
    database_url: str, requests: dict[str, list[tuple[str, str]]], repeat: int = 3
) -> tuple[dict[str, float], dict[str, int]]:
    """For each name -> [(token, JSON body), ...] (sent in turn): the median statements per
    request, measured after one unmeasured request (which may refresh the session's last use),
    and the size of the first response in bytes."""
    settings = settings_from_env({"DATABASE_URL": sqlalchemy_url(database_url)})
    app = create_app(settings, run_mail_worker=False)
    engine = app.state.db.engine.sync_engine
    counter = Counter()
    sa.event.listen(engine, "before_cursor_execute", counter)
    counts: dict[str, float] = {}
    sizes: dict[str, int] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, items in requests.items():
                seen = []
                for attempt in range(repeat + 1):
                    token, body = items[attempt % len(items)]
                    headers = {
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    }
                    counter.statements.clear()
                    async with asyncio.timeout(REQUEST_TIMEOUT_S):
                        response = await client.post("/graphql", content=body, headers=headers)
                    response.raise_for_status()
                    if "errors" in response.json():
                        raise RuntimeError(f"{name}: {response.json()['errors']}")
                    if attempt:
                        seen.append(len(counter.statements))
                    else:
                        sizes[name] = len(response.content)
                counts[name] = statistics.median(seen)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
        await app.state.db.dispose()
    return counts, sizes
