"""Contract kinds: onboarding's SIGN_CONTRACT steps name a kind of contract, not a title

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 03:00:00.000000

Steps used to match contracts by title text, which broke as soon as someone retitled a
contract. Existing rows get kinds read from the same titles by one rule, so a contract
and a step that matched by title before name the same kind after, and every step that
was done stays done.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def kind_for(title: str | None) -> str:
    """The kind a title reads as: the same title always gives the same kind."""
    text = (title or "").lower()
    if "storage" in text:
        return "STORAGE_AGREEMENT"
    if "waiver" in text or "liability" in text:
        return "LIABILITY_WAIVER"
    return "OTHER"


def upgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="OTHER")
        )
    with op.batch_alter_table("onboarding_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_kind", sa.String(length=32), nullable=True))

    conn = op.get_bind()
    contracts = sa.table("contracts", sa.column("id"), sa.column("title"), sa.column("kind"))
    for row_id, title in conn.execute(sa.select(contracts.c.id, contracts.c.title)).all():
        if kind_for(title) != "OTHER":
            conn.execute(
                contracts.update().where(contracts.c.id == row_id).values(kind=kind_for(title))
            )
    steps = sa.table(
        "onboarding_steps",
        sa.column("id"),
        sa.column("kind"),
        sa.column("contract_title"),
        sa.column("contract_kind"),
    )
    signing = sa.select(steps.c.id, steps.c.contract_title).where(steps.c.kind == "SIGN_CONTRACT")
    for row_id, title in conn.execute(signing).all():
        conn.execute(
            steps.update().where(steps.c.id == row_id).values(contract_kind=kind_for(title))
        )

    with op.batch_alter_table("onboarding_steps", schema=None) as batch_op:
        batch_op.drop_column("contract_title")


def downgrade() -> None:
    with op.batch_alter_table("onboarding_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_title", sa.String(length=255), nullable=True))
    # A step names again a title of a contract of its kind in its organization, if any.
    op.execute(
        "UPDATE onboarding_steps SET contract_title = COALESCE(("
        "SELECT MIN(c.title) FROM contracts c WHERE c.organization_id = "
        "onboarding_steps.organization_id AND c.kind = onboarding_steps.contract_kind), "
        "contract_kind) WHERE kind = 'SIGN_CONTRACT'"
    )
    with op.batch_alter_table("onboarding_steps", schema=None) as batch_op:
        batch_op.drop_column("contract_kind")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("kind")
