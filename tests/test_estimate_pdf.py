"""Estimate PDFs through signed download links, on SQLite and PostgreSQL, under the rules
of invoice PDFs (tests/test_invoice_pdf.py): the link names a session and an estimate, and
opening it decides the viewer again and reads the estimate under that viewer's scope as it
is now. Portal viewers get their own customer's estimates once sent, never drafts; staff
of another organization never; a portal viewer's VIEW and DOWNLOAD go to the access log.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from auth.downloads import ESTIMATE_PDF, INVOICE_PDF, download_url, read_download_token
from auth.sessions import start_session
from models import AccessLog, Car, Customer, Estimate, EstimateLine, Organization, PortalSettings
from models.db import Database
from models.enums import EstimateStatus, LineKind, SessionKind
from models.money import bill_totals, line_amounts
from models.writes import add_in_order
from portico.app import create_app
from tests.helpers import GraphQLClient, Tenant
from tests.pdf_text import pdf_text
from tests.test_invoice_pdf import MADE_UP, _get, _path, _viewer, app_with, httpx_client

STAFF_ESTIMATES = "{ estimates(first: 20) { nodes { id number pdfUrl } } }"
PORTAL_ESTIMATES = "{ viewer { customer { estimates(first: 20) { nodes { id number pdfUrl } } } } }"


@dataclass
class World:
    tenant: Tenant
    alex_id: uuid.UUID
    estimate_id: uuid.UUID  # Alex's sent estimate #2001, with a car and an optional line
    draft_id: uuid.UUID  # Alex's draft: staff only
    expired_id: uuid.UUID  # Alex's #2003, sent and past its expiry
    other_estimate_id: uuid.UUID  # Blake's estimate #2002, same organization
    alex: str  # portal session tokens
    blake: str
    stranger: str  # a customer of another organization
    stranger_staff: str  # staff of another organization


def _estimate(
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    number: int | None,
    status: EstimateStatus,
    lines: list[tuple[str, int, int, bool]],
    **fields: Any,
) -> tuple[Estimate, list[EstimateLine]]:
    estimate = Estimate(
        organization_id=organization_id,
        customer_id=customer_id,
        number=number,
        status=status,
        currency="USD",
        **fields,
    )
    rows = []
    for position, (description, quantity, price, optional) in enumerate(lines):
        amounts = line_amounts(quantity, price, 825)
        rows.append(
            EstimateLine(
                organization_id=organization_id,
                estimate_id=estimate.id,
                position=position,
                kind=LineKind.LABOUR,
                description=description,
                quantity_milli=quantity,
                unit_price=price,
                tax_rate_bp=825,
                subtotal=amounts.subtotal,
                tax=amounts.tax,
                total=amounts.total,
                optional=optional,
            )
        )
    totals = bill_totals(rows)  # type: ignore[arg-type]
    estimate.subtotal, estimate.tax_total, estimate.total = (
        totals.subtotal,
        totals.tax_total,
        totals.total,
    )
    return estimate, rows


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
    far = date.today() + timedelta(days=30)
    estimate, lines = _estimate(
        org,
        alex.id,
        2001,
        EstimateStatus.SENT,
        [
            ("Brake job, labour", 2000, 12000, False),
            ("Pads and rotors", 1000, 18000, False),
            ("Ceramic coating", 1000, 30000, True),
        ],
        car_id=car.id,
        version=2,
        valid_until=far,
        expires_at=datetime.combine(far + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
        notes="Parts ordered on approval.",
        recommendations="Replace the rear tyres within 6 months.",
    )
    draft, draft_lines = _estimate(
        org, alex.id, None, EstimateStatus.DRAFT, [("Draft idea", 1000, 100, False)]
    )
    expired, expired_lines = _estimate(
        org,
        alex.id,
        2003,
        EstimateStatus.SENT,
        [("Paint correction", 1000, 50000, False)],
        valid_until=date(2025, 1, 10),
        expires_at=datetime(2025, 1, 11, tzinfo=UTC),
    )
    other, other_lines = _estimate(
        org, blake.id, 2002, EstimateStatus.SENT, [("Wash", 1000, 4000, False)]
    )
    letterhead = {
        "name": "Harbour Classic Cars",
        "email": "desk@harbour.test",
        "brand_color": "#0b6e4f",
    }
    async with db.write() as session:
        await session.execute(
            sa.update(Organization).where(Organization.id == org).values(**letterhead)
        )
        rows = [alex, blake, stranger, car, estimate, draft, expired, other]
        await add_in_order(session, [*rows, *lines, *draft_lines, *expired_lines, *other_lines])
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
        tenant,
        alex.id,
        estimate.id,
        draft.id,
        expired.id,
        other.id,
        *tokens,
        stranger_staff=other_tenant.staff_token,
    )


def _urls(nodes: list[dict[str, Any]]) -> dict[int | None, str]:
    return {node["number"]: node["pdfUrl"] for node in nodes}


def _assert_pdf(response: httpx.Response, name: str) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.content.startswith(b"%PDF-")
    return pdf_text(response.content)


async def test_staff_download_the_estimate_as_a_pdf(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient, db: Database
):
    nodes = (await gql.data(STAFF_ESTIMATES, token=world.tenant.staff_token))["estimates"]
    urls = _urls(nodes["nodes"])
    assert set(urls) == {2001, 2002, 2003, None}  # staff see drafts too
    assert urls[2001].startswith(f"{db.settings.public_url}/downloads/")
    text = _assert_pdf(await http.get(_path(urls[2001])), "estimate-2001.pdf")
    for expected in (
        "Harbour Classic Cars",
        "desk@harbour.test",
        "Estimate #2001",
        "Awaiting approval",
        "Version 2",
        f"Valid until: {(date.today() + timedelta(days=30)).isoformat()}",
        "PREPARED FOR",
        "Alex Morgan",
        "Morgan Classics",
        "1973 Porsche 911 Targa",
        "PT 1973",
        "Brake job, labour",
        "Pads and rotors",
        "Ceramic coating (optional)",
        "USD 259.80",  # 2 x 120.00, plus 8.25 % tax
        "USD 194.85",  # 180.00 plus tax
        "USD 324.75",  # 300.00 plus tax
        "USD 720.00",  # subtotal
        "USD 59.40",  # tax
        "USD 779.40",  # total
        "Estimate total",
        "RECOMMENDED FURTHER WORK",
        "Replace the rear tyres within 6 months.",
        "Parts ordered on approval.",
    ):
        assert expected in text, expected
    # The status printed is the one the API shows: past its expiry, a sent one is Expired.
    expired = _assert_pdf(await http.get(_path(urls[2003])), "estimate-2003.pdf")
    assert "Estimate #2003" in expired and "Status: Expired" in expired
    draft = _assert_pdf(await http.get(_path(urls[None])), "estimate-draft.pdf")
    assert "Estimate (draft)" in draft and "Draft idea" in draft


async def test_a_portal_viewer_downloads_their_own_estimate_and_it_is_logged(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient, db: Database
):
    data = await gql.data(PORTAL_ESTIMATES, token=world.alex)
    urls = _urls(data["viewer"]["customer"]["estimates"]["nodes"])
    assert set(urls) == {2001, 2003}  # no drafts, nobody else's
    response = await http.get(_path(urls[2001]), headers={"User-Agent": "Alex's laptop"})
    text = _assert_pdf(response, "estimate-2001.pdf")
    assert "Alex Morgan" in text and "Ceramic coating (optional)" in text
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(
                AccessLog.subject_type,
                AccessLog.subject_id,
                AccessLog.action,
                AccessLog.user_agent,
            )
            .where(AccessLog.customer_id == world.alex_id)
            .order_by(AccessLog.created_at, AccessLog.action)
        )
        logged = [tuple(row) for row in rows]
    viewed = sorted(row[:3] for row in logged if row[2] == "VIEW")
    assert viewed == sorted(
        [
            ("Estimate", world.estimate_id, "VIEW"),
            ("Estimate", world.expired_id, "VIEW"),
        ]
    )
    downloads = [row for row in logged if row[2] == "DOWNLOAD"]
    assert downloads == [("Estimate", world.estimate_id, "DOWNLOAD", "Alex's laptop")]
    # Staff downloads are not logged.
    staff = _urls(
        (await gql.data(STAFF_ESTIMATES, token=world.tenant.staff_token))["estimates"]["nodes"]
    )
    assert (await http.get(_path(staff[2001]))).status_code == 200
    async with db.connect() as conn:
        count = await conn.execute(
            sa.select(sa.func.count())
            .select_from(AccessLog)
            .where(AccessLog.customer_id == world.alex_id)
        )
        assert count.scalar_one() == len(logged)


async def test_a_valid_token_for_an_estimate_the_viewer_cannot_see_is_a_plain_404(
    world: World, http: httpx.AsyncClient, db: Database
):
    made_up = await http.get(f"/downloads/{MADE_UP}")
    assert made_up.status_code == 404
    settings = db.settings
    cases = [
        (world.blake, world.estimate_id),  # another customer of the same business
        (world.stranger, world.estimate_id),  # a customer of another business
        (world.stranger_staff, world.estimate_id),  # staff of another business
        (world.stranger_staff, world.draft_id),
        (world.alex, world.draft_id),  # not released to the portal
        (world.alex, world.other_estimate_id),  # Blake's
        (world.tenant.staff_token, uuid.uuid4()),  # no such estimate
    ]
    for token, estimate_id in cases:
        viewer = await _viewer(db, token)
        url = download_url(settings, viewer, ESTIMATE_PDF, estimate_id)
        assert read_download_token(settings, url.rsplit("/", 1)[1]) is not None
        response = await http.get(_path(url))
        assert response.status_code == 404, (token, estimate_id)
        assert response.content == made_up.content
        same = {k: v for k, v in response.headers.items() if k != "x-request-id"}
        assert same == {k: v for k, v in made_up.headers.items() if k != "x-request-id"}
    # A link of one kind does not open a row of the other: an estimate's id as an invoice.
    viewer = await _viewer(db, world.tenant.staff_token)
    crossed = download_url(settings, viewer, INVOICE_PDF, world.estimate_id)
    assert (await http.get(_path(crossed))).status_code == 404


async def test_a_portal_without_its_estimates_section_gets_no_estimate_pdf(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient, db: Database
):
    data = await gql.data(PORTAL_ESTIMATES, token=world.alex)
    url = _urls(data["viewer"]["customer"]["estimates"]["nodes"])[2001]
    assert (await http.get(_path(url))).status_code == 200
    settings_table = PortalSettings.__table__
    async with db.write() as session:
        await session.execute(
            sa.update(settings_table)
            .where(settings_table.c.organization_id == world.tenant.organization_id)
            .values(show_estimates=False)
        )
    assert (await http.get(_path(url))).status_code == 404


async def test_tampered_and_expired_estimate_links_are_404(
    world: World, gql: GraphQLClient, http: httpx.AsyncClient, db: Database
):
    nodes = (await gql.data(STAFF_ESTIMATES, token=world.tenant.staff_token))["estimates"]
    token = _urls(nodes["nodes"])[2001].rsplit("/", 1)[1]
    made_up = await http.get(f"/downloads/{MADE_UP}")
    payload, timestamp, signature = token.rsplit(".", 2)
    flipped = "A" if signature[0] != "A" else "B"
    blakes = download_url(
        db.settings, await _viewer(db, world.blake), ESTIMATE_PDF, world.other_estimate_id
    )
    for bad in (
        f"{payload}.{timestamp}.{flipped}{signature[1:]}",
        # Blake's payload under the staff link's signature
        f"{blakes.rsplit('/', 1)[1].rsplit('.', 2)[0]}.{timestamp}.{signature}",
        f"{payload}.{timestamp}",
        token[:-1],
    ):
        response = await http.get(f"/downloads/{bad}")
        assert response.status_code == 404, bad
        assert response.content == made_up.content
    async with app_with(db, download_url_seconds=1) as (_, short_app):
        async with httpx_client(short_app) as client:
            data = await GraphQLClient(client).data(PORTAL_ESTIMATES, token=world.alex)
        short = _path(_urls(data["viewer"]["customer"]["estimates"]["nodes"])[2001])
        assert (await _get(short_app, short)).status_code == 200
        await asyncio.sleep(2.1)  # past the lifetime, counted in whole seconds
        expired = await _get(short_app, short)
        assert expired.status_code == 404
        assert expired.content == made_up.content


async def test_the_planner_leaves_estimate_pdf_urls_to_the_executor(world: World, db: Database):
    """The same answers planned or executed; only the links' signing times may differ."""
    query = "{ estimates(first: 5) { nodes { number status total { amount } pdfUrl } } }"
    answers = []
    for plan_reads in (True, False):
        app = create_app(db=db, run_mail_worker=False, plan_reads=plan_reads)
        async with httpx_client(app) as client:
            answers.append(await GraphQLClient(client).data(query, token=world.tenant.staff_token))
    for answer in answers:
        for node in answer["estimates"]["nodes"]:
            grant = read_download_token(db.settings, node.pop("pdfUrl").rsplit("/", 1)[1])
            assert grant is not None and grant.kind == ESTIMATE_PDF
    assert answers[0] == answers[1]
