"""Server-side request forgery through webhook endpoints is refused: at registration, and
again right before every delivery (the name resolved anew, the checked address connected
to), with redirects never followed. Only loopback is let through, and only where
WEBHOOK_ALLOW_LOOPBACK is on (the test suite); a loopback written as IPv4-mapped IPv6 never is.

No test here sends a packet anywhere but loopback: refusals happen before connecting."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.outbound import Refused, address_refused, check_url, post
from domain.webhooks.delivery import deliver_due
from models.db import Database
from models.tables import webhook_endpoints
from tests.helpers import GraphQLClient, Tenant
from tests.portal import make_customer
from tests.webhook_receiver import Receiver
from tests.webhooks import deliveries_of, register

ALWAYS_REFUSED = [
    "https://10.0.0.1/hook",
    "https://10.255.255.254:8443/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://100.100.100.200/",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://[fe80::1]/hook",
    "https://[ff02::1]/hook",
    "https://[::]/hook",
    "https://[fc00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
    "https://[2002:a00:1::]/hook",  # 6to4 of 10.0.0.1
    "https://240.0.0.1/hook",
    "https://192.0.2.1/hook",  # documentation
    "https://user:password@8.8.8.8/hook",
    "ftp://8.8.8.8/hook",
    "https://8.8.8.8/hook#fragment",
    "https://",
]
LOOPBACK = [
    "https://127.0.0.1/hook",
    "https://127.10.20.30/hook",
    "https://[::1]/hook",
    "https://localhost/hook",  # a name that resolves to loopback
    "http://127.0.0.1:8080/hook",
]


@pytest.mark.parametrize("url", ALWAYS_REFUSED + LOOPBACK)
async def test_every_inside_address_is_refused(url: str):
    with pytest.raises(Refused):
        await check_url(url, allow_loopback=False)


@pytest.mark.parametrize("url", ALWAYS_REFUSED)
async def test_the_loopback_allowance_lets_nothing_else_through(url: str):
    with pytest.raises(Refused):
        await check_url(url, allow_loopback=True)


@pytest.mark.parametrize("url", LOOPBACK)
async def test_the_loopback_allowance_lets_loopback_through(url: str):
    await check_url(url, allow_loopback=True)


async def test_public_addresses_pass_and_plain_http_needs_the_allowance():
    await check_url("https://8.8.8.8/hook", allow_loopback=False)
    await check_url("https://[2001:4860:4860::8888]:8443/hook?x=1", allow_loopback=False)
    with pytest.raises(Refused):
        await check_url("http://8.8.8.8/hook", allow_loopback=False)


def test_the_address_rules_against_a_plain_list():
    """Hand-computed cases, one per range."""
    cases = {
        "127.0.0.1": "a loopback address",
        "10.1.2.3": "a private address",
        "169.254.169.254": "a cloud metadata address",
        "169.254.1.1": "a link-local address",
        "::ffff:127.0.0.1": "a loopback address written as IPv6",
        "::ffff:192.168.0.1": "a private address",
        "224.0.0.251": "a multicast address",
        "0.0.0.0": "the unspecified address",
        "::": "the unspecified address",
        "100.64.0.1": "not a public address",
        "8.8.8.8": None,
        "2606:4700:4700::1111": None,
        "::ffff:8.8.8.8": None,
    }
    for text, reason in cases.items():
        assert address_refused(ipaddress.ip_address(text)) == reason, text


async def test_registration_refuses_inside_addresses(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    for url in (
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:127.0.0.1]/hook",
        "http://8.8.8.8/hook",
    ):
        made = await register(gql, tenant, url)
        assert made["webhookEndpoint"] is None and made["secret"] is None
        assert [(e["field"], e["code"]) for e in made["userErrors"]] == [
            (["input", "url"], "URL_REFUSED")
        ], url
    async with db.connect() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(webhook_endpoints)
            .where(webhook_endpoints.c.organization_id == tenant.organization_id)
        )
    assert count == 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


async def test_every_delivery_checks_the_address_again(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    """Registered while loopback was allowed; delivered where it is not: refused before
    connecting, by literal and by a name that resolves to loopback."""
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    endpoints = []
    for url in (receiver.url, by_name):
        made = await register(gql, tenant, url)
        assert made["userErrors"] == []
        endpoints.append(made["webhookEndpoint"]["id"])
    await make_customer(gql, tenant)
    strict = dataclasses.replace(db.settings, webhook_allow_loopback=False)
    await deliver_due(db, now=datetime.now(UTC), settings=strict)
    assert receiver.requests == []
    for endpoint_id in endpoints:
        [row] = await deliveries_of(db, endpoint_id)
        assert row["status"] == "PENDING" and row["response_code"] is None
        assert row["last_error"].startswith("Refused: ")
    # The address itself, whatever the scheme: the name is resolved again at each call.
    for url in (receiver.url, by_name):
        https = url.replace("http://", "https://")
        with pytest.raises(Refused, match="loopback"):
            await post(https, b"{}", {}, seconds=5, max_bytes=100, allow_loopback=False)
    assert receiver.requests == []


async def test_redirects_are_not_followed(
    gql: GraphQLClient, db: Database, tenant: Tenant, receiver: Receiver
):
    inside = await Receiver().start()  # stands for an address inside
    try:
        receiver.status = 302
        receiver.location = inside.url
        made = await register(gql, tenant, receiver.url)
        await make_customer(gql, tenant)
        await deliver_due(db, now=datetime.now(UTC))
        assert len(receiver.requests) == 1 and inside.requests == []
        [row] = await deliveries_of(db, made["webhookEndpoint"]["id"])
        assert row["status"] == "PENDING" and row["response_code"] == 302
        await deliver_due(db, now=datetime.now(UTC) + timedelta(seconds=31))
        assert inside.requests == []
    finally:
        await inside.stop()


async def test_an_answer_is_read_up_to_its_cap(receiver: Receiver):
    receiver.body = b"x" * 1_000_000
    answer = await post(receiver.url, b"{}", {}, seconds=5, max_bytes=1000, allow_loopback=True)
    assert answer.status == 200 and len(answer.body) == 1000
