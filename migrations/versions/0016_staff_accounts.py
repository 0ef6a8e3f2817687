"""Staff accounts: a status per staff member, and emailed invite and reset tokens

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:00:00.000000

Every existing staff member is ACTIVE, or DEACTIVATED where they may not sign in. A staff
token is stored only as its SHA-256 hash.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.Enum(
    "INVITED", "ACTIVE", "DEACTIVATED", name="staffstatus", native_enum=False, length=32
)


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", STATUS, nullable=False, server_default="ACTIVE"))
    staff = sa.table("staff_users", sa.column("status", sa.String()), sa.column("is_active"))
    op.execute(staff.update().where(staff.c.is_active.is_(sa.false())).values(status="DEACTIVATED"))
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None, existing_type=STATUS)

    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "INVITE", "PASSWORD_RESET", name="stafftokenpurpose", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("staff_user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("expires_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_staff_tokens_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_tokens_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_tokens_token_hash")),
    )
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_tokens_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_tokens_staff_user_id"), ["staff_user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_tokens_staff_user_id"))
        batch_op.drop_index(batch_op.f("ix_staff_tokens_organization_id"))
    op.drop_table("staff_tokens")
    # Invited staff stay, unable to sign in (not active, no password), as before.
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("status")
