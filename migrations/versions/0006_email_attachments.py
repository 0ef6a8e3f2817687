"""Email attachments: a stored file sent with an outbox email (signed contracts)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 02:54:21.354115
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_key", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("attachment_filename", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("attachment_type", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("attachment_type")
        batch_op.drop_column("attachment_filename")
        batch_op.drop_column("attachment_key")
