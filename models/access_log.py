"""Who in the portal looked at what: every view or download of a document, invoice or
estimate by a portal viewer, per person. Staff previews are never written here."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field
from models.enums import AccessAction


class AccessLog(TenantRow, table=True):
    __tablename__ = "access_logs"
    __table_args__ = (
        sa.Index("ix_access_logs_subject", "organization_id", "subject_type", "subject_id"),
    )

    subject_type: str = Field(max_length=40)  # Document, Invoice, Estimate
    subject_id: uuid.UUID
    action: AccessAction = enum_field(AccessAction)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
