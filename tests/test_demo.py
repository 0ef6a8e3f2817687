"""`portico demo`: loads once, is a no-op when loaded, and `reset` replaces only the demo."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from models.db import Database
from models.enums import InvoiceStatus
from models.migrate import upgrade
from models.types import utcnow
from portico.demo import load_demo
from portico.settings import Settings, settings_from_env
from portico.staff import create_owner


async def _migrated_settings(url: str) -> Settings:
    settings = settings_from_env({"DATABASE_URL": url})
    db = Database(settings)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()
    return settings


async def _query(settings: Settings, sql: str, **params: Any) -> list[sa.Row[Any]]:
    db = Database(settings)
    try:
        async with db.connect() as conn:
            return list((await conn.execute(sa.text(sql), params)).all())
    finally:
        await db.dispose()


async def _demo_id(settings: Settings) -> str:
    rows = await _query(settings, "SELECT id FROM organizations WHERE slug = 'demo'")
    assert len(rows) == 1
    return rows[0].id


async def _invoice_summary(settings: Settings, org_id: str) -> list[tuple[Any, ...]]:
    rows = await _query(
        settings,
        "SELECT number, status, total FROM invoices WHERE organization_id = :org "
        "ORDER BY number, total",
        org=org_id,
    )
    return [tuple(row) for row in rows]


async def test_demo_loads_once_and_resets(
    scratch_database_url: str, capsys: pytest.CaptureFixture[str]
):
    settings = await _migrated_settings(scratch_database_url)
    await create_owner(
        settings,
        organization="Other Garage",
        slug="other",
        name="Olga Other",
        email="olga@other.test",
        password="other-password",
    )

    await load_demo(settings)
    first_id = await _demo_id(settings)
    first_invoices = await _invoice_summary(settings, first_id)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/graphql" in out
    assert 'signIn(input: {email: "owner@demo.portico.test"' in out
    assert "Authorization: Bearer <token>" in out

    await load_demo(settings)
    assert "already loaded" in capsys.readouterr().out
    assert await _demo_id(settings) == first_id
    assert await _invoice_summary(settings, first_id) == first_invoices

    await load_demo(settings, reset=True)
    org_id = await _demo_id(settings)
    assert org_id != first_id
    assert await _invoice_summary(settings, org_id) == first_invoices  # same seed, same bills

    async def count(sql: str) -> int:
        return (await _query(settings, sql, org=org_id))[0][0]

    # Nothing of the first load is left, and the other organization is untouched.
    assert await count("SELECT count(*) FROM organizations WHERE slug = 'demo'") == 1
    assert await count("SELECT count(*) FROM organizations WHERE slug = 'other'") == 1
    assert await count("SELECT count(*) FROM staff_users WHERE email = 'olga@other.test'") == 1
    for table in ("customers", "cars", "invoices", "contacts", "contact_cars", "counters"):
        total = await count(f"SELECT count(*) FROM {table}")
        assert total == await count(f"SELECT count(*) FROM {table} WHERE organization_id = :org")

    assert await count("SELECT count(*) FROM customers WHERE organization_id = :org") >= 25
    staff = await _query(
        settings,
        "SELECT email, role FROM staff_users WHERE organization_id = :org ORDER BY email",
        org=org_id,
    )
    assert [tuple(row) for row in staff] == [
        ("owner@demo.portico.test", "OWNER"),
        ("staff@demo.portico.test", "STAFF"),
    ]

    statuses = await _query(
        settings, "SELECT DISTINCT status FROM invoices WHERE organization_id = :org", org=org_id
    )
    assert {row.status for row in statuses} == {status.value for status in InvoiceStatus}

    invoices = await _query(
        settings,
        "SELECT i.id, i.status, i.number, i.subtotal, i.tax_total, i.total, i.amount_paid,"
        " (SELECT sum(l.total) FROM invoice_lines l WHERE l.invoice_id = i.id) AS lines_total"
        " FROM invoices i WHERE i.organization_id = :org",
        org=org_id,
    )
    for row in invoices:
        assert row.total == row.lines_total
        assert row.subtotal + row.tax_total == row.total
        if row.status == InvoiceStatus.PAID:
            assert row.amount_paid == row.total
        if row.status == InvoiceStatus.PARTIALLY_PAID:
            assert 0 < row.amount_paid < row.total
    numbers = sorted(row.number for row in invoices if row.status != InvoiceStatus.DRAFT)
    assert numbers == list(range(1001, 1001 + len(numbers)))
    assert all(row.number is None for row in invoices if row.status == InvoiceStatus.DRAFT)
    assert await count(
        "SELECT last_value FROM counters WHERE organization_id = :org AND name = 'invoice'"
    ) == max(numbers)

    now = utcnow()
    # Estimates follow the real rules: every sent one has its frozen version (naming its
    # lines), every answered one its decision, and expired ones are sent ones past expiry.
    estimates = await _query(
        settings,
        "SELECT e.status, e.expires_at,"
        " (SELECT count(*) FROM estimate_versions v WHERE v.estimate_id = e.id) AS versions,"
        " (SELECT count(*) FROM estimate_decisions d WHERE d.estimate_id = e.id) AS decisions"
        " FROM estimates e WHERE e.organization_id = :org",
        org=org_id,
    )
    assert {row.status for row in estimates} == {"DRAFT", "SENT", "APPROVED", "DECLINED"}
    for row in estimates:
        assert row.versions == (0 if row.status == "DRAFT" else 1)
        assert row.decisions == (1 if row.status in ("APPROVED", "DECLINED") else 0)
        assert (row.expires_at is None) == (row.status == "DRAFT")
    assert any(row.status == "SENT" and _utc(row.expires_at) < now for row in estimates)
    assert any(row.status == "SENT" and _utc(row.expires_at) > now for row in estimates)
    snapshots = await _query(
        settings,
        "SELECT v.snapshot, (SELECT count(*) FROM estimate_lines l"
        " WHERE l.estimate_id = v.estimate_id) AS lines"
        " FROM estimate_versions v WHERE v.organization_id = :org",
        org=org_id,
    )
    for row in snapshots:
        snapshot = json.loads(row.snapshot) if isinstance(row.snapshot, str) else row.snapshot
        assert len(snapshot["lines"]) == row.lines and all(x["id"] for x in snapshot["lines"])

    appointments = await _query(
        settings,
        "SELECT starts_at, ends_at FROM appointments WHERE organization_id = :org",
        org=org_id,
    )
    assert any(_utc(row.starts_at) > now for row in appointments)
    assert all(_utc(row.ends_at) > _utc(row.starts_at) for row in appointments)


def _utc(value: str | datetime) -> datetime:
    """Plain SQL on SQLite returns the stored UTC times as naive text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
