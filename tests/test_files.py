"""Uploads (GraphQL multipart requests), signed file links, documents, car photos and the
portal's access log, through HTTP against the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from auth.cookies import COOKIE_NAME, sign_session_token
from auth.downloads import CAR_PHOTO, DOCUMENT, download_url
from auth.sessions import start_session, viewer_for_token
from core.ids import decode_id, encode_id
from models import AccessLog, Car, Contact, Customer, Invoice
from models.access_log import AccessLogBuffer
from models.db import Database
from models.enums import InvoiceStatus, PortalStatus, SessionKind
from portico.app import create_app
from portico.uploads import ENVELOPE_BYTES
from tests.helpers import GraphQLClient, Tenant, error_codes, not_found_at

PDF_BYTES = b"%PDF-1.4\n" + os.urandom(3000) + b"\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2500)
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(1000)
PREFLIGHT = {"X-Portico-Upload": "1"}
MADE_UP = "eyJub3RoaW5nIjoiaGVyZSJ9.ZxYwVu.bm90LWEtcmVhbC1zaWduYXR1cmU"

UPLOAD_DOCUMENT = """
mutation U($input: UploadDocumentInput!) {
  uploadDocument(input: $input) {
    document { id name kind contentType sizeBytes sha256 visibleInPortal downloadUrl }
    userErrors { field message code }
  }
}
"""
UPLOAD_MY_DOCUMENT = """
mutation U($input: UploadMyDocumentInput!) {
  uploadMyDocument(input: $input) {
    document { id name kind uploadedByCustomer visibleInPortal downloadUrl }
    userErrors { field message code }
  }
}
"""
UPLOAD_PHOTO = """
mutation U($input: UploadCarPhotoInput!) {
  uploadCarPhoto(input: $input) {
    photo { id caption position visibleInPortal contentType sizeBytes sha256 url }
    userErrors { field message code }
  }
}
"""
PORTAL_FILES = """
{ viewer { customer {
    documents(first: 20) { nodes { id name downloadUrl } }
    cars(first: 10) { nodes { id photos(first: 20) { nodes { id caption url } } } }
} } }
"""
STAFF_CAR_PHOTOS = """
query P($id: ID!) { node(id: $id) { ... on Car {
  photos(first: 20) { totalCount nodes { id caption position visibleInPortal url } } } } }
