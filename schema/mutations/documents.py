"""Mutations on documents: staff uploads and edits, and the portal's own uploads."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info
from strawberry.file_uploads import Upload

from auth.permissions import portal_only, portal_section, staff_only
from domain.documents.codes import DocumentCode
from domain.uploads.codes import UploadCode
from models import Document as DocumentRow
from resolvers import documents as actions
from resolvers.archive import set_archived
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.documents import Document
from schema.enums import DocumentKind
from schema.error_codes import code_field, error_codes_of
from schema.mutations.customers import ArchiveInput
from schema.payloads import payload

FILE_DESCRIPTION = (
    "The file, sent as a multipart upload: PDF, JPEG, PNG, HEIC or WebP, at most "
    "MAX_UPLOAD_BYTES (20 MB unless configured)."
)


DocumentErrorCode = error_codes_of(
    "DocumentErrorCode", (DocumentCode, UploadCode), "Why a document mutation was refused."
)


@strawberry.type(description="A problem with a document mutation's input.")
class DocumentError(UserError):
    code: Enum = code_field(DocumentErrorCode)


@strawberry.input(description="A new document for a customer, with its file.")
class UploadDocumentInput:
    customer_id: strawberry.ID = strawberry.field(description="Global ID of the customer.")
    file: Upload = strawberry.field(description=FILE_DESCRIPTION)
    car_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the customer's car it concerns, if any."
    )
    name: str | None = strawberry.field(
        default=UNSET, description="Title; the uploaded file's name when omitted."
    )
    kind: DocumentKind = strawberry.field(
        default=DocumentKind.OTHER, description="What the document is."
    )
    visible_in_portal: bool = strawberry.field(
        default=False, description="Share it with the customer in the portal."
    )


@strawberry.input(description="Changes to a document. Omitted fields keep their value.")
class UpdateDocumentInput:
    id: strawberry.ID = strawberry.field(description="The document's global ID.")
    name: str | None = strawberry.field(default=UNSET, description="Title.")
    kind: DocumentKind | None = strawberry.field(default=UNSET, description="What it is.")
    visible_in_portal: bool | None = strawberry.field(
        default=UNSET, description="Share it with the customer in the portal, or stop sharing."
    )


@strawberry.input(description="A paper of the signed-in customer's own, e.g. an insurance card.")
class UploadMyDocumentInput:
    file: Upload = strawberry.field(description=FILE_DESCRIPTION)
    kind: DocumentKind = strawberry.field(
        description="INSURANCE_CARD, REGISTRATION, PHOTO or OTHER."
    )
    name: str | None = strawberry.field(
        default=UNSET, description="Title; the uploaded file's name when omitted."
    )
    car_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global ID of the car it concerns (required for a contact scoped to cars).",
    )


@strawberry.type(description="The result of a document mutation.")
class DocumentPayload:
    document: Document | None = strawberry.field(description="The document, when it worked.")
    user_errors: list[DocumentError] = strawberry.field(description="Problems with the input.")


async def document_payload(info: Info, outcome: Outcome) -> DocumentPayload:
    return await payload(
        info,
        DocumentPayload,
        outcome,
        type_name="Document",
        object_field="document",
        error_cls=DocumentError,
        codes=DocumentErrorCode,
    )


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(
        description="Add a document with its file to a customer (and optionally a car).",
        extensions=staff_only(),
    )
    async def upload_document(
        self, info: Info, input: Annotated[UploadDocumentInput, INPUT]
    ) -> DocumentPayload:
        return await document_payload(info, await actions.upload_document(info, input))

    @strawberry.mutation(
        description="Rename a document, change its kind, share or unshare it.",
        extensions=staff_only(),
    )
    async def update_document(
        self, info: Info, input: Annotated[UpdateDocumentInput, INPUT]
    ) -> DocumentPayload:
        return await document_payload(info, await actions.update_document(info, input))

    @strawberry.mutation(
        description="Archive a document (it leaves the portal) or restore one.",
        extensions=staff_only(),
    )
    async def archive_document(
        self, info: Info, input: Annotated[ArchiveInput, INPUT]
    ) -> DocumentPayload:
        outcome = await set_archived(info, DocumentRow, input.id, input.archived)
        return await document_payload(info, outcome)

    @strawberry.mutation(
        description="Upload one of your own papers (insurance card, registration), where the "
        "business takes uploads in the portal. You and the business's staff see it.",
        extensions=[*portal_only(), *portal_section("documents")],
    )
    async def upload_my_document(
        self, info: Info, input: Annotated[UploadMyDocumentInput, INPUT]
    ) -> DocumentPayload:
        return await document_payload(info, await actions.upload_my_document(info, input))
