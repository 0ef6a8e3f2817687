"""Refunds have a status: a card refund is recorded as pending before Stripe is asked

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:30:00.000000

Every refund recorded before this revision was given back already: SUCCEEDED.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "PENDING",
                    "SUCCEEDED",
                    "FAILED",
                    name="refundstatus",
                    native_enum=False,
                    length=32,
                ),
                nullable=False,
                server_default="SUCCEEDED",
            )
        )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)


def downgrade() -> None:
    # Before this revision every refund row was money given back: a pending or refused one
    # would read as such. (A pending one Stripe did make is then found by reconciliation.)
    op.execute("DELETE FROM refunds WHERE status <> 'SUCCEEDED'")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("status")