"""


@dataclass
class World:
    tenant: Tenant
    alex: str  # Global IDs
    alex_car: str
    blake: str
    blake_car: str
    stranger_car: str  # a car of another organization
    alex_token: str  # portal sessions
    robin_token: str  # Alex's contact
    blake_token: str
    preview_token: str  # staff previewing Alex's portal
    stranger_token: str  # a portal customer of another organization
    stranger_staff: str
    alex_id: uuid.UUID
    robin_id: uuid.UUID


@pytest.fixture
async def world(db: Database, tenant: Tenant, other_tenant: Tenant) -> World:
    org, other = tenant.organization_id, other_tenant.organization_id
    alex = Customer(organization_id=org, name="Alex Morgan", portal_status=PortalStatus.ACTIVE)
    blake = Customer(organization_id=org, name="Blake Other", portal_status=PortalStatus.ACTIVE)
    stranger = Customer(organization_id=other, name="Stranger")
    robin = Contact(
        organization_id=org,
        customer_id=alex.id,
        name="Robin",
        email=f"robin-{uuid.uuid4().hex[:6]}@contact.test",
        can_access_portal=True,
        portal_status=PortalStatus.ACTIVE,
    )
    cars = [
        Car(organization_id=org, customer_id=alex.id, make="Porsche", model="911"),
        Car(organization_id=org, customer_id=blake.id, make="BMW", model="M3"),
        Car(organization_id=other, customer_id=stranger.id, make="Fiat", model="500"),
    ]
    staff_id = await gql_staff_id(
        db, tenant.staff_token
    )  # the preview is started by a staff member
    async with db.write() as session:
        session.add_all([alex, blake, stranger])
        await session.flush()
        session.add_all([robin, *cars])
        await session.flush()
        tokens = []
        for kind, organization_id, customer_id, contact_id, staff in (
            (SessionKind.PORTAL, org, alex.id, None, None),
            (SessionKind.PORTAL, org, alex.id, robin.id, None),
            (SessionKind.PORTAL, org, blake.id, None, None),
            (SessionKind.PREVIEW, org, alex.id, None, staff_id),
            (SessionKind.PORTAL, other, stranger.id, None, None),
        ):
            issued = await start_session(
                session,
                kind=kind,
                organization_id=organization_id,
                customer_id=customer_id,
                contact_id=contact_id,
                staff_user_id=staff,
            )
            tokens.append(issued.token)
    return World(
        tenant,
        encode_id("Customer", alex.id),
        encode_id("Car", cars[0].id),
        encode_id("Customer", blake.id),
        encode_id("Car", cars[1].id),
        encode_id("Car", cars[2].id),
        *tokens,
        stranger_staff=other_tenant.staff_token,
        alex_id=alex.id,
        robin_id=robin.id,
    )


async def gql_staff_id(db: Database, token: str) -> uuid.UUID:
    reads = db.reader()
    try:
        viewer = await viewer_for_token(reads, token)
    finally:
        await reads.close()
    assert viewer.staff_user_id is not None
    return viewer.staff_user_id


def stored_files(db: Database) -> list[Path]:
    root = db.settings.storage_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _without_request_id(headers: httpx.Headers) -> dict[str, str]:
    """Every response has its own request id; everything else must be identical."""
    return {k: v for k, v in headers.items() if k != "x-request-id"}


async def upload(
    http: httpx.AsyncClient,
    token: str,
    query: str,
    input: dict[str, Any],
    content: bytes,
    *,
    filename: str = "file.pdf",
    content_type: str = "application/pdf",
    headers: dict[str, str] | None = None,
    auth: bool = True,
    path: str = "file",
) -> httpx.Response:
    """A request as the GraphQL multipart request spec lays it out: operations, map, file.
    `path` is where the file goes in the input ("file", or "attachments.0")."""
    placeholder: dict[str, Any] = {"file": None} if path == "file" else {}
    operations = {"query": query, "variables": {"input": {**input, **placeholder}}}
    form = {
        "operations": json.dumps(operations),
        "map": json.dumps({"0": [f"variables.input.{path}"]}),
    }
    return await http.post(
        "/graphql",
        data=form,
        files={"0": (filename, content, content_type)},
        headers={
            **({"Authorization": f"Bearer {token}"} if auth else {}),
            **(PREFLIGHT if headers is None else headers),
        },
    )


async def mutate(http: httpx.AsyncClient, *args: Any, **kwargs: Any) -> dict[str, Any]:
    response = await upload(http, *args, **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return next(iter(body["data"].values()))


def path_of(url: str) -> str:
    return urlsplit(url).path


@asynccontextmanager
async def app_with(db: Database, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the same database with other settings (limits, link lifetime)."""
    other = Database(dataclasses.replace(db.settings, **changes))
    app = create_app(db=other, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as c:
            yield c
    finally:
        await other.dispose()


async def staff_document(
    http: httpx.AsyncClient, world: World, *, shared: bool, name: str = "Storage agreement"
) -> dict[str, Any]:
    payload = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_DOCUMENT,
        {
            "customerId": world.alex,
            "carId": world.alex_car,
            "name": name,
            "kind": "STORAGE_AGREEMENT",
            "visibleInPortal": shared,
        },
        PDF_BYTES,
        filename="agreement.pdf",
    )
    assert payload["userErrors"] == []
    return payload["document"]


async def staff_photo(
    http: httpx.AsyncClient, world: World, caption: str, *, visible: bool = True
) -> dict[str, Any]:
    payload = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_PHOTO,
        {"carId": world.alex_car, "caption": caption, "visibleInPortal": visible},
        JPEG_BYTES,
        filename=f"{caption}.jpg",
        content_type="image/jpeg",
    )
    assert payload["userErrors"] == []
    return payload["photo"]


# --- uploads ----------------------------------------------------------------------------


async def test_an_upload_round_trips_byte_for_byte(
    world: World, http: httpx.AsyncClient, db: Database
):
    before = stored_files(db)
    document = await staff_document(http, world, shared=True)
    assert document["name"] == "Storage agreement"
    assert document["kind"] == "STORAGE_AGREEMENT"
    assert document["contentType"] == "application/pdf"
    assert document["sizeBytes"] == len(PDF_BYTES)
    assert document["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    added = sorted(set(stored_files(db)) - set(before))
    assert len(added) == 1 and added[0].read_bytes() == PDF_BYTES
    # The key is Portico's own: the organization, the purpose, a random name.
    relative = added[0].relative_to(db.settings.storage_dir.resolve()).as_posix()
    assert relative.startswith(f"{world.tenant.organization_id}/documents/")
    assert "agreement" not in relative

    response = await http.get(path_of(document["downloadUrl"]))
    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert hashlib.sha256(response.content).hexdigest() == document["sha256"]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(PDF_BYTES))
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="Storage agreement.pdf"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_apollo_preflight_header_works_too_and_names_default_to_the_file(
    world: World, http: httpx.AsyncClient
):
    payload = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_DOCUMENT,
        {"customerId": world.alex},
        PNG_BYTES,
        filename="../../Insurance card é.png",
        content_type="application/octet-stream",  # the bytes decide, not the claim
        headers={"Apollo-Require-Preflight": "true"},
    )
    assert payload["userErrors"] == []
    document = payload["document"]
    assert document["name"] == "Insurance card é.png"
    assert document["contentType"] == "image/png"
    response = await http.get(path_of(document["downloadUrl"]))
    assert response.content == PNG_BYTES
    assert response.headers["content-disposition"] == (
        'attachment; filename="Insurance card _.png"; '
        "filename*=UTF-8''Insurance%20card%20%C3%A9.png"
    )


