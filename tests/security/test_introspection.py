"""SECURITY.md A7, issue 7 part 5: introspection and GraphiQL by `INTROSPECTION`.

Development: everyone. Production (default `staff`): signed-in staff only, never
anonymous callers or portal viewers. `off`: nobody.
"""

from __future__ import annotations

from typing import Any

import httpx

from models.db import Database
from tests.helpers import Tenant
from tests.portal import make_customer, sign_in_by_invite
from tests.security.apps import PRODUCTION, app_with, client, post
from tests.smtp import SmtpServer

INTROSPECTION = "{ __schema { queryType { name } } }"
HTML = {"Accept": "text/html"}


def introspected(response: httpx.Response) -> bool:
    body = response.json()
    if "errors" in body:
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
        return False
    return body["data"]["__schema"]["queryType"]["name"] == "Query"


async def _portal_token(gql: Any, db: Database, smtp: SmtpServer, tenant: Tenant) -> str:
    customer_id, email = await make_customer(gql, tenant)
    return await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)


async def test_development_lets_everyone_introspect(http: httpx.AsyncClient):
    assert introspected(await http.post("/graphql", json={"query": INTROSPECTION}))
    assert (await http.get("/graphql", headers=HTML)).status_code == 200


async def test_production_lets_only_staff_introspect(
    gql: Any, db: Database, tenant: Tenant, smtp: SmtpServer
):
    portal = await _portal_token(gql, db, smtp, tenant)
    async with app_with(db, **PRODUCTION) as app, client(app) as http:
        assert not introspected(await post(http, INTROSPECTION))
        assert not introspected(await post(http, INTROSPECTION, token=portal))
        assert introspected(await post(http, INTROSPECTION, token=tenant.staff_token))
        assert (await http.get("/graphql", headers=HTML)).status_code == 404
        portal_page = await http.get(
            "/graphql", headers={**HTML, "Authorization": f"Bearer {portal}"}
        )
        assert portal_page.status_code == 404
        staff_page = await http.get(
            "/graphql", headers={**HTML, "Authorization": f"Bearer {tenant.staff_token}"}
        )
        assert staff_page.status_code == 200 and "graphiql" in staff_page.text.lower()


async def test_introspection_off_refuses_staff_too(db: Database, tenant: Tenant):
    async with app_with(db, **PRODUCTION, INTROSPECTION="off") as app, client(app) as http:
        assert not introspected(await post(http, INTROSPECTION, token=tenant.staff_token))
        page = await http.get(
            "/graphql", headers={**HTML, "Authorization": f"Bearer {tenant.staff_token}"}
        )
        assert page.status_code == 404
