"""CSV exports: the columns, formats and ranges of each kind, formula cells neutralised,
the audit row, and a large export read in bounded memory."""

from __future__ import annotations

import tracemalloc
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
import sqlalchemy as sa

from auth.sessions import viewer_for_token
from core.ids import encode_id
from domain.exports import export as export_module
from domain.exports.export import KINDS, DateRange, csv_chunks
from models import Car, Customer, Invoice, Payment
from models.clock import Clock
from models.db import Database
from models.enums import InvoiceStatus, PaymentMethod, PaymentStatus
from models.tables import audit_events, invoices, organizations
from models.writes import add_in_order
from tests.exports import LINK, export, path_of, table
from tests.helpers import GraphQLClient, Tenant

UTC_NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def _zone(db: Database, tenant: Tenant, zone: str) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(organizations)
            .where(organizations.c.id == tenant.organization_id)
            .values(timezone=zone)
        )


async def _customer(db: Database, tenant: Tenant, **fields: object) -> Customer:
    customer = Customer(organization_id=tenant.organization_id, **{"name": "Ada", **fields})
    async with db.write() as session:
        await add_in_order(session, [customer])
    return customer


async def test_customers_have_the_documented_columns_and_formula_cells_are_neutralised(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    customer = await _customer(
        db,
        tenant,
        name='=HYPERLINK("http://evil.test","x")',
        company="+1+2",
        email="@SUM(1)",
        phone="-3",
        address_line1="\tcmd",
        address_line2="\rline",
        city='Köln, "old town"',
        created_at=UTC_NOON,
    )
    response = await export(http, "customers", tenant.owner_token)
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="customers.csv"'
    assert response.text.splitlines()[0] == ",".join(KINDS["customers"].header)
    (row,) = table(response)
    assert row["id"] == encode_id("Customer", customer.id)
    assert row["name"] == '\'=HYPERLINK("http://evil.test","x")'
    assert row["company"] == "'+1+2"
    assert row["email"] == "'@SUM(1)"
    assert row["phone"] == "'-3"
    assert row["address_line1"] == "'\tcmd"
    assert row["address_line2"] == "'\rline"
    assert row["city"] == 'Köln, "old town"'
    assert row["created_at"] == "2026-03-01T12:00:00Z"
    assert row["archived_at"] == ""


async def test_invoices_show_money_in_minor_units_and_amount_due_from_derived(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    customer = await _customer(db, tenant)
    car = Car(
        organization_id=tenant.organization_id, customer_id=customer.id, make="VW", model="T2"
    )
    base = {"organization_id": tenant.organization_id, "customer_id": customer.id}
    sent = Invoice(
        **base,
        car_id=car.id,
        currency="EUR",
        number=7,
        status=InvoiceStatus.OPEN,
        issue_date=date(2026, 3, 1),
        due_date=date(2026, 3, 2),
        subtotal=10000,
        tax_total=1900,
        total=11900,
        amount_paid=2000,
        credited_amount=900,
    )
    void = Invoice(
        **base, currency="EUR", status=InvoiceStatus.VOID, issue_date=date(2026, 3, 5), total=500
    )
    earlier = Invoice(
        **base, currency="EUR", status=InvoiceStatus.OPEN, issue_date=date(2026, 2, 28)
    )
    draft = Invoice(**base, currency="EUR", status=InvoiceStatus.DRAFT, total=100)
    async with db.write() as session:
        await add_in_order(session, [car, sent, void, earlier, draft])

    everything = table(await export(http, "invoices", tenant.owner_token))
    assert len(everything) == 4  # no range: drafts too
    ranged = table(await export(http, "invoices", tenant.owner_token, **{"from": "2026-03-01"}))
    rows = {row["id"]: row for row in ranged}
    assert set(rows) == {encode_id("Invoice", sent.id), encode_id("Invoice", void.id)}
    row = rows[encode_id("Invoice", sent.id)]
    assert (row["currency"], row["total"], row["amount_paid"]) == ("EUR", "11900", "2000")
    assert row["amount_due"] == str(11900 - 2000 - 900)  # hand-computed
    assert row["is_overdue"] == "true"  # due 2026-03-02, long past
    assert (row["customer_id"], row["car_id"]) == (
        encode_id("Customer", customer.id),
        encode_id("Car", car.id),
    )
    assert (row["number"], row["status"], row["issue_date"]) == ("7", "OPEN", "2026-03-01")
    assert rows[encode_id("Invoice", void.id)]["amount_due"] == "0"


async def test_the_range_is_of_days_in_the_organizations_zone(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    await _zone(db, tenant, "America/New_York")  # UTC-5 in early March
    customer = await _customer(db, tenant)
    base = {
        "organization_id": tenant.organization_id,
        "customer_id": customer.id,
        "currency": "USD",
        "method": PaymentMethod.CASH,
        "status": PaymentStatus.SUCCEEDED,
    }
    late_evening = Payment(**base, amount=100, received_at=datetime(2026, 3, 2, 3, tzinfo=UTC))
    next_morning = Payment(**base, amount=200, received_at=datetime(2026, 3, 2, 6, tzinfo=UTC))
    async with db.write() as session:
        await add_in_order(session, [late_evening, next_morning])
    first = {"from": "2026-03-01", "to": "2026-03-01"}
    (row,) = table(await export(http, "payments", tenant.owner_token, **first))
    assert row["id"] == encode_id("Payment", late_evening.id)
    assert (row["amount"], row["currency"], row["method"]) == ("100", "USD", "CASH")
    assert row["received_at"] == "2026-03-02T03:00:00Z"
    assert row["customer_id"] == encode_id("Customer", customer.id)
    second = table(await export(http, "payments", tenant.owner_token, **{"from": "2026-03-02"}))
    assert [r["amount"] for r in second] == ["200"]
    response = await export(http, "payments", tenant.owner_token, **first)
    assert (
        'filename="payments-2026-03-01-2026-03-01.csv"' in response.headers["content-disposition"]
    )


async def test_bad_kinds_and_dates_are_refused_with_a_code(http: httpx.AsyncClient, tenant: Tenant):
    response = await export(http, "staff_users", tenant.owner_token)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "UNKNOWN_KIND"
    for params in (
        {"from": "2026-02-30"},
        {"to": "yesterday"},
        {"from": "20260301"},
        {"from": "2026-W09-1"},
        {"from": "2026-03-02", "to": "2026-03-01"},
    ):
        response = await export(http, "cars", tenant.owner_token, **params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "BAD_DATE"


async def test_each_export_is_audited_before_it_starts_and_when_it_ends(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    customer = await _customer(db, tenant)
    async with db.write() as session:
        await add_in_order(
            session,
            [
                Car(
                    organization_id=tenant.organization_id,
                    customer_id=customer.id,
                    make="VW",
                    model=m,
                )
                for m in ("T1", "T2", "T3")
            ],
        )
    await export(http, "cars", tenant.owner_token, **{"from": "2026-01-01"})
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(audit_events.c.action, audit_events.c.data, audit_events.c.actor_kind)
                .where(audit_events.c.organization_id == tenant.organization_id)
                .where(audit_events.c.action.like("export.%"))
                .order_by(audit_events.c.action.desc())  # downloaded, then completed
            )
        ).all()
    assert [(r.action, r.data, r.actor_kind) for r in rows] == [
        ("export.downloaded", {"kind": "cars", "from": "2026-01-01", "to": None}, "STAFF"),
        (
            "export.completed",
            {"kind": "cars", "from": "2026-01-01", "to": None, "rows": 3},
            "STAFF",
        ),
    ]


async def test_a_large_export_streams_in_bounded_memory(
    db: Database, http: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    """Memory follows the batch, not the export: with batches of 100 rows, the peak while
    5,000 invoices stream stays well below the CSV's own size (a whole load would take
    about 3 KiB of Python objects per row, over ten times the CSV)."""
    monkeypatch.setattr(export_module, "BATCH", 100)
    customer = await _customer(db, tenant)
    count = 5000
    rows = [
        {
            "id": uuid.uuid4(),
            "organization_id": tenant.organization_id,
            "customer_id": customer.id,
            "currency": "USD",
            "status": InvoiceStatus.OPEN,
            "number": n + 1,
            "issue_date": date(2026, 3, 1),
            "subtotal": 1000 + n,
            "tax_total": 0,
            "total": 1000 + n,
            "notes": "x" * 200,
            "created_at": UTC_NOON,
            "updated_at": UTC_NOON,
        }
        for n in range(count)
    ]
    async with db.write() as session:
        await session.execute(sa.insert(invoices), rows)
    reads = db.reader()
    try:
        viewer = await viewer_for_token(reads, tenant.owner_token)
    finally:
        await reads.close()
    kind, dates = KINDS["invoices"], DateRange()

    async def drain() -> tuple[int, int]:
        size = lines = 0
        async for chunk in csv_chunks(db, viewer, kind, dates, "UTC", Clock.start()):
            size += len(chunk)
            lines += chunk.count(b"\r\n")
        return size, lines

    await drain()  # statements compiled and cached, pool warm
    tracemalloc.start()
    try:
        size, lines = await drain()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == count + 1  # every row once (same created_at: the id breaks ties), header
    assert peak < size / 2, (peak, size)


async def test_an_export_link_downloads_without_the_bearer_header(
    db: Database, http: httpx.AsyncClient, gql: GraphQLClient, tenant: Tenant
):
    customer = await _customer(db, tenant, created_at=UTC_NOON)
    variables = {"input": {"kind": "CUSTOMERS", "from": "2026-03-01", "to": "2026-03-01"}}
    made = (await gql.data(LINK, variables, token=tenant.owner_token))["createExportLink"]
    assert made["userErrors"] == []
    assert made["url"].startswith(f"{db.settings.public_url}/exports/links/")
    assert tenant.owner_email not in made["url"]
    expires = datetime.fromisoformat(made["expiresAt"])
    left = (expires - datetime.now(UTC)).total_seconds()
    assert 0 < left <= db.settings.download_url_seconds
    response = await http.get(path_of(made["url"]))
    assert (
        'filename="customers-2026-03-01-2026-03-01.csv"' in response.headers["content-disposition"]
    )
    assert [row["id"] for row in table(response)] == [encode_id("Customer", customer.id)]
    async with db.connect() as conn:
        audited = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(audit_events)
            .where(audit_events.c.organization_id == tenant.organization_id)
            .where(audit_events.c.action == "export.downloaded")
        )
    assert audited == 1


async def test_an_export_link_for_a_backwards_range_is_refused(gql: GraphQLClient, tenant: Tenant):
    variables = {"input": {"kind": "CARS", "from": "2026-03-02", "to": "2026-03-01"}}
    made = (await gql.data(LINK, variables, token=tenant.owner_token))["createExportLink"]
    assert made["url"] is None
    assert made["userErrors"] == [{"field": ["input", "from"], "code": "BAD_DATE"}]
