"""Invoice PDFs through signed download links, on SQLite and PostgreSQL.

A link carries only a session and an invoice; opening it decides the viewer again from
that session and reads the invoice under that viewer's scope as it is now.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from auth.access import row_scope
from auth.downloads import INVOICE_PDF, download_url, read_download_token
from auth.sessions import start_session, viewer_for_token
from auth.viewer import Viewer
from core.settings import settings_from_env
from models import Car, Customer, Invoice, InvoiceLine, Organization, Payment
from models.db import Database
from models.enums import InvoiceStatus, LineKind, PaymentMethod, PaymentStatus, SessionKind
from models.invoice_documents import load_invoice_document
from models.money import bill_totals, line_amounts
from models.types import utcnow
from models.writes import add_in_order
from portico.app import create_app
from tests.helpers import GraphQLClient, Tenant
from tests.pdf_text import pdf_text

STAFF_INVOICES = "{ invoices(first: 20) { nodes { id number pdfUrl } } }"
PORTAL_INVOICES = "{ viewer { customer { invoices(first: 20) { nodes { id number pdfUrl } } } } }"
MADE_UP = "eyJub3RoaW5nIjoiaGVyZSJ9.ZxYwVu.bm90LWEtcmVhbC1zaWduYXR1cmU"


@dataclass
class World:
    tenant: Tenant
    invoice_id: uuid.UUID  # Alex's open invoice #1001, with a car, lines and payments
    draft_id: uuid.UUID  # Alex's draft: staff only
    other_invoice_id: uuid.UUID  # Blake's invoice, same organization
    alex: str  # portal session tokens
    blake: str
    stranger: str  # a customer of another organization
    stranger_staff: str  # staff of another organization


def _bill(
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    number: int | None,
    status: InvoiceStatus,
    lines: list[tuple[str, int, int]],
    **fields: Any,
) -> tuple[Invoice, list[InvoiceLine]]:
    invoice = Invoice(
        organization_id=organization_id,
        customer_id=customer_id,
        number=number,
        status=status,
        currency="USD",
        **fields,
    )
    rows = []
    for position, (description, quantity, price) in enumerate(lines):
        amounts = line_amounts(quantity, price, 825)
        rows.append(
            InvoiceLine(
                organization_id=organization_id,
                invoice_id=invoice.id,
                position=position,
                kind=LineKind.LABOUR,
                description=description,
                quantity_milli=quantity,
                unit_price=price,
                tax_rate_bp=825,
                subtotal=amounts.subtotal,
                tax=amounts.tax,
                total=amounts.total,
            )
        )
    totals = bill_totals(rows)  # type: ignore[arg-type]
    invoice.subtotal, invoice.tax_total, invoice.total = (
        totals.subtotal,
        totals.tax_total,
        totals.total,
    )
    return invoice, rows


@pytest.fixture
async def world(db: Database, tenant: Tenant, other_tenant: Tenant) -> World:
    org = tenant.organization_id
    alex = Customer(
        organization_id=org,
        name="Alex Morgan",
        company="Morgan Classics",
        email="alex@morgan.test",
        address_line1="12 Harbour Road",
        city="Portsmouth",
        postal_code="PO1 2AB",
        country="GB",
    )
    blake = Customer(organization_id=org, name="Blake Other", email="blake@other.test")
    stranger = Customer(organization_id=other_tenant.organization_id, name="Stranger")
    car = Car(
        organization_id=org,
        customer_id=alex.id,
        make="Porsche",
        model="911 Targa",
        year=1973,
        license_plate="PT 1973",
    )
    invoice, lines = _bill(
        org,
        alex.id,
        1001,
        InvoiceStatus.PARTIALLY_PAID,
        [("Engine rebuild, labour", 12500, 9500), ("Gasket set", 1000, 23450)],
        car_id=car.id,
        issue_date=date(2025, 5, 1),
        due_date=date(2025, 5, 15),
        amount_paid=50000,
        notes="Please pay by bank transfer.",
    )
    paid = Payment(
        organization_id=org,
        customer_id=alex.id,
        invoice_id=invoice.id,
        amount=50000,
        currency="USD",
        method=PaymentMethod.BANK_TRANSFER,
        status=PaymentStatus.SUCCEEDED,
        received_at=utcnow() - timedelta(days=3),
    )
    pending = Payment(
        organization_id=org,
        customer_id=alex.id,
        invoice_id=invoice.id,
        amount=77777,
        currency="USD",
        method=PaymentMethod.CARD_ONLINE,
        status=PaymentStatus.PENDING,
    )
    draft, draft_lines = _bill(org, alex.id, None, InvoiceStatus.DRAFT, [("Draft work", 1000, 100)])
    other, other_lines = _bill(org, blake.id, 1002, InvoiceStatus.OPEN, [("Wash", 1000, 4000)])
    letterhead = {
        "name": "Harbour Classic Cars",
        "address": "1 Quay Street, Portsmouth",
        "email": "desk@harbour.test",
        "phone": "+44 23 9200 0000",
        "brand_color": "#0b6e4f",
    }
    async with db.write() as session:
        await session.execute(
            sa.update(Organization).where(Organization.id == org).values(**letterhead)
        )
        rows = [alex, blake, stranger, car, invoice, draft, other, paid, pending]
        await add_in_order(session, [*rows, *lines, *draft_lines, *other_lines])
        tokens = []
        for organization_id, customer_id in (
            (org, alex.id),
            (org, blake.id),
            (other_tenant.organization_id, stranger.id),
        ):
            issued = await start_session(
                session,
                kind=SessionKind.PORTAL,
                organization_id=organization_id,
                customer_id=customer_id,
            )
            tokens.append(issued.token)
    return World(
        tenant, invoice.id, draft.id, other.id, *tokens, stranger_staff=other_tenant.staff_token
    )


def _path(url: str) -> str:
    return urlsplit(url).path


def _urls(data: dict[str, Any]) -> dict[int | None, str]:
    return {node["number"]: node["pdfUrl"] for node in data["invoices"]["nodes"]}


async def _viewer(db: Database, token: str) -> Viewer:
    reads = db.reader()
    try:
        return await viewer_for_token(reads, token)
    finally:
        await reads.close()


@asynccontextmanager
async def app_with(db: Database, **changes: Any) -> AsyncIterator[tuple[Database, Any]]:
    """A second app on the same database with other settings (keys, link lifetime)."""
    other = Database(dataclasses.replace(db.settings, **changes))
    try:
        yield other, create_app(db=other, run_mail_worker=False)
    finally:
        await other.dispose()


async def _get(app: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        return await client.get(path)


def _assert_pdf(response: httpx.Response, number: int) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="invoice-{number}.pdf"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.content.startswith(b"%PDF-")
    return pdf_text(response.content)


async def test_staff_download_the_invoice_as_a_pdf(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient, db: Database
):
    urls = _urls(await gql.data(STAFF_INVOICES, token=world.tenant.staff_token))
    assert set(urls) == {1001, 1002, None}  # staff see drafts too
    assert urls[1001].startswith(f"{db.settings.public_url}/downloads/")
    text = _assert_pdf(await http.get(_path(urls[1001])), 1001)
    for expected in (
        "Harbour Classic Cars",
        "desk@harbour.test",
        "+44 23 9200 0000",
        "Invoice #1001",
        "Partially paid",
        "2025-05-01",
        "2025-05-15",
        "Alex Morgan",
        "Morgan Classics",
        "12 Harbour Road",
        "1973 Porsche 911 Targa",
        "PT 1973",
        "Engine rebuild, labour",
        "12.5",
        "USD 1,285.47",  # 12.5 x 95.00, plus 8.25 % tax
        "USD 1,422.00",  # subtotal
        "USD 117.32",  # tax
        "USD 1,539.32",  # total
        "Bank transfer",
        "USD 500.00",
        "USD 1,039.32",  # due
        "Please pay by bank transfer.",
    ):
        assert expected in text, expected
    assert "777.77" not in text  # a pending payment is not money received
    draft = await http.get(_path(urls[None]))
    assert draft.status_code == 200 and draft.content.startswith(b"%PDF-")
    assert draft.headers["content-disposition"] == 'attachment; filename="invoice-draft.pdf"'
    assert "Invoice (draft)" in pdf_text(draft.content)


async def test_a_portal_viewer_downloads_their_own_invoice(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient
):
    data = await gql.data(PORTAL_INVOICES, token=world.alex)
    nodes = data["viewer"]["customer"]["invoices"]["nodes"]
    assert [n["number"] for n in nodes] == [1001]  # no drafts, nobody else's
    text = _assert_pdf(await http.get(_path(nodes[0]["pdfUrl"])), 1001)
    assert "Alex Morgan" in text and "Engine rebuild, labour" in text


async def test_a_valid_token_for_an_invoice_the_viewer_cannot_see_is_a_plain_404(
    world: World, http: httpx.AsyncClient, db: Database
):
    made_up = await http.get(f"/downloads/{MADE_UP}")
    assert made_up.status_code == 404
    assert made_up.json() == {"error": {"code": "NOT_FOUND", "message": "This link is not valid."}}
    settings = db.settings
    cases = [
        (world.blake, world.invoice_id),  # another customer of the same business
        (world.stranger, world.invoice_id),  # a customer of another business
        (world.stranger_staff, world.invoice_id),  # staff of another business
        (world.alex, world.draft_id),  # not released to the portal
        (world.alex, world.other_invoice_id),
        (world.tenant.staff_token, uuid.uuid4()),  # no such invoice
    ]
    for token, invoice_id in cases:
        viewer = await _viewer(db, token)
        url = download_url(settings, viewer, INVOICE_PDF, invoice_id)
        assert read_download_token(settings, url.rsplit("/", 1)[1]) is not None
        response = await http.get(_path(url))
        assert response.status_code == 404
        assert response.content == made_up.content
        same = {k: v for k, v in response.headers.items() if k != "x-request-id"}
        assert same == {k: v for k, v in made_up.headers.items() if k != "x-request-id"}


async def test_tampered_and_expired_tokens_are_404(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient, db: Database
):
    urls = _urls(await gql.data(STAFF_INVOICES, token=world.tenant.staff_token))
    token = urls[1001].rsplit("/", 1)[1]
    made_up = await http.get(f"/downloads/{MADE_UP}")
    payload, timestamp, signature = token.rsplit(".", 2)
    flipped = "A" if signature[0] != "A" else "B"
    swapped = download_url(
        db.settings, await _viewer(db, world.alex), INVOICE_PDF, world.invoice_id
    )
    for bad in (
        f"{payload}.{timestamp}.{flipped}{signature[1:]}",
        f"{swapped.rsplit('/', 1)[1].rsplit('.', 2)[0]}.{timestamp}.{signature}",
        f"{payload}.{timestamp}",
        token[:-1],
        "",
    ):
        response = await http.get(f"/downloads/{bad}")
        assert response.status_code == 404, bad
        if bad:
            assert response.content == made_up.content
    async with app_with(db, download_url_seconds=1) as (_, short_app):
        async with httpx_client(short_app) as client:
            data = await GraphQLClient(client).data(STAFF_INVOICES, token=world.tenant.staff_token)
        short = _path(_urls(data)[1001])
        assert (await _get(short_app, short)).status_code == 200
        await asyncio.sleep(2.1)  # past the lifetime, counted in whole seconds
        expired = await _get(short_app, short)
        assert expired.status_code == 404
        assert expired.content == made_up.content


def httpx_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portico.test")


async def test_an_ended_session_makes_its_links_401(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient
):
    staff = _urls(await gql.data(STAFF_INVOICES, token=world.tenant.owner_token))[1001]
    portal = (await gql.data(PORTAL_INVOICES, token=world.alex))["viewer"]["customer"]
    portal_url = portal["invoices"]["nodes"][0]["pdfUrl"]
    assert (await http.get(_path(staff))).status_code == 200

    signed_out = await gql.data(
        "mutation { signOut { signedOut } }", token=world.tenant.owner_token
    )
    assert signed_out["signOut"]["signedOut"] is True
    response = await http.get(_path(staff))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["cache-control"] == "no-store"

    # Revoking a customer's portal access ends their sessions, and so their links.
    customer_id = (await gql.data("{ viewer { customer { id } } }", token=world.alex))["viewer"][
        "customer"
    ]["id"]
    revoke = """mutation R($input: PortalPersonInput!) {
      revokePortalAccess(input: $input) { userErrors { code } } }"""
    revoked = await gql.data(
        revoke, {"input": {"customerId": customer_id}}, token=world.tenant.staff_token
    )
    assert revoked["revokePortalAccess"]["userErrors"] == []
    assert (await http.get(_path(portal_url))).status_code == 401


async def test_links_survive_a_key_rotation_until_the_old_key_is_removed(
    world: World, gql: GraphQLClient, db: Database
):
    old_key = db.settings.secret_keys[0]
    old_link = _path(_urls(await gql.data(STAFF_INVOICES, token=world.tenant.staff_token))[1001])
    async with app_with(db, secret_keys=("a-brand-new-key", old_key)) as (_, rotated):
        assert (await _get(rotated, old_link)).status_code == 200
        async with httpx_client(rotated) as client:
            data = await GraphQLClient(client).data(STAFF_INVOICES, token=world.tenant.staff_token)
        new_link = _path(_urls(data)[1001])
        assert (await _get(rotated, new_link)).status_code == 200
    async with app_with(db, secret_keys=("a-brand-new-key",)) as (_, retired):
        assert (await _get(retired, old_link)).status_code == 404
        assert (await _get(retired, new_link)).status_code == 200


async def test_the_planner_leaves_pdf_urls_to_the_executor(world: World, db: Database):
    """The same answers planned or executed; only the links' signing times may differ."""
    query = """{ invoices(first: 5) { nodes { number total { amount } pdfUrl
                  lineItems { description } } } }"""
    answers = []
    for plan_reads in (True, False):
        app = create_app(db=db, run_mail_worker=False, plan_reads=plan_reads)
        async with httpx_client(app) as client:
            answers.append(await GraphQLClient(client).data(query, token=world.tenant.staff_token))
    for answer in answers:
        for node in answer["invoices"]["nodes"]:
            grant = read_download_token(db.settings, node.pop("pdfUrl").rsplit("/", 1)[1])
            assert grant is not None and grant.kind == INVOICE_PDF
            node["grant"] = grant.row_id
    assert answers[0] == answers[1]


