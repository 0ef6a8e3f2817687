"""Documents from the API: the input checked and its IDs decoded, the domain's actions
called (domain/documents/documents.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import UNSET, Info

from core.ids import decode_id_of
from domain.documents import documents
from domain.documents.documents import DocumentDetails
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.documents import (
        UpdateDocumentInput,
        UploadDocumentInput,
        UploadMyDocumentInput,
    )


def _details(checks: Checks, data: UploadDocumentInput | UpdateDocumentInput) -> DocumentDetails:
    return DocumentDetails(
        name=kept(checks.text("name", data.name, 255, required=not checks.creating)),
        kind=kept(given(data.kind)),
        visible_in_portal=kept(given(getattr(data, "visible_in_portal", UNSET))),
    )


@mutation_outcome
async def upload_document(info: Info, data: UploadDocumentInput) -> uuid.UUID:
    checks = Checks(creating=True)
    details = _details(checks, data)
    customer_id = decode_id_of("Customer", data.customer_id)
    car_id = decode_id_of("Car", data.car_id) if data.car_id else None
    checks.done()
    return await documents.upload_document(info.context, customer_id, car_id, data.file, details)


@mutation_outcome
async def update_document(info: Info, data: UpdateDocumentInput) -> uuid.UUID:
    document_id = decode_id_of("Document", data.id)
    checks = Checks(creating=False)
    details = _details(checks, data)
    checks.done()
    return await documents.update_document(info.context, document_id, details)


@mutation_outcome
async def upload_my_document(info: Info, data: UploadMyDocumentInput) -> uuid.UUID:
    """A portal viewer's own paper: visible to them and to staff."""
    ctx = info.context
    documents.may_upload_my_document(ctx)  # closed sections refuse before all else
    checks = Checks(creating=True)
    name = checks.text("name", data.name, 255)
    car_id = decode_id_of("Car", data.car_id) if data.car_id else None
    checks.problems += documents.my_document_problems(ctx.viewer, data.kind, car_id)
    checks.done()
    return await documents.upload_my_document(ctx, data.file, data.kind, name, car_id)
