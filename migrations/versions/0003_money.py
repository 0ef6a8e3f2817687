"""Money: estimate decisions, deposits, provider events, payment settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 01:53:15.916070
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_provider_events_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
    )
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_events_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "estimate_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("estimate_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "APPROVED",
                "DECLINED",
                "CHANGES_REQUESTED",
                name="estimatedecisionkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "approved_line_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "declined_line_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("approved_total", sa.Integer(), nullable=False),
        sa.Column("deposit_amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("staff_user_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column(
            "snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_estimate_decisions_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_estimate_decisions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["estimate_id"],
            ["estimates.id"],
            name=op.f("fk_estimate_decisions_estimate_id_estimates"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_estimate_decisions_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_estimate_decisions_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimate_decisions")),
        sa.UniqueConstraint(
            "estimate_id", "version", name=op.f("uq_estimate_decisions_estimate_id_version")
        ),
    )
    with op.batch_alter_table("estimate_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_estimate_decisions_contact_id", ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_estimate_decisions_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_estimate_decisions_estimate_id"), ["estimate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_estimate_decisions_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_estimate_decisions_staff_user_id", ["staff_user_id"], unique=False
        )

    with op.batch_alter_table("estimates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", models.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("estimate_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("invoice_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_index(batch_op.f("ix_payments_estimate_id"), ["estimate_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_estimate_id_estimates"), "estimates", ["estimate_id"], ["id"]
        )

    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("estimate_deposit_bp", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("hosted_checkout", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("invoice_due_days", sa.Integer(), nullable=False, server_default="14")
        )

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_notifications", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("email_notifications")

    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.drop_column("invoice_due_days")
        batch_op.drop_column("hosted_checkout")
        batch_op.drop_column("estimate_deposit_bp")

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payments_estimate_id_estimates"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_payments_estimate_id"))
        batch_op.alter_column("invoice_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("estimate_id")

    with op.batch_alter_table("estimates", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("estimate_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_estimate_decisions_staff_user_id")
        batch_op.drop_index(batch_op.f("ix_estimate_decisions_organization_id"))
        batch_op.drop_index(batch_op.f("ix_estimate_decisions_estimate_id"))
        batch_op.drop_index(batch_op.f("ix_estimate_decisions_customer_id"))
        batch_op.drop_index("ix_estimate_decisions_contact_id")

    op.drop_table("estimate_decisions")
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_events_organization_id"))

    op.drop_table("provider_events")
