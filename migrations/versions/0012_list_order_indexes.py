"""Indexes in the order lists are read: a page of a list reads its index instead of sorting
the organization's or the customer's rows

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_customers_organization_id_name_id", "customers", ["organization_id", "name", "id"]),
    (
        "ix_cars_organization_id_make_model_id",
        "cars",
        ["organization_id", "make", "model", "id"],
    ),
    *(
        (f"ix_{table}_{owner}_created_at_id", table, [owner, "created_at", "id"])
        for table in ("invoices", "estimates")
        for owner in ("organization_id", "customer_id")
    ),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
