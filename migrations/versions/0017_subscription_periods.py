"""Subscription periods: one row per billed period, the scheduler's exactly-once record

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00.000000

One new table, nothing existing changes. The scheduler writes a row for each period it
settles, in the same transaction as the invoice it issues for it; the unique
(subscription_id, period_start) is what makes a period billed once however many
schedulers run and whatever they survive. A period left unbilled (paused through its bill
date, or costing nothing) has no invoice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscription_periods",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_subscription_periods_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_subscription_periods_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_periods_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_periods")),
        sa.UniqueConstraint(
            "subscription_id",
            "period_start",
            name=op.f("uq_subscription_periods_subscription_id_period_start"),
        ),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_subscription_periods_invoice_id")),
    )
    with op.batch_alter_table("subscription_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_periods_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subscription_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_periods_organization_id"))

    op.drop_table("subscription_periods")
