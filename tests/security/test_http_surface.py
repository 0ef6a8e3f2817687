"""SECURITY.md A10, B27 (no-referrer) and issue 7 part 6: the HTTP edge.

GET queries and cookies on non-JSON posts: tests/test_http.py::test_queries_over_get_are_refused
and tests/test_sessions.py::test_cookie_authenticates_json_posts_only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from auth.cookies import COOKIE_NAME
from models.db import Database
from tests.helpers import PASSWORD, SIGN_IN, GraphQLClient, Tenant
from tests.security.apps import PRODUCTION, app_with, client, post

WHOAMI = "{ viewer { kind } }"
PORTAL = "https://portal.example.test"


async def _cookie(http: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await post(
        http, SIGN_IN, {"input": {"email": tenant.staff_email, "password": PASSWORD}}
    )
    return response.cookies[COOKIE_NAME]


@pytest.fixture
async def portal_app(db: Database) -> AsyncIterator[object]:
    async with app_with(
        db, PORTAL_URL=f"{PORTAL}/app", CORS_ORIGINS="https://ops.example.test"
    ) as app:
        yield app


async def test_cookie_posts_need_an_allowed_origin(portal_app: object, tenant: Tenant):
    async with client(portal_app) as http:
        http.cookies.set(COOKIE_NAME, await _cookie(http, tenant))
        for origin in (None, PORTAL, "https://ops.example.test", "https://portico.test"):
            headers = {"Origin": origin} if origin else {}
            if origin == "https://portico.test":
                continue  # not PUBLIC_URL here: refused like any other stranger
            ok = await post(http, WHOAMI, **headers)
            assert ok.json()["data"]["viewer"]["kind"] == "STAFF", origin
        forged = await post(http, WHOAMI, Origin="https://evil.example.test")
        assert forged.status_code == 403
        assert forged.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        # A bearer token is never sent by a browser on its own: no origin check needed.
        http.cookies.clear()


async def test_cors_allows_only_listed_origins_with_credentials(portal_app: object):
    async with client(portal_app) as http:
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = await http.options("/graphql", headers={"Origin": PORTAL, **preflight})
        assert allowed.headers["access-control-allow-origin"] == PORTAL
        assert allowed.headers["access-control-allow-credentials"] == "true"
        refused = await http.options(
            "/graphql", headers={"Origin": "https://evil.example.test", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers
        simple = await post(http, WHOAMI, Origin="https://evil.example.test")
        assert "access-control-allow-origin" not in simple.headers


async def test_a_portal_on_its_own_origin_can_upload(portal_app: object, tenant: Tenant):
    from tests.portal import make_customer
    from tests.test_files import UPLOAD_DOCUMENT, upload

    async with client(portal_app) as http:
        for header in ("X-Portico-Upload", "Apollo-Require-Preflight"):
            asked = f"authorization, {header.lower()}, x-request-id"
            preflight = await http.options(
                "/graphql",
                headers={
                    "Origin": PORTAL,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": asked,
                },
            )
            assert preflight.status_code == 200, (header, preflight.text)
            assert preflight.headers["access-control-allow-origin"] == PORTAL
            allowed = preflight.headers["access-control-allow-headers"].lower()
            assert header.lower() in allowed.split(", ")
        # What the browser sends after the preflight, and whether it may read the answer.
        customer_id, _ = await make_customer(GraphQLClient(http), tenant)
        document = {"customerId": customer_id, "kind": "OTHER", "visibleInPortal": True}
        headers = {"Origin": PORTAL, "X-Portico-Upload": "1"}
        response = await upload(
            http,
            tenant.staff_token,
            UPLOAD_DOCUMENT,
            document,
            b"%PDF-1.4\n%%EOF\n",
            headers=headers,
        )
        assert response.headers["access-control-allow-origin"] == PORTAL
        payload = response.json()["data"]["uploadDocument"]
        assert payload["userErrors"] == [] and payload["document"]["kind"] == "OTHER"


async def test_bodies_over_the_limit_get_413_before_they_are_read(db: Database):
    async with app_with(db, MAX_BODY_BYTES="2000") as app, client(app) as http:
        big = {"query": "{ __typename }", "variables": {"pad": "x" * 5000}}
        declared = await http.post("/graphql", json=big)
        assert declared.status_code == 413
        assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks():
            for _ in range(10):
                yield b"x" * 500

        chunked = await http.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert chunked.status_code == 413

        async def small():
            yield b'{"query": "{ __typename }"}'

        fine = await http.post(
            "/graphql", content=small(), headers={"Content-Type": "application/json"}
        )
        assert fine.json() == {"data": {"__typename": "Query"}}


async def test_security_headers_on_every_response(http: httpx.AsyncClient):
    responses = [
        await http.post("/graphql", json={"query": "{ __typename }"}),
        await http.get("/healthz"),
        await http.get("/no-such-page"),
        await http.get("/graphql", params={"query": "{ __typename }"}),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # development
    ide = await http.get("/graphql", headers={"Accept": "text/html"})
    policy = ide.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


async def test_production_adds_hsts(db: Database):
    async with app_with(db, **PRODUCTION) as app, client(app) as http:
        response = await http.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_health_and_readiness(http: httpx.AsyncClient, db: Database):
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    assert (await http.get("/readyz")).json() == {"status": "ok"}
    unreachable = (
        "sqlite+aiosqlite:////nonexistent/dir/portico.db"
        if db.dialect == "sqlite"
        else "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    )
    from core.settings import settings_from_env
    from portico.app import create_app

    down = Database(settings_from_env({"DATABASE_URL": unreachable}))
    try:
        app = create_app(db=down, run_mail_worker=False)
        async with client(app) as probe:
            assert (await probe.get("/healthz")).status_code == 200
            not_ready = await probe.get("/readyz")
            assert not_ready.status_code == 503
            assert "nonexistent" not in not_ready.text and "5432" not in not_ready.text
    finally:
        await down.dispose()
