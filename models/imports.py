"""Moving in: CSV imports kept as records (the import history), and bulk portal invites.

A `DataImport` is written for every import, dry run or not, committed or refused: who, when,
which file, how many rows, what was (or would be) created and the row errors found (the
first `MAX_KEPT_ERRORS` of them; `error_count` has them all).

A `BulkInvite` is a job over the customers a list filter chose when it was started: one
`BulkInviteItem` per customer, unique per (job, customer). The runner turns an item from
PENDING to SENT in the same transaction as the invite's outbox email, so a crash or a
second runner can never invite anyone twice (domain/imports/bulk_invites.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import BulkInviteItemState, BulkInviteState, ImportState
from models.types import PortableJSON

MAX_KEPT_ERRORS = 1000


class DataImport(TenantRow, table=True):
    __tablename__ = "data_imports"

    staff_user_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    filename: str = Field(max_length=255)
    size_bytes: int = Field(default=0)
    state: ImportState = enum_field(ImportState)
    rows: int = Field(default=0)
    customers_created: int = Field(default=0)
    contacts_created: int = Field(default=0)
    cars_created: int = Field(default=0)
    error_count: int = Field(default=0)
    # [{"row", "column", "field", "code", "message"}, ...]: the first MAX_KEPT_ERRORS.
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=PortableJSON)
    # {"CSV header": "portico field"} as used, and the headers no field took.
    mapping: dict[str, str] = Field(default_factory=dict, sa_type=PortableJSON)
    ignored_columns: list[str] = Field(default_factory=list, sa_type=PortableJSON)


class BulkInvite(TenantRow, table=True):
    __tablename__ = "bulk_invites"

    staff_user_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    # The customers list's filter it was started with: {"search", "include_archived", ...}.
    filter: dict[str, Any] = Field(default_factory=dict, sa_type=PortableJSON)
    state: BulkInviteState = enum_field(BulkInviteState, default=BulkInviteState.RUNNING)
    total: int = Field(default=0)
    sent: int = Field(default=0)
    skipped: int = Field(default=0)
    cancelled_at: datetime | None = utc_field()
    finished_at: datetime | None = utc_field()


class BulkInviteItem(TenantRow, table=True):
    __tablename__ = "bulk_invite_items"
    __table_args__ = (
        # Exactly once: one item per customer per job, turned SENT with the email.
        sa.UniqueConstraint("bulk_invite_id", "customer_id"),
        sa.Index("ix_bulk_invite_items_bulk_invite_id_state", "bulk_invite_id", "state"),
    )

    bulk_invite_id: uuid.UUID = Field(foreign_key="bulk_invites.id")
    customer_id: uuid.UUID = Field(foreign_key="customers.id")
    state: BulkInviteItemState = enum_field(
        BulkInviteItemState, default=BulkInviteItemState.PENDING
    )
    reason: str | None = Field(default=None, max_length=32)
    done_at: datetime | None = utc_field()
