"""Keys that let an organization's integrations (a telematics provider) post data.

A key is shown once; only its sha256 is stored. Each key has one narrow scope.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from models.base import TenantRow, utc_field

TELEMATICS_WRITE = "telematics:write"


class IntegrationKey(TenantRow, table=True):
    __tablename__ = "integration_keys"

    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)  # shown in lists so people can tell keys apart
    key_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(max_length=64, default=TELEMATICS_WRITE)
    created_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    last_used_at: datetime | None = utc_field()
    revoked_at: datetime | None = utc_field()
