"""Documents: staff upload and edit them; portal viewers upload their own papers where the
organization allows it. The file is stored first and deleted again if its row is not
written, so a refused upload leaves nothing behind."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from strawberry import UNSET, Info

from auth.access import require_write, row_scope
from core.errors import NotFound
from core.ids import decode_id_of
from models import Car, Customer, Document, PortalSettings
from models.enums import DocumentKind, PortalScope
from models.writes import apply, visible_for_update
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rows import locked
from resolvers.uploads import Purpose, kept, receive_file
from resolvers.validation import Checks, Problem, changes, given
from storage import storage_from_settings

# What a customer may upload about themselves; the business's own papers come from staff.
PORTAL_KINDS = frozenset(
    {DocumentKind.INSURANCE_CARD, DocumentKind.REGISTRATION, DocumentKind.PHOTO, DocumentKind.OTHER}
)
UPLOADS_DISABLED = Problem(
    None,  # type: ignore[arg-type]  # about the organization, not one input field
    "This business does not take uploads in the portal.",
    "UPLOADS_DISABLED",
)


async def _receive(info: Info, upload: Any) -> Any:
    _, received = await receive_file(info.context, upload, Purpose.DOCUMENT, "documents")
    return received


def _document_values(checks: Checks, data: Any) -> dict[str, Any]:
    return changes(
        name=checks.text("name", data.name, 255, required=not checks.creating),
        kind=given(data.kind),
        visible_in_portal=given(getattr(data, "visible_in_portal", UNSET)),
    )


@mutation_outcome
async def upload_document(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = _document_values(checks, data)
    customer_id = decode_id_of("Customer", data.customer_id)
    car_id = decode_id_of("Car", data.car_id) if data.car_id else None
    checks.done()
    ctx = info.context
    viewer = ctx.viewer
    received = await _receive(info, data.file)
    async with kept(storage_from_settings(ctx.settings), received), ctx.write() as session:
        await locked(session, Customer, viewer.organization_id, customer_id)
        if car_id is not None:
            car = await locked(session, Car, viewer.organization_id, car_id)
            if car.customer_id != customer_id:
                raise Rejected(Problem("carId", "This car is not the customer's.", "INVALID"))
        document = Document(
            organization_id=viewer.organization_id,
            customer_id=customer_id,
            car_id=car_id,
            name=values.pop("name", None) or received.filename,
            uploaded_by_staff_id=viewer.staff_user_id,
            **_file_columns(received),
            **values,
        )
        session.add(document)
    return document.id


@mutation_outcome
async def update_document(info: Info, data: Any) -> uuid.UUID:
    row_id = decode_id_of("Document", data.id)
    checks = Checks(creating=False)
    values = _document_values(checks, data)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        document = await locked(session, Document, ctx.viewer.organization_id, row_id)
        apply(document, values)
    return row_id


@mutation_outcome
async def upload_my_document(info: Info, data: Any) -> uuid.UUID:
    """A portal viewer's own paper: visible to them and to staff."""
    ctx = info.context
    viewer = ctx.viewer
    require_write(viewer, "documents")
    checks = Checks(creating=True)
    name = checks.text("name", data.name, 255)
    if data.kind not in PORTAL_KINDS:
        checks.fail("kind", "Upload an insurance card, a registration, a photo or another paper.")
    car_id = decode_id_of("Car", data.car_id) if data.car_id else None
    if car_id is None and viewer.scope is PortalScope.CARS:
        checks.fail("carId", "Choose the car this document is about.", "REQUIRED")
    checks.done()
    if not await _uploads_allowed(info):
        raise Rejected(UPLOADS_DISABLED)
    received = await _receive(info, data.file)
    async with kept(storage_from_settings(ctx.settings), received), ctx.write() as session:
        if car_id is not None and not await visible_for_update(
            session, Car, row_scope(viewer), [car_id]
        ):
            raise NotFound(row=("Car", car_id))
        document = Document(
            organization_id=viewer.organization_id,
            customer_id=viewer.customer_id,
            car_id=car_id,
            name=name or received.filename,
            kind=data.kind,
            visible_in_portal=True,
            uploaded_by_customer=True,
            uploaded_by_contact_id=viewer.contact_id,
            **_file_columns(received),
        )
        session.add(document)
    return document.id


async def _uploads_allowed(info: Info) -> bool:
    ctx = info.context
    stmt = sa.select(PortalSettings.allow_document_uploads).where(
        PortalSettings.organization_id == ctx.viewer.organization_id
    )
    rows = await ctx.reader.rows(stmt)
    return bool(rows) and bool(rows[0]["allow_document_uploads"])


def _file_columns(received: Any) -> dict[str, Any]:
    """A document has no filename column: its name is its title."""
    columns = received.columns()
    del columns["filename"]
    return columns
