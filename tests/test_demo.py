"""`portico demo`: loads once, is a no-op when loaded, and `reset` replaces only the demo;
its photos and documents are real stored files, and the portal has content to show."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from core.ids import encode_id
from core.settings import Settings, settings_from_env
from demo.seed import OWNER_EMAIL, OWNER_PASSWORD, load_demo, sign_in_help
from models.db import Database
from models.enums import InvoiceStatus
from models.migrate import upgrade
from models.types import utcnow
from portico.app import create_app
from portico.staff import create_owner
from storage import read_bytes, storage_from_settings
from tests.helpers import GraphQLClient

FILE_TABLES = ("documents", "car_photos", "job_photos")


async def _migrated_settings(url: str, storage_dir: Path) -> Settings:
    settings = settings_from_env({"DATABASE_URL": url, "STORAGE_DIR": str(storage_dir)})
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


async def _stored_keys(settings: Settings, org_id: str) -> list[str]:
    keys = []
    for table in FILE_TABLES:
        rows = await _query(
            settings, f"SELECT storage_key FROM {table} WHERE organization_id = :org", org=org_id
        )
        keys += [row.storage_key for row in rows]
    return keys


async def test_demo_loads_once_and_resets(
    scratch_database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    settings = await _migrated_settings(scratch_database_url, tmp_path / "storage")
    storage = storage_from_settings(settings)
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
    first_keys = await _stored_keys(settings, first_id)
    assert len(first_keys) > 50
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/graphql" in out
    assert 'signIn(input: {email: "owner@demo.portico.test"' in out
    assert "Authorization: Bearer <token>" in out
    assert "Queued the reminders of 1 appointment(s)" in out  # the one three hours away
    reminders = await _query(
        settings,
        "SELECT subject FROM outbox_emails WHERE organization_id = :org AND kind = 'SCHEDULING'",
        org=first_id,
    )
    assert {row.subject for row in reminders} == {
        "Reminder: Pick-up for a weekend drive with Harbor Classic Car Storage"
    }

    await load_demo(settings)
    assert "already loaded" in capsys.readouterr().out
    assert await _demo_id(settings) == first_id
    assert await _invoice_summary(settings, first_id) == first_invoices

    await load_demo(settings, reset=True)
    org_id = await _demo_id(settings)
    assert org_id != first_id
    assert await _invoice_summary(settings, org_id) == first_invoices  # same seed, same bills
    # The old demo's files went with it; the new demo's are all there.
    keys = await _stored_keys(settings, org_id)
    assert len(keys) == len(first_keys)
    assert not [key for key in first_keys if await storage.exists(key)]
    assert all([await storage.exists(key) for key in keys])

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
        "SELECT email, role, status FROM staff_users WHERE organization_id = :org ORDER BY email",
        org=org_id,
    )
    assert [tuple(row) for row in staff] == [
        ("admin@demo.portico.test", "ADMIN", "ACTIVE"),
        ("jordan@demo.portico.test", "STAFF", "DEACTIVATED"),
        ("owner@demo.portico.test", "OWNER", "ACTIVE"),
        ("sam@demo.portico.test", "STAFF", "INVITED"),
        ("staff@demo.portico.test", "STAFF", "ACTIVE"),
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
    # An overdue invoice mid-dunning: three reminders sent, one late fee on its own invoice.
    assert await count("SELECT count(*) FROM invoice_reminders WHERE organization_id = :org") == 3
    fees = await _query(
        settings,
        "SELECT f.amount, f.invoice_id, l.invoice_id AS line_invoice, f.fee_invoice_id"
        " FROM late_fees f JOIN invoice_lines l ON l.id = f.fee_line_id"
        " WHERE f.organization_id = :org",
        org=org_id,
    )
    assert [(f.amount, f.line_invoice == f.fee_invoice_id) for f in fees] == [(2_500, True)]
    # Monthly statements are on, and last month's went to the customers with activity or a
    # balance (through the outbox), once each.
    assert (
        await count(
            "SELECT count(*) FROM collection_settings WHERE organization_id = :org"
            " AND monthly_statements AND statement_day = 1"
        )
        == 1
    )
    statements = await _query(
        settings,
        "SELECT s.month, s.recipients, s.entries, s.closing FROM monthly_statements s"
        " WHERE s.organization_id = :org",
        org=org_id,
    )
    last_month = (
        utcnow().astimezone(ZoneInfo("America/Chicago")).date().replace(day=1) - timedelta(days=1)
    ).replace(day=1)
    assert {str(row.month) for row in statements} == {last_month.isoformat()}
    assert any(row.recipients > 0 for row in statements)
    assert all(row.entries or row.closing or not row.recipients for row in statements)
    assert await count(
        "SELECT count(*) FROM outbox_emails WHERE organization_id = :org"
        " AND subject LIKE 'Your statement from%'"
    ) == sum(row.recipients for row in statements)

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


async def test_demo_portal_content(scratch_database_url: str, tmp_path: Path):
    settings = await _migrated_settings(scratch_database_url, tmp_path / "storage")
    await load_demo(settings)
    org_id = await _demo_id(settings)

    async def rows(sql: str) -> list[sa.Row[Any]]:
        return await _query(settings, sql, org=org_id)

    # Every photo and document names a stored file whose bytes match its size and hash.
    storage = storage_from_settings(settings)
    for table in FILE_TABLES:
        files = await rows(
            f"SELECT storage_key, sha256, size_bytes, content_type FROM {table}"
            " WHERE organization_id = :org"
        )
        assert files, table
        for row in files:
            data = await read_bytes(storage, row.storage_key)
            assert (len(data), hashlib.sha256(data).hexdigest()) == (row.size_bytes, row.sha256)
            magic = b"%PDF-" if row.content_type == "application/pdf" else b"\x89PNG\r\n\x1a\n"
            assert data.startswith(magic), row.content_type

    # Galleries: a few photos on some cars, numbered 0..n-1 with captions and times.
    photos = await rows(
        "SELECT car_id, position, caption, taken_at FROM car_photos WHERE organization_id = :org"
    )
    by_car: dict[Any, list[int]] = {}
    for photo in photos:
        by_car.setdefault(photo.car_id, []).append(photo.position)
        assert photo.caption and photo.taken_at
    assert len(by_car) >= 5
    assert all(sorted(p) == list(range(len(p))) for p in by_car.values())

    # Jobs: completed ones with before and after photos, customer notes and the history
    # entry completing writes; one in progress, one scheduled.
    jobs = await rows(
        "SELECT j.id, j.status, j.kind, j.customer_notes,"
        " (SELECT count(*) FROM job_photos p WHERE p.job_id = j.id AND p.stage = 'BEFORE') b,"
        " (SELECT count(*) FROM job_photos p WHERE p.job_id = j.id AND p.stage = 'AFTER') a"
        " FROM jobs j WHERE j.organization_id = :org"
    )
    statuses = [row.status for row in jobs]
    assert statuses.count("IN_PROGRESS") == 1 and statuses.count("SCHEDULED") == 1
    completed = [row for row in jobs if row.status == "COMPLETED"]
    assert {row.kind for row in completed} >= {"SERVICE", "DETAILING"}
    assert all(row.b and row.a and row.customer_notes for row in completed)
    events = await rows(
        "SELECT kind, data FROM car_events WHERE organization_id = :org AND staff_user_id IS NULL"
    )
    recorded = {}
    for event in events:
        data = json.loads(event.data) if isinstance(event.data, str) else event.data
        if "job_id" in data:
            recorded[data["job_id"]] = event.kind
    kinds = {"DETAILING": "DETAILING", "SERVICE": "SERVICE", "REPAIR": "SERVICE"}
    assert recorded == {encode_id("Job", _uuid(row.id)): kinds[row.kind] for row in completed}

    # Contracts: one title for the onboarding step, a signed copy for each signed one, and
    # an agreement waiting for an ACTIVE portal customer.
    contracts = await rows(
        "SELECT c.title, c.status, c.signed_document_id, cu.portal_status,"
        " (SELECT d.content_type FROM documents d WHERE d.id = c.signed_document_id) copy"
        " FROM contracts c JOIN customers cu ON cu.id = c.customer_id"
        " WHERE c.organization_id = :org"
    )
    assert {row.title for row in contracts} == {"Storage agreement"}
    assert any(row.status == "SENT" and row.portal_status == "ACTIVE" for row in contracts)
    signed = [row for row in contracts if row.status == "SIGNED"]
    assert signed and all(row.copy == "application/pdf" for row in signed)

    cards = await rows(
        "SELECT m.brand, m.last4, c.stripe_customer_id, c.autopay_enabled"
        " FROM payment_methods m JOIN customers c ON c.id = m.customer_id"
        " WHERE m.organization_id = :org"
    )
    assert [(r.brand, r.last4, bool(r.autopay_enabled)) for r in cards] == [("visa", "4242", True)]
    assert cards[0].stripe_customer_id.startswith("cus_")

    now = utcnow()
    events = await rows(
        "SELECT e.starts_at, e.capacity, e.published_at,"
        " (SELECT count(*) FROM event_rsvps r WHERE r.event_id = e.id) answers"
        " FROM community_events e WHERE e.organization_id = :org"
    )
    upcoming = [e for e in events if _utc(e.starts_at) > now]
    assert len(upcoming) == 1 and len(events) == 2
    assert upcoming[0].capacity and upcoming[0].published_at and upcoming[0].answers >= 3
    assert (await rows("SELECT count(*) FROM messages WHERE organization_id = :org"))[0][0] > 0

    # Recurring billing: plans (one archived) and subscriptions running, paused and ended,
    # one of them an ACTIVE portal customer's storage on autopay.
    plans = await rows("SELECT archived_at FROM billing_plans WHERE organization_id = :org")
    assert len(plans) == 4 and sum(p.archived_at is not None for p in plans) == 1
    subscriptions = await rows(
        "SELECT s.paused_at, s.end_date, s.autopay, c.portal_status FROM subscriptions s"
        " JOIN customers c ON c.id = s.customer_id WHERE s.organization_id = :org"
    )
    assert len(subscriptions) == 5
    assert sum(s.paused_at is not None for s in subscriptions) == 1
    assert sum(s.end_date is not None for s in subscriptions) == 2
    assert any(s.autopay and s.portal_status == "ACTIVE" for s in subscriptions)

    await _check_as_owner(settings)


async def _check_as_owner(settings: Settings) -> None:
    """What staff see through the API: onboarding progress as computed from the rows,
    due maintenance, and a photo downloaded through its link."""
    db = Database(settings)
    app = create_app(db=db, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
            gql = GraphQLClient(http)
            signed_in = await gql.data(
                "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
                {"input": {"email": OWNER_EMAIL, "password": OWNER_PASSWORD}},
            )
            token = signed_in["signIn"]["token"]
            data = await gql.data(OWNER_QUERY, token=token)
            _check_onboarding(data)
            _check_cars(data)
            _check_moving_in(data)
            pictured = next(c for c in data["cars"]["nodes"] if c["photos"]["nodes"])
            url = pictured["photos"]["nodes"][0]["url"]
            response = await http.get(urlsplit(url).path)
            assert response.status_code == 200, response.text
            assert response.content.startswith(b"\x89PNG")
    finally:
        await db.dispose()


OWNER_QUERY = """
{
  customers(first: 100) { nodes { name portalStatus
    onboarding { completed total isComplete steps { kind done } } } }
  complete: customers(first: 100, onboarding: COMPLETE) { nodes { name } }
  organization { dataImports(first: 10) { nodes { filename state errorCount customersCreated
      mapping ignoredColumns importedBy { email } errors { row field code } } }
    bulkInvites(first: 5) { nodes { state total sent skipped filter
      items(first: 10) { nodes { state reason customer { name } } } } } }
  cars(first: 100) { nodes {
    maintenanceSchedules { name isDue }
    photos(first: 10) { nodes { position caption url } }
    jobs(first: 10) { nodes { status photos(first: 10) { nodes { stage } } } } } }
}
"""


def _check_moving_in(data: dict[str, Any]) -> None:
    """The import history: a dry run with errors, newest first, then the committed import;
    and a finished bulk invite of the business customers."""
    imports = data["organization"]["dataImports"]["nodes"]
    assert [(i["state"], i["errorCount"]) for i in imports] == [("DRY_RUN", 2), ("COMMITTED", 0)]
    assert [e["code"] for e in imports[0]["errors"]] == ["DUPLICATE", "UNKNOWN_CUSTOMER"]
    assert imports[1]["customersCreated"] == 30
    assert imports[1]["mapping"]["E-mail"] == "email"
    assert imports[1]["ignoredColumns"] == ["Account no."]
    assert imports[1]["importedBy"]["email"] == OWNER_EMAIL
    (job,) = data["organization"]["bulkInvites"]["nodes"]
    assert job["state"] == "FINISHED" and job["filter"]["search"] == "LLC"
    assert job["total"] == job["sent"] + job["skipped"] == 3
    names = {i["customer"]["name"] for i in job["items"]["nodes"]}
    assert names == {"Ashby & Cole Auctions", "Lakeshore Motor Club", "Prairie Vintage Rallies"}


def _check_onboarding(data: dict[str, Any]) -> None:
    active = [c for c in data["customers"]["nodes"] if c["portalStatus"] == "ACTIVE"]
    progress = {
        c["name"]: {step["kind"]: step["done"] for step in c["onboarding"]["steps"]} for c in active
    }
    midway = {
        "SIGN_CONTRACT": True,
        "ADD_PAYMENT_METHOD": False,
        "COMPLETE_PROFILE": True,
        "CONFIRM_PREFERENCES": True,
    }
    assert midway in progress.values()
    finished = [c["name"] for c in active if c["onboarding"]["isComplete"]]
    assert len(finished) == 1
    assert finished[0] in {c["name"] for c in data["complete"]["nodes"]}
    assert all(c["onboarding"]["total"] == 4 for c in active)


def _check_cars(data: dict[str, Any]) -> None:
    cars = data["cars"]["nodes"]
    schedules = [s for car in cars for s in car["maintenanceSchedules"]]
    assert any(s["isDue"] for s in schedules) and not all(s["isDue"] for s in schedules)
    jobs = [job for car in cars for job in car["jobs"]["nodes"]]
    stages = {photo["stage"] for job in jobs for photo in job["photos"]["nodes"]}
    assert stages == {"BEFORE", "PROGRESS", "AFTER"}


def _uuid(value: Any) -> uuid.UUID:
    """SQLite returns the stored UUIDs as hex text, PostgreSQL as UUIDs."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def test_demo_names_the_address_the_server_listens_at():
    # It once printed PUBLIC_URL, which is where clients reach the server, not where
    # `portico serve` listens.
    listening = settings_from_env({"PORTICO_PORT": "8123", "PUBLIC_URL": "https://api.example"})
    assert "GraphQL:  http://127.0.0.1:8123/graphql" in sign_in_help(listening)
