"""Billing plans and subscriptions: recurring billing's first tables

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:57:08.997599

Two new tables, nothing existing changes: an organization's plans (a price every N months,
billed in advance or in arrears) and customers' subscriptions to them. Their checks hold
what the domain refuses (quantity at least one, an anchor day of the month, no negative
price, an end after the start), so no other writer can store what the API would not.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("interval_months", sa.Integer(), nullable=False),
        sa.Column(
            "timing",
            sa.Enum("IN_ADVANCE", "IN_ARREARS", name="billingtiming", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("archived_at", models.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_billing_plans_amount_not_negative")),
        sa.CheckConstraint(
            "interval_months >= 1", name=op.f("ck_billing_plans_interval_at_least_a_month")
        ),
        sa.CheckConstraint(
            "tax_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_billing_plans_tax_rate_percent")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_billing_plans_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_plans")),
    )
    with op.batch_alter_table("billing_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_plans_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_billing_plans_organization_id_name_id",
            ["organization_id", "name", "id"],
            unique=False,
        )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("car_id", sa.Uuid(), nullable=True),
        sa.Column("storage_label", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("custom_unit_price", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("anchor_day", sa.Integer(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("autopay", sa.Boolean(), nullable=False),
        sa.Column("paused_at", models.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "anchor_day BETWEEN 1 AND 31", name=op.f("ck_subscriptions_anchor_day_of_month")
        ),
        sa.CheckConstraint(
            "custom_unit_price IS NULL OR custom_unit_price >= 0",
            name=op.f("ck_subscriptions_price_not_negative"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date > start_date",
            name=op.f("ck_subscriptions_ends_after_start"),
        ),
        sa.CheckConstraint(
            "payment_terms_days >= 0", name=op.f("ck_subscriptions_terms_not_negative")
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_subscriptions_quantity_at_least_one")),
        sa.ForeignKeyConstraint(["car_id"], ["cars.id"], name=op.f("fk_subscriptions_car_id_cars")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_subscriptions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_subscriptions_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["billing_plans.id"], name=op.f("fk_subscriptions_plan_id_billing_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscriptions_car_id_created_at_id", ["car_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_subscriptions_customer_id_created_at_id",
            ["customer_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_subscriptions_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_subscriptions_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_plan_id"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_organization_id"))
        batch_op.drop_index("ix_subscriptions_customer_id_created_at_id")
        batch_op.drop_index("ix_subscriptions_car_id_created_at_id")

    op.drop_table("subscriptions")
    with op.batch_alter_table("billing_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_plans_organization_id_name_id")
        batch_op.drop_index(batch_op.f("ix_billing_plans_organization_id"))

    op.drop_table("billing_plans")
