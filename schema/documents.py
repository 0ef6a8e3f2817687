"""Documents linked to customers and cars, and contracts sent for signature."""

from datetime import datetime

import strawberry
from strawberry import Info

from auth.downloads import DOCUMENT
from auth.permissions import staff_only
from models import relations as rel
from models import tables
from resolvers.access_log import link
from schema.enums import ContractKind, ContractStatus, DocumentKind
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, row_type


@row_type(tables.documents)
@strawberry.type(description="A file linked to a customer, and optionally to one of their cars.")
class Document(RowType, Node):
    name: str = strawberry.field(description="Title, e.g. Storage Agreement - Alex Morgan.")
    kind: DocumentKind = strawberry.field(description="What the document is.")
    content_type: str = strawberry.field(description="MIME type, e.g. application/pdf.")
    size_bytes: int = strawberry.field(description="File size in bytes.")
    sha256: str | None = strawberry.field(description="SHA-256 of the content, hex.")
    visible_in_portal: bool = strawberry.field(description="Shown to the customer in the portal.")
    created_at: datetime = strawberry.field(description="When it was added (UTC).")
    uploaded_by_customer: bool = strawberry.field(
        description="Uploaded by the customer or one of their contacts in the portal."
    )
    archived_at: datetime | None = strawberry.field(
        description="When archived (UTC); archived documents leave the portal."
    )

    customer = object_field("customer_id", "Customer", "schema.customers", "Whose document.")
    car = object_field("car_id", "Car", "schema.cars", "The car it concerns, if any.")
    access_log = connection_field(
        rel.DOCUMENT_ACCESS,
        "AccessLogEntry",
        "schema.access_log",
        "Who in the portal saw or opened this document, newest first (staff only).",
        extensions=staff_only(),
    )

    @strawberry.field(
        description="A link to the file, valid for a few minutes; it checks the viewer again "
        "when opened. Null when the document has no file. Recorded in the access log when a "
        "portal viewer asks for it."
    )
    async def download_url(self, info: Info) -> str | None:
        if not self.row["storage_key"]:
            return None
        return await link(info, DOCUMENT, self.pk)


@row_type(tables.contracts)
@strawberry.type(description="A document sent for signature; once signed it never changes.")
class Contract(RowType, Node):
    title: str = strawberry.field(description="Title of the contract.")
    kind: ContractKind = strawberry.field(
        description="What the contract is (a storage agreement, a liability waiver...)."
    )
    terms: str = strawberry.field(description="The terms shown before signing.")
    status: ContractStatus = strawberry.field(description="Signing state.")
    sent_at: datetime | None = strawberry.field(description="When sent for signature (UTC).")
    signed_at: datetime | None = strawberry.field(description="When signed (UTC).")
    signer_name: str | None = strawberry.field(description="Who signed.")
    signed_sha256: str | None = strawberry.field(description="SHA-256 of the signed document, hex.")

    customer = object_field("customer_id", "Customer", "schema.customers", "Who signs.")
    car = object_field("car_id", "Car", "schema.cars", "The car it concerns, if any.")
    document = object_field("document_id", "Document", __name__, "The contract file, if any.")
    signer = object_field(
        "signer_contact_id", "Contact", "schema.customers", "The contact who signed, if any."
    )
    signed_copy = object_field(
        "signed_document_id", "Document", __name__, "The signed copy (a PDF), once signed."
    )
    superseded_by = object_field(
        "superseded_by_id", "Contract", __name__, "The contract that replaced this one."
    )
    signer_ip: str | None = strawberry.field(
        description="Where the signature came from (staff only).", extensions=staff_only()
    )
    signer_user_agent: str | None = strawberry.field(
        description="The browser that signed (staff only).", extensions=staff_only()
    )
