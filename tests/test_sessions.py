"""Sessions: idle and absolute limits, cookies, key rotation, cross-site requests."""

from datetime import timedelta

import httpx
import sqlalchemy as sa

from auth.cookies import COOKIE_NAME, read_session_cookie, sign_session_token
from auth.tokens import token_hash
from core.settings import settings_from_env
from models import AuthSession
from models.clock import db_now
from models.db import Database
from tests.helpers import PASSWORD, SIGN_IN, GraphQLClient, Tenant

sessions = AuthSession.__table__
WHOAMI = "{ viewer { kind } }"


async def _age(db: Database, token_session_filter, **ages: timedelta) -> None:
    values = {column: db_now(-int(age.total_seconds())) for column, age in ages.items()}
    async with db.write() as session:
        await session.execute(sa.update(sessions).where(token_session_filter).values(**values))


async def _sign_in(gql: GraphQLClient, tenant: Tenant) -> tuple[str, httpx.Response]:
    response = await gql.post(
        SIGN_IN, {"input": {"email": tenant.staff_email, "password": PASSWORD}}
    )
    return response.json()["data"]["signIn"]["token"], response


async def test_idle_week_ends_a_session_and_use_slides_the_window(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    token, _ = await _sign_in(gql, tenant)
    mine = sessions.c.token_hash == token_hash(token)
    await _age(db, mine, last_used_at=timedelta(days=6, hours=23))
    assert (await gql.data(WHOAMI, token=token))["viewer"]["kind"] == "STAFF"
    async with db.connect() as conn:  # that use moved the idle window forward
        now, last_used = (
            await conn.execute(sa.select(db_now(), sessions.c.last_used_at).where(mine))
        ).one()
    assert now - last_used < timedelta(minutes=1)
    await _age(db, mine, last_used_at=timedelta(days=7, seconds=1))
    assert (await gql.post(WHOAMI, token=token)).status_code == 401


async def test_thirty_days_end_a_session_even_in_daily_use(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    token, _ = await _sign_in(gql, tenant)
    mine = sessions.c.token_hash == token_hash(token)
    await _age(db, mine, expires_at=timedelta(seconds=1))  # signed in 30 days ago
    assert (await gql.post(WHOAMI, token=token)).status_code == 401


async def test_sign_in_sets_a_host_only_secure_cookie(gql: GraphQLClient, tenant: Tenant):
    token, response = await _sign_in(gql, tenant)
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE_NAME}=")
    lowered = header.lower()
    for attribute in ("httponly", "secure", "samesite=lax", "path=/"):
        assert attribute in lowered
    assert "domain=" not in lowered
    assert token not in header  # the cookie carries a signed value, not the bare token


async def test_cookie_authenticates_json_posts_only(gql: GraphQLClient, tenant: Tenant, app):
    _, response = await _sign_in(gql, tenant)
    cookie = response.cookies[COOKIE_NAME]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://portico.test") as client:
        client.cookies.set(COOKIE_NAME, cookie)
        as_json = await client.post("/graphql", json={"query": WHOAMI})
        assert as_json.json()["data"]["viewer"]["kind"] == "STAFF"
        # A cross-site form can only send "simple" content types: never authenticated.
        form = await client.post(
            "/graphql",
            content=f"query={WHOAMI}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code in (400, 415) or form.json()["data"]["viewer"]["kind"] == (
            "ANONYMOUS"
        )
        as_get = await client.get("/graphql", params={"query": WHOAMI})
        assert as_get.status_code in (400, 405)


def test_signing_keys_rotate():
    old = settings_from_env({"SECRET_KEYS": "old-key"})
    both = settings_from_env({"SECRET_KEYS": "new-key,old-key"})
    new_only = settings_from_env({"SECRET_KEYS": "new-key"})
    signed_with_old = sign_session_token(old, "session-token")
    assert read_session_cookie(both, signed_with_old) == "session-token"
    signed_now = sign_session_token(both, "session-token")
    assert read_session_cookie(new_only, signed_now) == "session-token"  # signed with "new"
    assert read_session_cookie(new_only, signed_with_old) is None
    assert read_session_cookie(both, signed_now[:-2] + "xx") is None


async def test_deactivated_staff_lose_access_on_the_next_request(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    from models import StaffUser

    token, _ = await _sign_in(gql, tenant)
    staff = StaffUser.__table__
    async with db.write() as session:
        await session.execute(
            sa.update(staff).where(staff.c.email == tenant.staff_email).values(is_active=False)
        )
    assert (await gql.post(WHOAMI, token=token)).status_code == 401
    again = await gql(SIGN_IN, {"input": {"email": tenant.staff_email, "password": PASSWORD}})
    assert again["data"]["signIn"]["token"] is None
