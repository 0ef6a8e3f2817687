"""Payment disputes, and provider events kept until their payment is recorded

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disputed_amount", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "dispute_status",
                sa.Enum("OPEN", "WON", "LOST", name="disputestatus", native_enum=False, length=32),
                nullable=True,
            )
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("disputed_amount", server_default=None)
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_for", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_provider_events_waiting_for"), ["waiting_for"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_events_waiting_for"))
        batch_op.drop_column("payload")
        batch_op.drop_column("waiting_for")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("dispute_status")
        batch_op.drop_column("disputed_amount")
