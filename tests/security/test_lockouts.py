"""Issue 15 item 6: lockouts cannot be turned into a weapon.

Wrong passwords, or link requests, from many clients never stop the rightful person for
long: only failures count (never successes), delays grow per address and client, and a
client that has signed in to an address before is not delayed by failures elsewhere.
Limits (resolvers/throttle.py, README Security): password sign-ins 5 failures free per
address and client, then 1 s, 2 s, 4 s ... up to 15 min; per address from unknown clients
20 free, then 1 s ... up to 60 s. Link requests 3 free per address and client, then 1 min,
2 min ... up to 15 min; per address from unknown clients 5 free, then the same.

Delays are waited out by moving the record's last failure back in the database.
"""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from models.clock import db_now
from models.db import Database
from models.rate_limits import rate_limits
from resolvers.throttle import PORTAL_LINK, STAFF_PASSWORD, address_key
from resolvers.throttle import PORTAL_PASSWORD as PORTAL_PASSWORD_DOOR
from tests.helpers import PASSWORD, SIGN_IN, Tenant
from tests.portal import INVITE, REDEEM, deliver, make_customer, tokens_for
from tests.security.apps import app_with, client, fresh_address, post
from tests.smtp import SmtpServer

PORTAL_PASSWORD = "the customer's passphrase"
SETTINGS = """mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { code } } }"""
SET_PASSWORD = """mutation P($password: String!) {
  setPortalPassword(input: {password: $password}) { passwordSet } }"""
PORTAL_SIGN_IN = """mutation S($email: String!, $password: String!, $org: String!) {
  portalSignIn(input: {email: $email, password: $password, organization: $org}) {
    outcome userErrors { code } } }"""
REQUEST_LINK = """mutation R($email: String!, $org: String!) {
  requestPortalLink(input: {email: $email, organization: $org}) { message } }"""


def outcome(result: dict[str, Any]) -> str | int:
    """SIGNED_IN, a userError's code, or the seconds RATE_LIMITED asks to wait."""
    if result.get("errors"):
        (error,) = result["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED", result
        return int(error["extensions"]["retryAfterSeconds"])
    (payload,) = result["data"].values()
    if payload.get("userErrors"):
        return payload["userErrors"][0]["code"]
    return payload.get("outcome") or ("SIGNED_IN" if payload.get("token") else "SENT")


async def wait_out(db: Database, like: str, seconds: float) -> None:
    """Move the last failure of the matching records `seconds` back: the delay has passed."""
    async with db.write() as session:
        await session.execute(
            sa.update(rate_limits)
            .where(rate_limits.c.key.like(like))
            .values(window_start=db_now(-seconds))
        )


async def set_failures(db: Database, like: str, failures: int) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(rate_limits).where(rate_limits.c.key.like(like)).values(hits=failures)
        )


async def staff(http: httpx.AsyncClient, email: str, password: str) -> str | int:
    body = {"input": {"email": email, "password": password}}
    return outcome((await post(http, SIGN_IN, body)).json())


async def test_staff_wrong_passwords_from_many_clients_never_stop_the_right_one(
    db: Database, tenant: Tenant
):
    home = fresh_address()
    async with app_with(db) as app:
        async with client(app, home) as http:
            assert await staff(http, tenant.owner_email, PASSWORD) == "SIGNED_IN"
        answers = []
        for _ in range(30):  # a botnet: one guess from each of thirty addresses
            async with client(app) as http:
                answers.append(await staff(http, tenant.owner_email, "a wrong guess"))
        assert answers[:20] == ["INVALID_CREDENTIALS"] * 20
        assert all(a == "INVALID_CREDENTIALS" or 1 <= a <= 60 for a in answers)  # type: ignore[operator]
        async with client(app, home) as http:  # the owner's own browser: at once
            assert await staff(http, tenant.owner_email, PASSWORD) == "SIGNED_IN"
        async with client(app) as http:  # a new one waits a minute at most
            first = await staff(http, tenant.owner_email, PASSWORD)
            assert first == "SIGNED_IN" or 1 <= first <= 60  # type: ignore[operator]
            await wait_out(db, address_key(STAFF_PASSWORD, tenant.owner_email), 60)
            assert await staff(http, tenant.owner_email, PASSWORD) == "SIGNED_IN"


async def test_staff_delays_grow_per_client_and_successes_never_count(db: Database, tenant: Tenant):
    email = tenant.owner_email
    pair = address_key(STAFF_PASSWORD, email) + ":%"
    async with app_with(db) as app, client(app) as http:
        for _ in range(25):  # an office signing in all day is never refused
            assert await staff(http, email, PASSWORD) == "SIGNED_IN"
        for _ in range(5):
            assert await staff(http, email, "a wrong guess") == "INVALID_CREDENTIALS"
        for delay in (1, 2, 4, 8):
            assert await staff(http, email, "a wrong guess") == delay  # refused, not counted
            assert await staff(http, email, PASSWORD) == delay  # not even the right one
            await wait_out(db, pair, delay)
            assert await staff(http, email, "a wrong guess") == "INVALID_CREDENTIALS"
        await set_failures(db, pair, 40)
        await wait_out(db, pair, 0)
        assert await staff(http, email, "a wrong guess") == 900  # the cap: 15 minutes
        await wait_out(db, pair, 900)
        assert await staff(http, email, PASSWORD) == "SIGNED_IN"
        # The success cleared this client's record: a slip costs nothing again.
        assert await staff(http, email, "a wrong guess") == "INVALID_CREDENTIALS"