async def test_a_multipart_request_without_the_preflight_header_is_refused(
    world: World, http: httpx.AsyncClient, db: Database
):
    before = stored_files(db)
    response = await upload(
        http,
        world.tenant.staff_token,
        UPLOAD_DOCUMENT,
        {"customerId": world.alex},
        PDF_BYTES,
        headers={},
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["UPLOAD_HEADER_REQUIRED"]
    assert "X-Portico-Upload" in response.json()["errors"][0]["message"]
    # Nor does a session cookie make a multipart request count: only the bearer token does.
    cookie = sign_session_token(db.settings, world.tenant.staff_token)
    http.cookies.set(COOKIE_NAME, cookie, domain="portico.test")
    try:
        json_post = await http.post("/graphql", json={"query": "{ viewer { kind } }"})
        assert json_post.json()["data"]["viewer"]["kind"] == "STAFF"  # the cookie is sent
        with_cookie = await upload(
            http, "", UPLOAD_DOCUMENT, {"customerId": world.alex}, PDF_BYTES, auth=False
        )
    finally:
        http.cookies.clear()
    assert error_codes(with_cookie.json()) == ["UNAUTHENTICATED"]  # the cookie did not count
    assert stored_files(db) == before
    count = await _count(db, "documents", world.alex_id)
    assert count == 0


async def _count(db: Database, table: str, customer_id: uuid.UUID) -> int:
    async with db.connect() as conn:
        t = sa.table(table, sa.column("customer_id", sa.Uuid()))
        stmt = sa.select(sa.func.count()).select_from(t).where(t.c.customer_id == customer_id)
        return (await conn.execute(stmt)).scalar_one()


async def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(world: World, db: Database):
    before = stored_files(db)
    async with app_with(db, max_upload_bytes=1000) as client:
        response = await upload(
            client,
            world.tenant.staff_token,
            UPLOAD_DOCUMENT,
            {"customerId": world.alex},
            b"%PDF-1.4\n" + b"x" * 1000,
        )
        payload = response.json()["data"]["uploadDocument"]
        assert payload["document"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "file"], "TOO_LARGE")
        ]
        assert payload["userErrors"][0]["message"] == "The file is larger than 1000 bytes."
        # A body far over the limit is refused before it is read.
        huge = await upload(
            client,
            world.tenant.staff_token,
            UPLOAD_DOCUMENT,
            {"customerId": world.alex},
            b"%PDF-1.4\n" + b"x" * (1000 + ENVELOPE_BYTES),
        )
        assert huge.status_code == 413
        assert error_codes(huge.json()) == ["TOO_LARGE"]
        exact = await mutate(
            client,
            world.tenant.staff_token,
            UPLOAD_DOCUMENT,
            {"customerId": world.alex},
            b"%PDF-1.4\n" + b"x" * 991,
        )
        assert exact["userErrors"] == [] and exact["document"]["sizeBytes"] == 1000
    assert len(stored_files(db)) == len(before) + 1


async def test_a_file_of_the_wrong_type_is_refused_whatever_it_claims(
    world: World, http: httpx.AsyncClient, db: Database
):
    before = stored_files(db)
    executable = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_DOCUMENT,
        {"customerId": world.alex, "name": "Policy"},
        EXE_BYTES,
        filename="policy.pdf",
        content_type="application/pdf",
    )
    assert executable["document"] is None
    assert [(e["field"], e["code"]) for e in executable["userErrors"]] == [
        (["input", "file"], "UNSUPPORTED_TYPE")
    ]
    pdf_as_photo = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_PHOTO,
        {"carId": world.alex_car},
        PDF_BYTES,
        filename="photo.jpg",
        content_type="image/jpeg",
    )
    assert [e["code"] for e in pdf_as_photo["userErrors"]] == ["UNSUPPORTED_TYPE"]
    empty = await mutate(
        http, world.tenant.staff_token, UPLOAD_DOCUMENT, {"customerId": world.alex}, b""
    )
    assert [e["code"] for e in empty["userErrors"]] == ["REQUIRED"]
    assert stored_files(db) == before


async def test_a_file_sent_without_multipart_is_refused(world: World, gql: GraphQLClient):
    result = await gql(
        UPLOAD_DOCUMENT,
        {"input": {"customerId": world.alex, "file": "%PDF-1.4 not a file part"}},
        token=world.tenant.staff_token,
    )
    payload = result["data"]["uploadDocument"]
    assert [e["code"] for e in payload["userErrors"]] == ["REQUIRED"]


