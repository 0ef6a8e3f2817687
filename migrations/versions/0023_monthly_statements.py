"""Monthly statements, and what a subscription's period is charged by

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 21:30:00.000000

Two collection settings, off on existing rows: `monthly_statements` and `statement_day`
(1-28), the day of the month each customer with activity or a balance is emailed last
month's statement. `monthly_statements` records each customer's month in the transaction
that queues its emails; its unique (customer_id, month) makes a month's statement go once
however many jobs run. `subscription_periods` keeps what a period is charged by: price,
quantity and the day they apply from, what its earlier days cost, its full period's days
and its net charge (null on periods settled before: their invoice line tells, and `fixed`
is 0). `subscription_adjustments` records each credit note or invoice of the difference
made when a period billed in advance is cut short or repriced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collection_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("monthly_statements", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("statement_day", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.create_check_constraint("statement_day", "statement_day BETWEEN 1 AND 28")
    op.create_table(
        "monthly_statements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("closing", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_monthly_statements_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_monthly_statements_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_statements")),
        sa.UniqueConstraint(
            "customer_id", "month", name=op.f("uq_monthly_statements_customer_id_month")
        ),
    )
    with op.batch_alter_table("monthly_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monthly_statements_organization_id"), ["organization_id"], unique=False
        )
    with op.batch_alter_table("subscription_periods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_price", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quantity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("days_in_period", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("terms_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("fixed", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("charged", sa.Integer(), nullable=True))
    op.create_table(
        "subscription_adjustments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("period_id", sa.Uuid(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("credit_note_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_subscription_adjustments_credit_note_id_credit_notes"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_subscription_adjustments_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_subscription_adjustments_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["subscription_periods.id"],
            name=op.f("fk_subscription_adjustments_period_id_subscription_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_adjustments_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_adjustments")),
    )
    with op.batch_alter_table("subscription_adjustments", schema=None) as batch_op:
        for column in ("organization_id", "subscription_id", "period_id"):
            batch_op.create_index(
                batch_op.f(f"ix_subscription_adjustments_{column}"), [column], unique=False
            )
        for column in ("invoice_id", "credit_note_id"):
            batch_op.create_index(f"ix_subscription_adjustments_{column}", [column], unique=False)


def downgrade() -> None:
    op.drop_table("subscription_adjustments")
    with op.batch_alter_table("subscription_periods", schema=None) as batch_op:
        batch_op.drop_column("charged")
        batch_op.drop_column("fixed")
        batch_op.drop_column("terms_from")
        batch_op.drop_column("days_in_period")
        batch_op.drop_column("quantity")
        batch_op.drop_column("unit_price")
    with op.batch_alter_table("monthly_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monthly_statements_organization_id"))
    op.drop_table("monthly_statements")
    with op.batch_alter_table("collection_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_collection_settings_statement_day"), type_="check")
        batch_op.drop_column("statement_day")
        batch_op.drop_column("monthly_statements")
