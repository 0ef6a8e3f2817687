"""Documents: staff upload and edit them; portal viewers upload their own papers where the
organization allows it. The file is stored first and deleted again if its row is not
written, so a refused upload leaves nothing behind."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_write, row_scope
from auth.viewer import Viewer
from core.errors import NotFound
from domain.documents.codes import DocumentCode
from domain.edits import KEEP, Edit, changes
from domain.problems import Common, Problem, Rejected
from domain.rows import customer_of, locked, organization_of
from domain.uploads.received import Purpose, Received, kept, receive_file
from domain.work import Actor, Work
from models import Car, Customer, Document, PortalSettings
from models.enums import DocumentKind, PortalScope
from models.writes import apply, visible_for_update

# What a customer may upload about themselves; the business's own papers come from staff.
PORTAL_KINDS = frozenset(
    {DocumentKind.INSURANCE_CARD, DocumentKind.REGISTRATION, DocumentKind.PHOTO, DocumentKind.OTHER}
)
UPLOADS_DISABLED = Problem(
    None,  # about the organization, not one input field
    "This business does not take uploads in the portal.",
    DocumentCode.UPLOADS_DISABLED,
)


@dataclass(frozen=True)
class DocumentDetails:
    """What staff say of a document; KEEP leaves a field as it is (a new document without
    a name is named after its file)."""

    name: Edit[str | None] = KEEP
    kind: Edit[DocumentKind] = KEEP
    visible_in_portal: Edit[bool] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(name=self.name, kind=self.kind, visible_in_portal=self.visible_in_portal)


def _file_columns(received: Received) -> dict[str, Any]:
    """A document has no filename column: its name is its title."""
    columns = received.columns()
    del columns["filename"]
    return columns


async def upload_document(
    work: Work,
    customer_id: uuid.UUID,
    car_id: uuid.UUID | None,
    file: object,
    details: DocumentDetails,
) -> uuid.UUID:
    """A document with its file for a customer, and one of the customer's cars if named."""
    org_id = organization_of(work)
    storage, received = await receive_file(work, file, Purpose.DOCUMENT, "documents")
    async with kept(storage, received), work.write() as session:
        await locked(session, Customer, org_id, customer_id)
        if car_id is not None:
            car = await locked(session, Car, org_id, car_id)
            if car.customer_id != customer_id:
                message = "This car is not the customer's."
                raise Rejected(Problem("carId", message, Common.INVALID))
        values = details.values()
        document = Document(
            organization_id=org_id,
            customer_id=customer_id,
            car_id=car_id,
            name=values.pop("name", None) or received.filename,
            uploaded_by_staff_id=work.viewer.staff_user_id,
            **_file_columns(received),
            **values,
        )
        session.add(document)
    return document.id


async def update_document(
    work: Work, document_id: uuid.UUID, details: DocumentDetails
) -> uuid.UUID:
    async with work.write() as session:
        document = await locked(session, Document, work.viewer.organization_id, document_id)
        apply(document, details.values())
    return document_id


def may_upload_my_document(actor: Actor) -> None:
    """The portal's gate for a viewer's own papers: SECTION_DISABLED where the documents
    section is closed to them, before anything of the input is looked at."""
    require_write(actor.viewer, "documents")


def my_document_problems(
    viewer: Viewer, kind: DocumentKind, car_id: uuid.UUID | None
) -> list[Problem]:
    """What a portal viewer may upload: papers of their own, about one of their cars when
    their access covers only cars."""
    problems = []
    if kind not in PORTAL_KINDS:
        message = "Upload an insurance card, a registration, a photo or another paper."
        problems.append(Problem("kind", message))
    if car_id is None and viewer.scope is PortalScope.CARS:
        problems.append(Problem("carId", "Choose the car this document is about.", Common.REQUIRED))
    return problems


async def upload_my_document(
    work: Work,
    file: object,
    kind: DocumentKind,
    name: str | None,
    car_id: uuid.UUID | None,
) -> uuid.UUID:
    """A portal viewer's own paper: visible to them and to staff."""
    viewer = work.viewer
    may_upload_my_document(work)
    if problems := my_document_problems(viewer, kind, car_id):
        raise Rejected(*problems)
    async with work.write() as session:
        allowed = await _uploads_allowed(session, organization_of(work))
    if not allowed:
        raise Rejected(UPLOADS_DISABLED)
    storage, received = await receive_file(work, file, Purpose.DOCUMENT, "documents")
    async with kept(storage, received), work.write() as session:
        if car_id is not None and not await visible_for_update(
            session, Car, row_scope(viewer), [car_id]
        ):
            raise NotFound(row=("Car", car_id))
        document = Document(
            organization_id=organization_of(work),
            customer_id=customer_of(work),
            car_id=car_id,
            name=name or received.filename,
            kind=kind,
            visible_in_portal=True,
            uploaded_by_customer=True,
            uploaded_by_contact_id=viewer.contact_id,
            **_file_columns(received),
        )
        session.add(document)
    return document.id


async def _uploads_allowed(session: AsyncSession, org_id: uuid.UUID) -> bool:
    allowed = await session.scalar(
        sa.select(col(PortalSettings.allow_document_uploads)).where(
            col(PortalSettings.organization_id) == org_id
        )
    )
    return bool(allowed)