async def test_uploads_to_what_is_not_yours_are_not_found_and_store_nothing(
    world: World, http: httpx.AsyncClient, db: Database
):
    before = stored_files(db)
    cases = [
        (world.stranger_staff, UPLOAD_DOCUMENT, {"customerId": world.alex}),
        (world.stranger_staff, UPLOAD_PHOTO, {"carId": world.alex_car}),
        (world.tenant.staff_token, UPLOAD_PHOTO, {"carId": world.stranger_car}),
        (
            world.tenant.staff_token,
            UPLOAD_DOCUMENT,
            {"customerId": world.alex, "carId": world.stranger_car},
        ),
    ]
    for (token, query, input), field in zip(
        cases, ["customerId", "carId", "carId", "carId"], strict=True
    ):
        response = await upload(http, token, query, input, JPEG_BYTES, content_type="image/jpeg")
        not_found_at(response.json(), field)
    # A car of another customer of the same business is a mistake the form can show.
    wrong_car = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_DOCUMENT,
        {"customerId": world.alex, "carId": world.blake_car},
        PDF_BYTES,
    )
    assert [e["code"] for e in wrong_car["userErrors"]] == ["INVALID"]
    # Portal viewers cannot use the staff mutations at all.
    portal = await upload(
        http, world.alex_token, UPLOAD_PHOTO, {"carId": world.alex_car}, JPEG_BYTES
    )
    assert error_codes(portal.json()) == ["FORBIDDEN"]
    assert stored_files(db) == before


# --- signed links -----------------------------------------------------------------------


async def test_tampered_and_expired_links_are_404(
    world: World, http: httpx.AsyncClient, db: Database
):
    document = await staff_document(http, world, shared=True)
    made_up = await http.get(f"/downloads/{MADE_UP}")
    token = document["downloadUrl"].rsplit("/", 1)[1]
    payload, timestamp, signature = token.rsplit(".", 2)
    flipped = "A" if signature[0] != "A" else "B"
    for bad in (f"{payload}.{timestamp}.{flipped}{signature[1:]}", token[:-1], f"{payload}.x"):
        response = await http.get(f"/downloads/{bad}")
        assert response.status_code == 404
        assert response.content == made_up.content
    async with app_with(db, download_url_seconds=1) as client:
        data = await GraphQLClient(client).data(
            "query D($id: ID!) { node(id: $id) { ... on Document { downloadUrl } } }",
            {"id": document["id"]},
            token=world.tenant.staff_token,
        )
        link = path_of(data["node"]["downloadUrl"])
        assert (await client.get(link)).status_code == 200
        import asyncio

        await asyncio.sleep(2.1)
        expired = await client.get(link)
        assert expired.status_code == 404
        assert expired.content == made_up.content


async def test_another_customers_or_organizations_file_is_the_same_404(
    world: World, http: httpx.AsyncClient, db: Database
):
    shared = await staff_document(http, world, shared=True)
    internal = await staff_document(http, world, shared=False, name="Internal notes")
    hidden = await staff_photo(http, world, "Scratch", visible=False)
    visible = await staff_photo(http, world, "Front")
    made_up = await http.get(f"/downloads/{MADE_UP}")
    shared_id, internal_id = decode_id(shared["id"])[1], decode_id(internal["id"])[1]
    hidden_id, visible_id = decode_id(hidden["id"])[1], decode_id(visible["id"])[1]
    cases = [
        (world.blake_token, DOCUMENT, shared_id),  # another customer, same business
        (world.blake_token, CAR_PHOTO, visible_id),
        (world.stranger_token, DOCUMENT, shared_id),  # another business's customer
        (world.stranger_staff, DOCUMENT, shared_id),  # another business's staff
        (world.stranger_staff, CAR_PHOTO, visible_id),
        (world.alex_token, DOCUMENT, internal_id),  # internal: never in the portal
        (world.alex_token, CAR_PHOTO, hidden_id),  # hidden from the portal
        (world.tenant.staff_token, DOCUMENT, uuid.uuid4()),  # nothing at all
        (world.tenant.staff_token, DOCUMENT, visible_id),  # a photo's id as a document
    ]
    for token, kind, row_id in cases:
        reads = db.reader()
        try:
            viewer = await viewer_for_token(reads, token)
        finally:
            await reads.close()
        response = await http.get(path_of(download_url(db.settings, viewer, kind, row_id)))
        assert response.status_code == 404, (kind, row_id)
        assert response.content == made_up.content
        assert _without_request_id(response.headers) == _without_request_id(made_up.headers)
    # The owner's own viewers get the files.
    for token, kind, row_id in (
        (world.alex_token, DOCUMENT, shared_id),
        (world.robin_token, CAR_PHOTO, visible_id),
        (world.tenant.staff_token, DOCUMENT, internal_id),
        (world.tenant.staff_token, CAR_PHOTO, hidden_id),
    ):
        reads = db.reader()
        try:
            viewer = await viewer_for_token(reads, token)
        finally:
            await reads.close()
        response = await http.get(path_of(download_url(db.settings, viewer, kind, row_id)))
        assert response.status_code == 200, (kind, row_id)


# --- documents and photos in the portal -------------------------------------------------


