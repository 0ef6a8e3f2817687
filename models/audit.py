"""The audit log: who did what, when and from where. Rows are only ever inserted."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field
from models.enums import ActorKind
from models.types import PortableJSON


class AuditEvent(TenantRow, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_organization_id_created_at", "organization_id", "created_at"),
    )

    action: str = Field(max_length=64)
    actor_kind: ActorKind = enum_field(ActorKind)
    actor_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    actor_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    customer_id: uuid.UUID | None = Field(default=None, foreign_key="customers.id", index=True)
    subject_type: str | None = Field(default=None, max_length=40)
    subject_id: uuid.UUID | None = Field(default=None)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=PortableJSON)