async def test_the_document_is_read_in_three_statements_under_the_scope(
    world: World, db: Database, count_statements
):
    reads = db.reader()
    try:
        staff = await _viewer(db, world.tenant.staff_token)
        blake = await _viewer(db, world.blake)
        count_statements.statements.clear()
        doc = await load_invoice_document(
            reads, world.tenant.organization_id, world.invoice_id, row_scope(staff)
        )
        assert len(count_statements.statements) == 3
        hidden = await load_invoice_document(
            reads, world.tenant.organization_id, world.invoice_id, row_scope(blake)
        )
    finally:
        await reads.close()
    assert hidden is None
    assert doc is not None and doc.number == 1001 and doc.amount_due == 153932 - 50000
    assert [line.description for line in doc.lines] == ["Engine rebuild, labour", "Gasket set"]
    assert [p.amount for p in doc.payments] == [50000]
    assert doc.car is not None and doc.car.license_plate == "PT 1973"
    assert doc.bill_to.address_lines == ("12 Harbour Road", "PO1 2AB Portsmouth", "GB")


def test_download_links_last_five_minutes_unless_configured():
    assert settings_from_env({}).download_url_seconds == 300
    assert settings_from_env({"DOWNLOAD_URL_SECONDS": "60"}).download_url_seconds == 60


def test_a_token_holds_the_session_kind_and_row_and_nothing_else():
    settings = settings_from_env({})
    session, row = uuid.uuid4(), uuid.uuid4()
    viewer = Viewer(session_id=session, email="alex@morgan.test", customer_id=uuid.uuid4())
    token = download_url(settings, viewer, INVOICE_PDF, row).rsplit("/", 1)[1]
    grant = read_download_token(settings, token)
    assert grant is not None
    assert (grant.session_id, grant.kind, grant.row_id) == (session, INVOICE_PDF, row)
    # Read without checking the signature, as anyone holding the link could.
    _, decoded = URLSafeTimedSerializer("any key").loads_unsafe(token)
    assert decoded == [session.hex, INVOICE_PDF, row.hex]
