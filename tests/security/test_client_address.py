"""Issue 15 item 6: the client address comes from X-Forwarded-For only when the direct peer
is a configured trusted proxy (TRUSTED_PROXIES, empty by default); otherwise the header is
ignored, by rate limits and by what is recorded alike."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import sqlalchemy as sa

from core.networks import parse_networks
from models.db import Database
from models.rate_limits import rate_limits
from portico.client_address import client_address
from tests.helpers import SIGN_IN, Tenant
from tests.security.apps import app_with, client, fresh_address, post
from tests.served import portico, start_server, stop_server

PROXIES = parse_networks(["10.0.0.0/8", "192.0.2.1"])


def test_the_header_counts_only_from_a_trusted_peer():
    # No proxies configured: the header is nobody's word.
    assert client_address("198.51.100.9", "203.0.113.7", ()) == "198.51.100.9"
    # An untrusted peer writes what it likes.
    assert client_address("198.51.100.9", "203.0.113.7", PROXIES) == "198.51.100.9"
    # Trusted proxies are skipped from the right; the first other address is the client,
    # whatever the client itself wrote further left.
    chain = "1.1.1.1, 203.0.113.7, 10.1.2.3"
    assert client_address("192.0.2.1", chain, PROXIES) == "203.0.113.7"
    assert client_address("10.9.9.9", "10.1.1.1, 10.2.2.2", PROXIES) == "10.1.1.1"
    # Garbage stops the walk at the last address that was believable.
    assert client_address("192.0.2.1", "203.0.113.7, not-an-ip", PROXIES) == "192.0.2.1"
    assert client_address("192.0.2.1", "2001:db8::1", PROXIES) == "2001:db8::1"
    # A peer that is no IP address (a Unix socket, a test client) is nobody's proxy.
    assert client_address("unix-socket", "203.0.113.7", PROXIES) == "unix-socket"


async def failed_sign_in_keys(db: Database, *addresses: str) -> set[str]:
    keys = [f"staff-sign-in-failed:client:{a}" for a in addresses]
    async with db.connect() as conn:
        found = await conn.execute(sa.select(rate_limits.c.key).where(rate_limits.c.key.in_(keys)))
    return {key.rpartition(":")[2] for key in found.scalars()}


async def test_recorded_addresses_follow_the_header_only_behind_a_trusted_proxy(
    db: Database, tenant: Tenant
):
    wrong = {"input": {"email": tenant.owner_email, "password": "not the password"}}
    peer, claimed = fresh_address(), fresh_address()
    async with app_with(db) as app, client(app, peer) as http:
        await post(http, SIGN_IN, wrong, **{"X-Forwarded-For": claimed})
    assert await failed_sign_in_keys(db, peer, claimed) == {peer}

    proxy, behind = fresh_address(), fresh_address()
    async with app_with(db, TRUSTED_PROXIES=proxy) as app, client(app, proxy) as http:
        await post(http, SIGN_IN, wrong, **{"X-Forwarded-For": f"{claimed}, {behind}"})
    assert await failed_sign_in_keys(db, proxy, behind, claimed) == {behind}


async def test_a_served_server_ignores_the_header_from_untrusted_peers(tmp_path: Path):
    """uvicorn itself believes X-Forwarded-For from local peers unless told not to."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'proxy.db'}",
        "REQUESTS_PER_MINUTE_PER_CLIENT": "3",
    }
    portico(env, "migrate")
    for trusted in ("", "127.0.0.1"):
        server, base_url = await start_server({**env, "TRUSTED_PROXIES": trusted})
        try:
            async with httpx.AsyncClient(base_url=base_url) as http:
                statuses = [
                    (
                        await post(http, "{ __typename }", **{"X-Forwarded-For": f"203.0.113.{n}"})
                    ).status_code
                    for n in range(5)
                ]
        finally:
            await stop_server(server)
        # Untrusted: one client (the loopback peer) over its limit; trusted: five clients.
        assert statuses == ([200] * 3 + [429] * 2 if not trusted else [200] * 5), trusted
