"""The outbox records which process holds an email's lease

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:20:00.000000

A sender takes back at once the emails leased by a process that is gone (killed) on its
own machine, instead of waiting for their lease to run out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leased_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("leased_by")
