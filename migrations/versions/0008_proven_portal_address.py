"""Proven portal address: the address a person's portal access belongs to

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PEOPLE = ("customers", "contacts")


def upgrade() -> None:
    for table in PEOPLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("portal_email", sa.String(length=254), nullable=True))
        # People invited or active before this revision were invited at their address.
        op.execute(
            f"UPDATE {table} SET portal_email = email "
            "WHERE email IS NOT NULL AND portal_status IN ('INVITED', 'ACTIVE')"
        )


def downgrade() -> None:
    for table in PEOPLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("portal_email")