async def test_portal_viewers_see_shared_documents_and_visible_photos_only(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient
):
    shared = await staff_document(http, world, shared=True)
    internal = await staff_document(http, world, shared=False, name="Internal notes")
    await staff_photo(http, world, "Front")
    await staff_photo(http, world, "Scratch", visible=False)
    await staff_photo(http, world, "Back")
    for token in (world.alex_token, world.robin_token, world.preview_token):
        data = await gql.data(PORTAL_FILES, token=token)
        customer = data["viewer"]["customer"]
        assert [d["id"] for d in customer["documents"]["nodes"]] == [shared["id"]]
        photos = customer["cars"]["nodes"][0]["photos"]["nodes"]
        assert [p["caption"] for p in photos] == ["Front", "Back"]
        for photo in photos:
            response = await http.get(path_of(photo["url"]))
            assert response.status_code == 200 and response.content == JPEG_BYTES
            assert response.headers["content-type"] == "image/jpeg"
            assert response.headers["content-disposition"].startswith("inline;")
            assert response.headers["x-content-type-options"] == "nosniff"
        hidden = await gql(
            "query N($id: ID!) { node(id: $id) { id } }", {"id": internal["id"]}, token=token
        )
        assert error_codes(hidden) == ["NOT_FOUND"]
    blake = await gql.data(PORTAL_FILES, token=world.blake_token)
    assert blake["viewer"]["customer"]["documents"]["nodes"] == []
    # Staff see everything, in gallery order.
    staff = await gql.data(STAFF_CAR_PHOTOS, {"id": world.alex_car}, token=world.tenant.staff_token)
    assert [p["caption"] for p in staff["node"]["photos"]["nodes"]] == ["Front", "Scratch", "Back"]
    assert [p["position"] for p in staff["node"]["photos"]["nodes"]] == [0, 1, 2]


async def test_staff_reorder_edit_and_delete_photos(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient, db: Database
):
    photos = [await staff_photo(http, world, caption) for caption in ("A", "B", "C", "D")]
    assert [p["position"] for p in photos] == [0, 1, 2, 3]
    update = """mutation U($input: UpdateCarPhotoInput!) { updateCarPhoto(input: $input) {
      photo { id caption position visibleInPortal } userErrors { field code } } }"""
    moved = await gql.data(
        update,
        {"input": {"id": photos[3]["id"], "position": 0, "caption": "D first"}},
        token=world.tenant.staff_token,
    )
    assert moved["updateCarPhoto"]["photo"]["position"] == 0
    negative = await gql.data(
        update, {"input": {"id": photos[0]["id"], "position": -1}}, token=world.tenant.staff_token
    )
    assert [e["code"] for e in negative["updateCarPhoto"]["userErrors"]] == ["INVALID"]
    hide = await gql.data(
        update,
        {"input": {"id": photos[1]["id"], "visibleInPortal": False, "position": 99}},
        token=world.tenant.staff_token,
    )
    assert hide["updateCarPhoto"]["photo"]["visibleInPortal"] is False
    gallery = await gql.data(
        STAFF_CAR_PHOTOS, {"id": world.alex_car}, token=world.tenant.staff_token
    )
    nodes = gallery["node"]["photos"]["nodes"]
    assert [p["caption"] for p in nodes] == ["D first", "A", "C", "B"]
    assert [p["position"] for p in nodes] == [0, 1, 2, 3]

    before = stored_files(db)
    delete = """mutation D($input: DeleteCarPhotoInput!) { deleteCarPhoto(input: $input) {
      deletedId car { photos(first: 10) { nodes { caption position } } } userErrors { code } } }"""
    deleted = await gql.data(
        delete, {"input": {"id": photos[0]["id"]}}, token=world.tenant.staff_token
    )
    assert deleted["deleteCarPhoto"]["deletedId"] == photos[0]["id"]
    remaining = deleted["deleteCarPhoto"]["car"]["photos"]["nodes"]
    assert [(p["caption"], p["position"]) for p in remaining] == [
        ("D first", 0),
        ("C", 1),
        ("B", 2),
    ]
    assert len(stored_files(db)) == len(before) - 1
    gone = await http.get(path_of(photos[0]["url"]))
    assert gone.status_code == 404
    again = await gql(delete, {"input": {"id": photos[0]["id"]}}, token=world.tenant.staff_token)
    not_found_at(again, "id")
    foreign = await gql(delete, {"input": {"id": photos[1]["id"]}}, token=world.stranger_staff)
    not_found_at(foreign, "id")