async def portal_customer(
    gql: Any, db: Database, smtp: SmtpServer, tenant: Tenant, app: Any, home: str
) -> str:
    """A customer with a password, who signed in once from `home`; returns the address."""
    await gql.data(SETTINGS, {"input": {"signInMethod": "PASSWORD"}}, token=tenant.owner_token)
    customer_id, email = await make_customer(gql, tenant)
    await gql.data(INVITE, {"input": {"customerId": customer_id}}, token=tenant.staff_token)
    await deliver(db, smtp)
    async with client(app, home) as http:
        redeemed = (await post(http, REDEEM, {"token": tokens_for(smtp, email)[-1]})).json()
        session = redeemed["data"]["redeemMagicLink"]["token"]
        await post(http, SET_PASSWORD, {"password": PORTAL_PASSWORD}, session)
    return email


async def portal(http: httpx.AsyncClient, email: str, password: str, org: str) -> str | int:
    variables = {"email": email, "password": password, "org": org}
    return outcome((await post(http, PORTAL_SIGN_IN, variables)).json())


async def test_portal_wrong_passwords_from_many_clients_never_stop_the_right_one(
    gql: Any, db: Database, smtp: SmtpServer, tenant: Tenant
):
    home = fresh_address()
    async with app_with(db) as app:
        email = await portal_customer(gql, db, smtp, tenant, app, home)
        async with client(app, home) as http:
            for _ in range(12):  # successes never count
                assert await portal(http, email, PORTAL_PASSWORD, tenant.slug) == "SIGNED_IN"
        answers = []
        for _ in range(30):
            async with client(app) as http:
                answers.append(await portal(http, email, "a wrong guess", tenant.slug))
        assert answers[:20] == ["INVALID_CREDENTIALS"] * 20
        assert all(a == "INVALID_CREDENTIALS" or 1 <= a <= 60 for a in answers)  # type: ignore[operator]
        async with client(app, home) as http:
            assert await portal(http, email, PORTAL_PASSWORD, tenant.slug) == "SIGNED_IN"
        async with client(app) as http:  # a new one waits a minute at most
            first = await portal(http, email, PORTAL_PASSWORD, tenant.slug)
            assert first == "SIGNED_IN" or 1 <= first <= 60  # type: ignore[operator]
            await wait_out(db, address_key(PORTAL_PASSWORD_DOOR, email), 60)
            assert await portal(http, email, PORTAL_PASSWORD, tenant.slug) == "SIGNED_IN"


async def test_link_requests_from_many_clients_never_stop_the_owners_own(
    gql: Any, db: Database, smtp: SmtpServer, tenant: Tenant
):
    home = fresh_address()
    async with app_with(db) as app:
        email = await portal_customer(gql, db, smtp, tenant, app, home)
        variables = {"email": email, "org": tenant.slug}
        answers = []
        for _ in range(10):  # strangers asking for links to the customer's address
            async with client(app) as http:
                answers.append(outcome((await post(http, REQUEST_LINK, variables)).json()))
        assert answers[:5] == ["SENT"] * 5
        assert all(1 <= a <= 900 for a in answers[5:])  # type: ignore[operator]
        await deliver(db, smtp)
        before = len(tokens_for(smtp, email))
        async with client(app, home) as http:  # the customer's own browser: at once
            assert outcome((await post(http, REQUEST_LINK, variables)).json()) == "SENT"
        await deliver(db, smtp)
        assert len(tokens_for(smtp, email)) == before + 1

        address = address_key(PORTAL_LINK, email)
        pair = address + ":%"
        async with client(app) as http:  # one client: 3 at once, then 1, 2 minutes ...
            for expected in ("SENT", "SENT", "SENT", 60, "WAITED", 120):
                if expected == "WAITED":
                    await wait_out(db, pair, 60)
                    expected = "SENT"
                await wait_out(db, address, 3601)  # the strangers' record out of the way
                assert outcome((await post(http, REQUEST_LINK, variables)).json()) == expected


async def test_the_longest_address_from_an_ipv6_client_is_throttled_like_any(db: Database):
    email = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "test"  # 252 characters
    async with app_with(db) as app, client(app, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") as http:
        assert await staff(http, email, "a wrong guess") == "INVALID_CREDENTIALS"
        variables = {"email": email, "org": "nowhere"}
        assert outcome((await post(http, REQUEST_LINK, variables)).json()) == "SENT"
