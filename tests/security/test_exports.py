"""Exports are an OWNER's or ADMIN's, of their own organization alone: another
organization's rows never appear, and STAFF, portal viewers, anyone signed out and an ended
session are refused with a JSON error before any row is read or any audit row written."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from auth.cookies import COOKIE_NAME
from core.ids import encode_id
from models.db import Database
from models.enums import StaffRole
from models.tables import (
    audit_events,
    car_events,
    cars,
    customers,
    invoices,
    payments,
    staff_users,
)
from portico.log_redaction import redact
from tests.exports import LINK, export, path_of, table
from tests.factories import seed_customers
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.portal import make_customer, sign_in_by_invite
from tests.smtp import SmtpServer
from tests.staff import add_staff

KINDS = {"customers": customers, "cars": cars, "invoices": invoices, "payments": payments}
TYPES = {"customers": "Customer", "cars": "Car", "invoices": "Invoice", "payments": "Payment"}


async def _ids(db: Database, table: sa.Table, tenant: Tenant) -> set[str]:
    async with db.connect() as conn:
        found = await conn.scalars(
            sa.select(table.c.id).where(table.c.organization_id == tenant.organization_id)
        )
        return {encode_id(TYPES[table.name], row_id) for row_id in found}


async def _exports_audited(db: Database, tenant: Tenant) -> int:
    async with db.connect() as conn:
        counted = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(audit_events)
            .where(audit_events.c.organization_id == tenant.organization_id)
            .where(audit_events.c.action == "export.downloaded")
        )
        return int(counted or 0)


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_only_the_viewers_organizations_rows_are_exported(
    db: Database, http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, kind: str
):
    await seed_customers(db, tenant.organization_id, 3, prefix="Ours")
    await seed_customers(db, other_tenant.organization_id, 3, prefix="Theirs")
    ours = await _ids(db, KINDS[kind], tenant)
    theirs = await _ids(db, KINDS[kind], other_tenant)
    assert ours and theirs
    _, _, admin = await add_staff(db, GraphQLClient(http), tenant, StaffRole.ADMIN)
    for token in (tenant.owner_token, admin):
        exported = {row["id"] for row in table(await export(http, kind, token))}
        assert exported == ours
    assert {row["id"] for row in table(await export(http, kind, other_tenant.owner_token))} == (
        theirs
    )


async def test_staff_below_admin_are_refused(db: Database, http: httpx.AsyncClient, tenant: Tenant):
    await seed_customers(db, tenant.organization_id, 1)
    for kind in KINDS:
        response = await export(http, kind, tenant.staff_token)
        assert response.status_code == 403
        assert response.json() == {
            "error": {"code": "FORBIDDEN", "message": "Only an OWNER or ADMIN may export."}
        }
    assert await _exports_audited(db, tenant) == 0


async def test_a_portal_viewer_is_refused(
    db: Database,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    smtp: SmtpServer,
    tenant: Tenant,
):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    for kind in KINDS:
        response = await export(http, kind, session)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert customer_id not in response.text
    assert await _exports_audited(db, tenant) == 0


async def test_anonymous_forged_and_ended_sessions_are_refused(
    db: Database, http: httpx.AsyncClient, gql: GraphQLClient, tenant: Tenant
):
    await gql.data("mutation { signOut { signedOut } }", token=tenant.owner_token)
    for token in (None, "not-a-token", tenant.owner_token):
        response = await export(http, "customers", token)
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["cache-control"] == "no-store"
    # A session cookie is no credential here: a link a browser follows carries it anyway.
    response = await http.get("/exports/customers.csv", headers={"Cookie": f"{COOKIE_NAME}=x"})
    assert response.status_code == 401
    assert await _exports_audited(db, tenant) == 0


async def test_an_unknown_kind_reads_nothing(http: httpx.AsyncClient, tenant: Tenant):
    for kind in ("car_events", "staff_users", "..%2Fcustomers", "customers.csv"):
        response = await export(http, kind, tenant.owner_token)
        assert response.status_code == 404, kind
    assert car_events.name not in KINDS


async def test_only_owners_and_admins_get_export_links(
    db: Database,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    smtp: SmtpServer,
    tenant: Tenant,
):
    customer_id, email = await make_customer(gql, tenant)
    portal = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    variables = {"input": {"kind": "CUSTOMERS"}}
    for token, code in (
        (tenant.staff_token, "FORBIDDEN"),
        (portal, "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ):
        result = await gql(LINK, variables, token=token)
        assert error_codes(result) == [code], result
    _, _, admin = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    made = (await gql.data(LINK, variables, token=admin))["createExportLink"]
    assert made["userErrors"] == [] and made["url"]


async def test_an_export_link_is_checked_again_when_opened(
    db: Database, http: httpx.AsyncClient, gql: GraphQLClient, tenant: Tenant
):
    _, admin_email, admin = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    variables = {"input": {"kind": "PAYMENTS"}}
    url = (await gql.data(LINK, variables, token=admin))["createExportLink"]["url"]
    owner_url = (await gql.data(LINK, variables, token=tenant.owner_token))["createExportLink"][
        "url"
    ]
    assert (await http.get(path_of(url))).status_code == 200
    # Tampered with: not a link at all.
    forged = path_of(url)[:-3] + ("abc" if not url.endswith("abc") else "abd")
    response = await http.get(forged)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "LINK_INVALID"
    # Made by an admin since demoted: their link no longer exports.
    async with db.write() as session:
        await session.execute(
            sa.update(staff_users)
            .where(staff_users.c.email == admin_email)
            .values(role=StaffRole.STAFF)
        )
    response = await http.get(path_of(url))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    # Made in a session since ended.
    await gql.data("mutation { signOut { signedOut } }", token=tenant.owner_token)
    response = await http.get(path_of(owner_url))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_export_link_tokens_are_redacted_from_logs():
    line = 'GET /exports/links/eyJhYmMi.ZZZ.sig?x=1 HTTP/1.1" 200'
    assert redact(line) == 'GET /exports/links/[redacted]?x=1 HTTP/1.1" 200'
    assert redact("/exports/customers.csv?from=2026-01-01") == (
        "/exports/customers.csv?from=2026-01-01"
    )