async def test_a_photo_belongs_to_a_condition_report_of_its_own_car(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient, db: Database
):
    from models import ConditionReport
    from models.types import utcnow

    car_id = decode_id(world.alex_car)[1]
    blake_car_id = decode_id(world.blake_car)[1]
    own = ConditionReport(
        organization_id=world.tenant.organization_id, car_id=car_id, inspected_at=utcnow()
    )
    other = ConditionReport(
        organization_id=world.tenant.organization_id, car_id=blake_car_id, inspected_at=utcnow()
    )
    async with db.write() as session:
        session.add_all([own, other])
    wrong = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_PHOTO,
        {"carId": world.alex_car, "conditionReportId": encode_id("ConditionReport", other.id)},
        JPEG_BYTES,
    )
    assert [e["code"] for e in wrong["userErrors"]] == ["INVALID"]
    right = await mutate(
        http,
        world.tenant.staff_token,
        UPLOAD_PHOTO,
        {
            "carId": world.alex_car,
            "conditionReportId": encode_id("ConditionReport", own.id),
            "caption": "Dent",
            "takenAt": "2025-05-01T10:00:00Z",
        },
        JPEG_BYTES,
    )
    assert right["userErrors"] == []
    report = await gql.data(
        """query R($id: ID!) { node(id: $id) { ... on ConditionReport {
            photos(first: 5) { nodes { caption takenAt conditionReport { id } } } } } }""",
        {"id": encode_id("ConditionReport", own.id)},
        token=world.tenant.staff_token,
    )
    [photo] = report["node"]["photos"]["nodes"]
    assert photo["caption"] == "Dent" and photo["takenAt"].startswith("2025-05-01T10:00:00")


async def test_staff_edit_and_archive_documents(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient
):
    document = await staff_document(http, world, shared=False)
    update = """mutation U($input: UpdateDocumentInput!) { updateDocument(input: $input) {
      document { name kind visibleInPortal } userErrors { field code } } }"""
    changed = await gql.data(
        update,
        {
            "input": {
                "id": document["id"],
                "name": "Waiver",
                "kind": "LIABILITY_WAIVER",
                "visibleInPortal": True,
            }
        },
        token=world.tenant.staff_token,
    )
    assert changed["updateDocument"]["document"] == {
        "name": "Waiver",
        "kind": "LIABILITY_WAIVER",
        "visibleInPortal": True,
    }
    blank = await gql.data(
        update, {"input": {"id": document["id"], "name": " "}}, token=world.tenant.staff_token
    )
    assert blank["updateDocument"]["userErrors"] == [
        {"field": ["input", "name"], "code": "REQUIRED"}
    ]
    portal = await gql.data(PORTAL_FILES, token=world.alex_token)
    assert [d["name"] for d in portal["viewer"]["customer"]["documents"]["nodes"]] == ["Waiver"]
    archive = """mutation A($input: ArchiveInput!) { archiveDocument(input: $input) {
      document { archivedAt } userErrors { code } } }"""
    archived = await gql.data(
        archive, {"input": {"id": document["id"]}}, token=world.tenant.staff_token
    )
    assert archived["archiveDocument"]["document"]["archivedAt"] is not None
    portal = await gql.data(PORTAL_FILES, token=world.alex_token)
    assert portal["viewer"]["customer"]["documents"]["nodes"] == []
    foreign = await gql(
        update, {"input": {"id": document["id"], "name": "x"}}, token=world.stranger_staff
    )
    not_found_at(foreign, "id")


# --- the portal's own uploads -----------------------------------------------------------

SETTINGS = """mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { code } } }"""


async def test_portal_uploads_only_where_the_business_allows_them(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient, db: Database
):
    before = stored_files(db)
    card = {"kind": "INSURANCE_CARD", "name": "Insurance card 2025"}
    refused = await mutate(http, world.robin_token, UPLOAD_MY_DOCUMENT, card, PNG_BYTES)
    assert refused["document"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(None, "UPLOADS_DISABLED")]
    assert stored_files(db) == before

    await gql.data(
        SETTINGS, {"input": {"allowDocumentUploads": True}}, token=world.tenant.owner_token
    )
    settings = await gql.data(
        "{ organization { portalSettings { allowDocumentUploads } } }",
        token=world.tenant.owner_token,
    )
    assert settings["organization"]["portalSettings"]["allowDocumentUploads"] is True

    preview = await upload(http, world.preview_token, UPLOAD_MY_DOCUMENT, card, PNG_BYTES)
    assert error_codes(preview.json()) == ["PREVIEW_READ_ONLY"]
    staff = await upload(http, world.tenant.staff_token, UPLOAD_MY_DOCUMENT, card, PNG_BYTES)
    assert error_codes(staff.json()) == ["FORBIDDEN"]  # a portal mutation
    wrong_kind = await mutate(
        http, world.robin_token, UPLOAD_MY_DOCUMENT, {"kind": "STORAGE_AGREEMENT"}, PNG_BYTES
    )
    assert [e["code"] for e in wrong_kind["userErrors"]] == ["INVALID"]
    not_theirs = await upload(
        http, world.robin_token, UPLOAD_MY_DOCUMENT, {**card, "carId": world.blake_car}, PNG_BYTES
    )
    not_found_at(not_theirs.json(), "carId")
    wrong_type = await mutate(http, world.robin_token, UPLOAD_MY_DOCUMENT, card, EXE_BYTES)
    assert [e["code"] for e in wrong_type["userErrors"]] == ["UNSUPPORTED_TYPE"]
    assert stored_files(db) == before

    uploaded = await mutate(
        http, world.robin_token, UPLOAD_MY_DOCUMENT, {**card, "carId": world.alex_car}, PNG_BYTES
    )
    assert uploaded["userErrors"] == []
    document = uploaded["document"]
    assert document["uploadedByCustomer"] is True and document["visibleInPortal"] is True
    assert (await http.get(path_of(document["downloadUrl"]))).content == PNG_BYTES
    for token in (world.alex_token, world.robin_token):
        data = await gql.data(PORTAL_FILES, token=token)
        names = [d["name"] for d in data["viewer"]["customer"]["documents"]["nodes"]]
        assert names == ["Insurance card 2025"]
    blake = await gql.data(PORTAL_FILES, token=world.blake_token)
    assert blake["viewer"]["customer"]["documents"]["nodes"] == []
    staff_view = await gql.data(
        "query N($id: ID!) { node(id: $id) { ... on Document { name uploadedByCustomer } } }",
        {"id": document["id"]},
        token=world.tenant.staff_token,
    )
    assert staff_view["node"] == {"name": "Insurance card 2025", "uploadedByCustomer": True}


