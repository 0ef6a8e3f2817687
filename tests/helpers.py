"""Test helpers: a GraphQL client over the ASGI app, tenants, and assertions."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from auth.passwords import hash_password
from models import Organization, PortalSettings, StaffUser
from models.db import Database
from models.enums import StaffRole
from models.writes import add_in_order

# The whole suite is one client address making thousands of requests: the per-client and
# overall limits are raised here; tests/security checks them with apps of its own. Races
# are played with many concurrent requests, so load shedding is off too (tests/test_shedding.py
# turns it on).
SUITE_LIMITS = {
    "REQUESTS_PER_MINUTE_PER_CLIENT": "0",
    "REQUESTS_PER_MINUTE_PER_SESSION": "0",
    "MAX_REQUESTS_IN_FLIGHT": "0",
    "ADMISSION_WAIT_MS": "10000",
    "TENANT_SLOT_SHARE": "1",
    "INVITES_PER_HOUR": "100000",
    "STAFF_SIGN_INS_PER_HOUR": "100000",
    "WEBHOOK_ALLOW_LOOPBACK": "1",  # the webhook receivers of the tests listen on loopback
}

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once
_serial = itertools.count(1)

SIGN_IN = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) { token expiresAt staffUser { id role } userErrors { field message code } }
}
"""


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": variables or {}}
        return await self.http.post("/graphql", json=body, headers=headers)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        result = await self(query, variables, token)
        assert "errors" not in result, result["errors"]
        return result["data"]


@dataclass
class Tenant:
    organization_id: uuid.UUID
    slug: str
    owner_token: str
    staff_token: str
    owner_email: str
    staff_email: str


async def make_tenant(db: Database, gql: GraphQLClient) -> Tenant:
    n = next(_serial)
    slug = f"t{n}-{uuid.uuid4().hex[:8]}"
    owner_email, staff_email = f"owner@{slug}.test", f"staff@{slug}.test"
    async with db.write() as session:
        org = Organization(name=f"Tenant {n}", slug=slug)
        staff = [
            StaffUser(
                organization_id=org.id,
                name=f"{role.value.title()} {n}",
                email=email,
                role=role,
                password_hash=_PASSWORD_HASH,
            )
            for email, role in ((owner_email, StaffRole.OWNER), (staff_email, StaffRole.STAFF))
        ]
        await add_in_order(session, [org, PortalSettings(organization_id=org.id), *staff])
    tokens = []
    for email in (owner_email, staff_email):
        data = await gql.data(SIGN_IN, {"input": {"email": email, "password": PASSWORD}})
        tokens.append(data["signIn"]["token"])
    return Tenant(org.id, slug, tokens[0], tokens[1], owner_email, staff_email)


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def user_errors(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


def not_found_at(result: dict[str, Any], field: str) -> None:
    """A mutation whose input `field` named nothing the viewer may see: no top-level error,
    a NOT_FOUND user error (on that field, where the query selects `field`)."""
    assert "errors" not in result, result["errors"]
    [payload] = result["data"].values()
    [error] = payload["userErrors"]
    assert error["code"] == "NOT_FOUND", error
    if "field" in error:
        assert error["field"] == ["input", *field.split(".")], error
