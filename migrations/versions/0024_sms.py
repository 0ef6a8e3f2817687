"""Texts: an outbox channel, per-person text preferences, opt-outs, E.164 phone numbers

Revision ID: 0024
Revises: 0022 (for now: the lead chains it after 0023 when both are merged)
Create Date: 2026-12-07 21:30:00.000000

- `outbox_emails.channel` (EMAIL on existing rows) and `provider_id`: texts go through the
  same outbox, leases and retries as email.
- On customers and contacts, four text preferences (all off: a text needs the person's own
  consent) and `sms_number`, the number they were chosen for.
- `sms_opt_outs`: numbers that answered STOP to an organization's texts.
- Existing phone numbers of customers and contacts are rewritten as E.164 where they read
  as a valid number: in the customer's country when it has one, else in PHONE_REGION (US
  unless set). A number that does not read as one is left as it was; the next edit of the
  field asks for a valid one, and no text goes to it meanwhile (texts go to `sms_number`,
  which only a valid number becomes). The downgrade keeps the E.164 forms.
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types
from core.phones import to_e164

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFERENCES = ("sms_sign_in", "sms_pay_links", "sms_reminders", "sms_car_ready")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): on SQLite a copy would drop `customers`, which rows
    # of other tables reference.
    op.add_column(
        "outbox_emails",
        sa.Column("channel", sa.String(length=32), nullable=False, server_default="EMAIL"),
    )
    op.add_column("outbox_emails", sa.Column("provider_id", sa.String(length=64), nullable=True))
    for table in ("customers", "contacts"):
        for name in PREFERENCES:
            op.add_column(
                table, sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        op.add_column(table, sa.Column("sms_number", sa.String(length=40), nullable=True))
    op.create_table(
        "sms_opt_outs",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("opted_out_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sms_opt_outs_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "phone", name=op.f("pk_sms_opt_outs")),
    )
    _normalise_phones()


def _normalise_phones() -> None:
    region = (os.environ.get("PHONE_REGION") or "US").upper()
    bind = op.get_bind()
    customers = sa.table(
        "customers", sa.column("id", sa.Uuid()), sa.column("phone"), sa.column("country")
    )
    contacts = sa.table(
        "contacts", sa.column("id", sa.Uuid()), sa.column("phone"), sa.column("customer_id")
    )
    found = bind.execute(
        sa.select(customers.c.id, customers.c.phone, customers.c.country).where(
            customers.c.phone.is_not(None)
        )
    ).all()
    _rewrite(bind, customers, [(i, p, c) for i, p, c in found], region)
    found = bind.execute(
        sa.select(contacts.c.id, contacts.c.phone, customers.c.country)
        .select_from(contacts.join(customers, customers.c.id == contacts.c.customer_id))
        .where(contacts.c.phone.is_not(None))
    ).all()
    _rewrite(bind, contacts, [(i, p, c) for i, p, c in found], region)


def _rewrite(
    bind: sa.Connection,
    table: sa.TableClause,
    rows: list[tuple[object, str, str | None]],
    region: str,
) -> None:
    for row_id, phone, country in rows:
        e164 = to_e164(phone, country or region)
        if e164 is not None and e164 != phone:
            bind.execute(sa.update(table).where(table.c.id == row_id).values(phone=e164))


def downgrade() -> None:
    op.drop_table("sms_opt_outs")
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as the upgrade's ADD COLUMN.
    for table in ("customers", "contacts"):
        for name in ("sms_number", *reversed(PREFERENCES)):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
    for name in ("provider_id", "channel"):
        op.execute(f"ALTER TABLE outbox_emails DROP COLUMN {name}")