# --- the access log ---------------------------------------------------------------------


async def access_rows(db: Database, customer_id: uuid.UUID) -> list[tuple[Any, ...]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(
                AccessLog.subject_type,
                AccessLog.subject_id,
                AccessLog.action,
                AccessLog.contact_id,
                AccessLog.ip,
                AccessLog.user_agent,
            )
            .where(AccessLog.customer_id == customer_id)
            .order_by(AccessLog.created_at, AccessLog.action)
        )
        return [tuple(row) for row in rows]


async def test_portal_views_and_downloads_are_logged_staff_and_previews_are_not(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient, db: Database
):
    document = await staff_document(http, world, shared=True)
    doc_id = decode_id(document["id"])[1]
    # Staff asked for a link (the upload payload) and now download: nothing is logged.
    assert (await http.get(path_of(document["downloadUrl"]))).status_code == 200
    for token in (world.tenant.staff_token, world.preview_token):
        data = await gql.data(
            PORTAL_FILES
            if token == world.preview_token
            else """
          query N($id: ID!) { node(id: $id) { ... on Document { downloadUrl } } }""",
            {} if token == world.preview_token else {"id": document["id"]},
            token=token,
        )
        url = (
            data["viewer"]["customer"]["documents"]["nodes"][0]["downloadUrl"]
            if token == world.preview_token
            else data["node"]["downloadUrl"]
        )
        assert (await http.get(path_of(url))).status_code == 200
    assert await access_rows(db, world.alex_id) == []

    # Robin (Alex's contact) sees the list twice in one request: one VIEW.
    twice = """{ viewer { customer {
        a: documents(first: 5) { nodes { downloadUrl } }
        b: documents(first: 5) { nodes { downloadUrl } } } } }"""
    data = await gql.data(twice, token=world.robin_token)
    url = data["viewer"]["customer"]["a"]["nodes"][0]["downloadUrl"]
    response = await http.get(path_of(url), headers={"User-Agent": "Robin's phone"})
    assert response.content == PDF_BYTES
    rows = await access_rows(db, world.alex_id)
    assert [row[:4] for row in rows] == [
        ("Document", doc_id, "VIEW", world.robin_id),
        ("Document", doc_id, "DOWNLOAD", world.robin_id),
    ]
    assert rows[1][4] == "127.0.0.1" and rows[1][5] == "Robin's phone"

    # Alex's invoice PDF: a VIEW for the link, a DOWNLOAD for the file.
    invoice = Invoice(
        organization_id=world.tenant.organization_id,
        customer_id=world.alex_id,
        number=7001,
        status=InvoiceStatus.OPEN,
        currency="USD",
        issue_date=date(2025, 5, 1),
    )
    async with db.write() as session:
        session.add(invoice)
    invoices = await gql.data(
        "{ viewer { customer { invoices(first: 5) { nodes { pdfUrl } } } } }",
        token=world.alex_token,
    )
    pdf = invoices["viewer"]["customer"]["invoices"]["nodes"][0]["pdfUrl"]
    assert (await http.get(path_of(pdf))).status_code == 200
    rows = await access_rows(db, world.alex_id)
    assert [row[:4] for row in rows[2:]] == [
        ("Invoice", invoice.id, "VIEW", None),
        ("Invoice", invoice.id, "DOWNLOAD", None),
    ]

    # Staff read the log per document and per customer; portal viewers cannot.
    log_query = """query L($doc: ID!, $customer: ID!) {
      doc: node(id: $doc) { ... on Document { accessLog(first: 10) { totalCount
        nodes { action subjectType subjectId ip userAgent contact { name } customer { name } } } } }
      customer: node(id: $customer) { ... on Customer { accessLog(first: 10) {
        nodes { action subjectType } } } } }"""
    staff_log = await gql.data(
        log_query, {"doc": document["id"], "customer": world.alex}, token=world.tenant.staff_token
    )
    doc_log = staff_log["doc"]["accessLog"]
    assert doc_log["totalCount"] == 2
    assert {n["action"] for n in doc_log["nodes"]} == {"VIEW", "DOWNLOAD"}
    assert {n["subjectId"] for n in doc_log["nodes"]} == {document["id"]}
    assert {n["contact"]["name"] for n in doc_log["nodes"]} == {"Robin"}
    assert {n["customer"]["name"] for n in doc_log["nodes"]} == {"Alex Morgan"}
    customer_log = staff_log["customer"]["accessLog"]["nodes"]
    assert sorted((n["subjectType"], n["action"]) for n in customer_log) == [
        ("Document", "DOWNLOAD"),
        ("Document", "VIEW"),
        ("Invoice", "DOWNLOAD"),
        ("Invoice", "VIEW"),
    ]
    portal = await gql(
        "query N($id: ID!) { node(id: $id) { ... on Document { accessLog { totalCount } } } }",
        {"id": document["id"]},
        token=world.alex_token,
    )
    assert error_codes(portal) == ["FORBIDDEN"]


