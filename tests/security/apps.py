"""Apps with settings of their own over the suite's database, and clients from fresh addresses.

The suite's app runs with the per-client limits raised (tests/conftest.py); these apps
keep the defaults, or tighter ones, and each client gets an address no other test uses,
so that database-kept counters start from zero.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from core.settings import settings_from_env
from models.db import Database
from portico.app import create_app

# A key as `secrets.token_urlsafe(40)` makes one: production refuses weaker ones.
STRONG_KEY = "Kbs5qSV1gLerz-nIF2_1bXgAHnGkSW3IPslg_LsxfPv40CUaFHqcZQ"
PRODUCTION = {
    "PORTICO_ENV": "production",
    "SECRET_KEYS": STRONG_KEY,
    "PORTICO_ALLOW_SQLITE": "1",
    "SMTP_URL": "smtp://127.0.0.1:25",  # required in production; these apps send no mail
}
_addresses = itertools.count(1)


def fresh_address() -> str:
    n = next(_addresses)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


@asynccontextmanager
async def app_with(db: Database, **env: str) -> AsyncIterator[Starlette]:
    """An app (and its own engine) over the same database, with `env` as its settings."""
    settings = settings_from_env({"DATABASE_URL": db.settings.database_url, **env})
    database = Database(settings)
    app = create_app(settings, db=database, run_mail_worker=False)
    try:
        yield app
    finally:
        if app.state.rate_store is not None:  # no lifespan runs under the test transport
            await app.state.rate_store.aclose()
        await database.dispose()


def client(app: Any, address: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address or fresh_address(), 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://portico.test", **kwargs)


async def post(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    **headers: str,
) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"query": query, "variables": variables or {}}
    return await http.post("/graphql", json=body, headers=headers)
