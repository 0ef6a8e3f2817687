"""Contacts who may manage the account's contacts from the portal

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 18:45:00.000000

One contact column, false on existing rows: `can_manage_contacts`, set by staff, lets a
contact add, change and remove the customer's other contacts in the portal (the customer
themself always may).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "can_manage_contacts", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("can_manage_contacts")
