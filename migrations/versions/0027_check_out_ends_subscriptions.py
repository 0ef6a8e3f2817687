"""When a car checked out of storage stops being billed: at the end of the period running
(the default) or that day

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): every tenant row references `organizations`.
    op.add_column(
        "organizations",
        sa.Column(
            "check_out_ends_subscriptions",
            sa.String(length=32),
            nullable=False,
            server_default="PERIOD_END",
        ),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as the upgrade's ADD COLUMN.
    op.execute("ALTER TABLE organizations DROP COLUMN check_out_ends_subscriptions")
