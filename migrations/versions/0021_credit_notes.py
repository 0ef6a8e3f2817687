"""Credit notes: their own table and lines, and what invoices were credited; line discounts

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 17:15:28.233947

Two new tables (credit notes, numbered per organization, and their lines, each against one
invoice line) and two invoice columns, both 0 on existing rows: `credited_amount` (the
totals of the invoice's credit notes) and `credit_applied` (the customer's credit used on
it when it was issued). Amount due and the customer's credit are derived from them
(models/derived.py).

Line discounts: invoice and estimate lines keep the discount asked for (`discount_bp` or
`discount_fixed`, both null on existing lines) and what it took off (`discount`, 0); the
bills keep the discount asked for on the whole bill (`discount_bp` or `discount_fixed`, null)
and the lines' discounts summed (`discount_total`, 0).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_notes",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", sa.Integer(), nullable=False),
        sa.Column("tax_total", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("issued_by_staff_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_credit_notes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_notes_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_credit_notes_issued_by_staff_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_credit_notes_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint(
            "organization_id", "number", name=op.f("uq_credit_notes_organization_id_number")
        ),
    )
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_notes_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_credit_notes_invoice_id_created_at", ["invoice_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_credit_notes_issued_by_staff_id", ["issued_by_staff_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_notes_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "credit_note_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("credit_note_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_line_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity_milli", sa.Integer(), nullable=True),
        sa.Column("subtotal", sa.Integer(), nullable=False),
        sa.Column("tax", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_credit_note_lines_credit_note_id_credit_notes"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_credit_note_lines_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_credit_note_lines_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note_lines")),
    )
    with op.batch_alter_table("credit_note_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_note_lines_credit_note_id"), ["credit_note_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_note_lines_invoice_line_id"), ["invoice_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_note_lines_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credited_amount", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("credit_applied", sa.Integer(), nullable=False, server_default="0")
        )

    for table in ("invoice_lines", "estimate_lines"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("discount_bp", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("discount_fixed", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column("discount", sa.Integer(), nullable=False, server_default="0")
            )
    for table in ("invoices", "estimates"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("discount_bp", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("discount_fixed", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column("discount_total", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    for table in ("invoices", "estimates"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("discount_total")
            batch_op.drop_column("discount_fixed")
            batch_op.drop_column("discount_bp")
    for table in ("invoice_lines", "estimate_lines"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("discount")
            batch_op.drop_column("discount_fixed")
            batch_op.drop_column("discount_bp")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("credit_applied")
        batch_op.drop_column("credited_amount")

    with op.batch_alter_table("credit_note_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_note_lines_organization_id"))
        batch_op.drop_index(batch_op.f("ix_credit_note_lines_invoice_line_id"))
        batch_op.drop_index(batch_op.f("ix_credit_note_lines_credit_note_id"))

    op.drop_table("credit_note_lines")
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_notes_organization_id"))
        batch_op.drop_index("ix_credit_notes_issued_by_staff_id")
        batch_op.drop_index("ix_credit_notes_invoice_id_created_at")
        batch_op.drop_index(batch_op.f("ix_credit_notes_customer_id"))

    op.drop_table("credit_notes")
