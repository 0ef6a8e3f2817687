"""Files linked to a customer (and optionally a car), and contracts sent for signature."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import ContractKind, ContractStatus, DocumentKind


class Document(TenantRow, table=True):
    __tablename__ = "documents"

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    car_id: uuid.UUID | None = Field(default=None, foreign_key="cars.id", index=True)
    name: str = Field(max_length=255)
    kind: DocumentKind = enum_field(DocumentKind, default=DocumentKind.OTHER)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(default=0, ge=0)
    sha256: str | None = Field(default=None, max_length=64)
    storage_key: str | None = Field(default=None, max_length=500)
    visible_in_portal: bool = Field(default=False)
    uploaded_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    uploaded_by_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    uploaded_by_customer: bool = Field(default=False)  # a portal viewer uploaded it
    archived_at: datetime | None = utc_field()


class Contract(TenantRow, table=True):
    """A document sent for signature; once signed it never changes."""

    __tablename__ = "contracts"

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    car_id: uuid.UUID | None = Field(default=None, foreign_key="cars.id")
    document_id: uuid.UUID | None = Field(default=None, foreign_key="documents.id")
    title: str = Field(max_length=255)
    kind: ContractKind = enum_field(ContractKind, default=ContractKind.OTHER)
    terms: str = Field(max_length=100000)
    status: ContractStatus = enum_field(ContractStatus, default=ContractStatus.DRAFT)
    sent_at: datetime | None = utc_field()
    signed_at: datetime | None = utc_field()
    signer_name: str | None = Field(default=None, max_length=200)
    signer_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    signer_ip: str | None = Field(default=None, max_length=64)
    signer_user_agent: str | None = Field(default=None, max_length=500)
    signed_sha256: str | None = Field(default=None, max_length=64)
    signed_document_id: uuid.UUID | None = Field(default=None, foreign_key="documents.id")
    superseded_by_id: uuid.UUID | None = Field(default=None, foreign_key="contracts.id")