async def test_photo_and_document_lists_cost_the_same_statements_whatever_their_size(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient, count_statements: Any
):
    query = """{ customers(first: 10) { nodes { cars(first: 5) { nodes {
        photos(first: 10) { nodes { caption url car { make } } } } }
        documents(first: 10) { nodes { name downloadUrl accessLog(first: 3) { totalCount } } }
    } } }"""

    async def statements() -> int:
        count_statements.statements.clear()
        await gql.data(query, token=world.tenant.staff_token)
        return count_statements.count

    await staff_photo(http, world, "One")
    await staff_document(http, world, shared=True)
    await statements()  # on PostgreSQL the first answer plans it; the repeats are prepared
    few = await statements()
    for caption in ("Two", "Three", "Four"):
        await staff_photo(http, world, caption)
    await staff_document(http, world, shared=False)
    await staff_document(http, world, shared=True)
    assert await statements() == few


async def test_a_download_link_dies_when_the_file_stops_being_shown(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient
):
    """A link is a bearer URL for a few minutes; taking the file out of the portal (or
    hiding the photo) ends it at once, as ending the session does."""
    document = await staff_document(http, world, shared=True)
    await staff_photo(http, world, "Front")
    data = await gql.data(PORTAL_FILES, token=world.alex_token)
    [shown] = data["viewer"]["customer"]["documents"]["nodes"]
    [photo] = data["viewer"]["customer"]["cars"]["nodes"][0]["photos"]["nodes"]
    assert (await http.get(path_of(shown["downloadUrl"]))).status_code == 200
    assert (await http.get(path_of(photo["url"]))).status_code == 200
    hide_document = """mutation U($input: UpdateDocumentInput!) {
      updateDocument(input: $input) { userErrors { code } } }"""
    await gql.data(
        hide_document,
        {"input": {"id": document["id"], "visibleInPortal": False}},
        token=world.tenant.staff_token,
    )
    hide_photo = """mutation U($input: UpdateCarPhotoInput!) {
      updateCarPhoto(input: $input) { userErrors { code } } }"""
    await gql.data(
        hide_photo,
        {"input": {"id": photo["id"], "visibleInPortal": False}},
        token=world.tenant.staff_token,
    )
    forged = await http.get("/downloads/not-a-token")
    for url in (shown["downloadUrl"], photo["url"]):
        gone = await http.get(path_of(url))
        assert gone.status_code == 404 and gone.content == forged.content


async def test_access_rows_are_written_off_the_request_path_and_kept_through_shutdown(
    world: World,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    db: Database,
    app: Any,
    count_statements,
    monkeypatch: pytest.MonkeyPatch,
):
    """With the app's lifespan running, a request hands its access rows to the writer and
    answers without writing them; the writer's last batch, when the app stops, has them."""
    document = await staff_document(http, world, shared=True)
    doc_id = decode_id(document["id"])[1]
    monkeypatch.setattr(AccessLogBuffer, "FLUSH_SECONDS", 3600.0)  # only the stop writes
    async with app.router.lifespan_context(app):
        count_statements.statements.clear()
        files = await gql.data(PORTAL_FILES, token=world.robin_token)
        assert files["viewer"]["customer"]["documents"]["nodes"][0]["downloadUrl"]
        inserts = [s for s in count_statements.statements if "INSERT INTO access_logs" in s]
        assert inserts == []  # not on the request path
        assert await access_rows(db, world.alex_id) == []
    rows = await access_rows(db, world.alex_id)
    assert [row[:4] for row in rows] == [("Document", doc_id, "VIEW", world.robin_id)]
