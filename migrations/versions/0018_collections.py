"""Collections: reminder schedules and late fees, and their exactly-once records

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 17:15:11.049530

Three new tables and one new nullable column. `collection_settings` holds an organization's
reminder schedule and late-fee rule (no row: the defaults). `invoice_reminders` and
`late_fees` are written in the transaction that queues a reminder's emails or charges a
fee; their unique (invoice_id, step) and (invoice_id, period) make each happen once however
many collectors run. `customers.collection_paused_at` is set while staff pause collection.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_settings",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("reminders_enabled", sa.Boolean(), nullable=False),
        sa.Column("reminder_offsets", sa.String(length=200), nullable=False),
        sa.Column(
            "late_fee_kind",
            sa.Enum("NONE", "FIXED", "PERCENT", name="latefeekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("late_fee_amount", sa.Integer(), nullable=False),
        sa.Column("late_fee_bp", sa.Integer(), nullable=False),
        sa.Column("late_fee_after_days", sa.Integer(), nullable=False),
        sa.Column("late_fee_every_days", sa.Integer(), nullable=True),
        sa.Column("late_fee_compounds", sa.Boolean(), nullable=False),
        sa.Column(
            "late_fee_target",
            sa.Enum(
                "OWN_INVOICE", "NEXT_INVOICE", name="latefeetarget", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "late_fee_after_days >= 1", name=op.f("ck_collection_settings_fee_after_a_day")
        ),
        sa.CheckConstraint(
            "late_fee_amount >= 0", name=op.f("ck_collection_settings_fee_amount_not_negative")
        ),
        sa.CheckConstraint(
            "late_fee_bp BETWEEN 0 AND 10000", name=op.f("ck_collection_settings_fee_percent")
        ),
        sa.CheckConstraint(
            "late_fee_every_days IS NULL OR late_fee_every_days >= 1",
            name=op.f("ck_collection_settings_fee_period_a_day"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_collection_settings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_collection_settings")),
    )
    op.create_table(
        "invoice_reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("step_date", sa.Date(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_reminders_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_invoice_reminders_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_reminders")),
        sa.UniqueConstraint(
            "invoice_id", "step", name=op.f("uq_invoice_reminders_invoice_id_step")
        ),
    )
    with op.batch_alter_table("invoice_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_reminders_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "late_fees",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("charged_on", sa.Date(), nullable=False),
        sa.Column("fee_invoice_id", sa.Uuid(), nullable=True),
        sa.Column("fee_line_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_late_fees_amount_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_late_fees_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["fee_invoice_id"], ["invoices.id"], name=op.f("fk_late_fees_fee_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["fee_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_late_fees_fee_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_late_fees_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_late_fees_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_late_fees")),
        sa.UniqueConstraint("invoice_id", "period", name=op.f("uq_late_fees_invoice_id_period")),
    )
    with op.batch_alter_table("late_fees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_late_fees_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_late_fees_fee_invoice_id"), ["fee_invoice_id"], unique=False
        )
        batch_op.create_index("ix_late_fees_fee_line_id", ["fee_line_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_late_fees_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("collection_paused_at", models.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy would drop `customers`, which rows of
    # other tables reference.
    op.execute("ALTER TABLE customers DROP COLUMN collection_paused_at")

    with op.batch_alter_table("late_fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_late_fees_organization_id"))
        batch_op.drop_index("ix_late_fees_fee_line_id")
        batch_op.drop_index(batch_op.f("ix_late_fees_fee_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_late_fees_customer_id"))

    op.drop_table("late_fees")
    with op.batch_alter_table("invoice_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_reminders_organization_id"))

    op.drop_table("invoice_reminders")
    op.drop_table("collection_settings")
