"""Messages in the order the inbox reads them: the staff inbox (each customer's newest
message, newest first) walks an index and stops at a page instead of sorting the
organization's messages

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 22:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    (f"ix_messages_{owner}_created_at_id", "messages", [owner, "created_at", "id"])
    for owner in ("organization_id", "customer_id")
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
