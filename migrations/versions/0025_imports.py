"""CSV imports kept as records, and bulk portal invites

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-07 21:10:00.000000

Three new tables, nothing existing changes: `data_imports` (the import history: each
import, dry run or commit, with its counts and row errors), `bulk_invites` (a job sending
portal invites to the customers a list filter chose) and `bulk_invite_items` (one per job
and customer, unique, turned SENT in the transaction of the invite's email).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.types

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _state(*names: str, name: str) -> sa.Enum:
    return sa.Enum(*names, name=name, native_enum=False, length=32, create_constraint=False)


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
    ]


def _foreign(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "data_imports",
        *_stamps(),
        sa.Column("staff_user_id", sa.Uuid(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column(
            "state", _state("DRY_RUN", "COMMITTED", "FAILED", name="importstate"), nullable=False
        ),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("customers_created", sa.Integer(), nullable=False),
        sa.Column("contacts_created", sa.Integer(), nullable=False),
        sa.Column("cars_created", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("mapping", JSON, nullable=False),
        sa.Column("ignored_columns", JSON, nullable=False),
        _foreign("data_imports", "organization_id", "organizations"),
        _foreign("data_imports", "staff_user_id", "staff_users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_imports")),
    )
    _indexes("data_imports", "organization_id", "staff_user_id")
    op.create_table(
        "bulk_invites",
        *_stamps(),
        sa.Column("staff_user_id", sa.Uuid(), nullable=True),
        sa.Column("filter", JSON, nullable=False),
        sa.Column(
            "state",
            _state("RUNNING", "FINISHED", "CANCELLED", name="bulkinvitestate"),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", models.types.UTCDateTime(), nullable=True),
        _foreign("bulk_invites", "organization_id", "organizations"),
        _foreign("bulk_invites", "staff_user_id", "staff_users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_invites")),
    )
    _indexes("bulk_invites", "organization_id", "staff_user_id")
    op.create_table(
        "bulk_invite_items",
        *_stamps(),
        sa.Column("bulk_invite_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column(
            "state",
            _state("PENDING", "SENT", "SKIPPED", "CANCELLED", name="bulkinviteitemstate"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("done_at", models.types.UTCDateTime(), nullable=True),
        _foreign("bulk_invite_items", "organization_id", "organizations"),
        _foreign("bulk_invite_items", "bulk_invite_id", "bulk_invites"),
        _foreign("bulk_invite_items", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_invite_items")),
        sa.UniqueConstraint(
            "bulk_invite_id",
            "customer_id",
            name=op.f("uq_bulk_invite_items_bulk_invite_id_customer_id"),
        ),
    )
    _indexes("bulk_invite_items", "organization_id", "customer_id")
    with op.batch_alter_table("bulk_invite_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bulk_invite_items_bulk_invite_id_state", ["bulk_invite_id", "state"], unique=False
        )


def downgrade() -> None:
    op.drop_table("bulk_invite_items")
    op.drop_table("bulk_invites")
    op.drop_table("data_imports")
