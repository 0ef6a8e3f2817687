"""Appointment reminders and car update digests

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 17:30:00.000000

The portal settings gain when reminders go (days before, local hour; on by default, the day
before at 09:00). `appointment_reminders` holds one row per appointment and start time
reminded, written with the reminder's emails; its unique (appointment_id, starts_at) is
what makes a reminder go once however many schedulers run.

`car_update_digests` collects news of a customer's cars per person for the organization's
window (`car_update_minutes`, 15 by default); at most one digest is open (not sent) per
person, by a partial unique index.

Portal viewers may cancel or move their own appointments where the business allows it
(off by default), until a cut-off (24 hours before by default).

Staff choose which in-app notifications are also emailed (`quiet_email_kinds`: the kinds
not emailed; none at first).

Emails of the outbox gain the sender's name (From) and address (Reply-To) as people read
them, and the email a resent one copies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "send_appointment_reminders", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
        batch_op.add_column(
            sa.Column("reminder_days_before", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("reminder_hour", sa.Integer(), nullable=False, server_default="9")
        )
        batch_op.add_column(
            sa.Column("car_update_minutes", sa.Integer(), nullable=False, server_default="15")
        )
        batch_op.add_column(
            sa.Column(
                "allow_appointment_changes", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column(
                "appointment_change_cutoff_hours",
                sa.Integer(),
                nullable=False,
                server_default="24",
            )
        )

    op.create_table(
        "appointment_reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("emails", sa.Integer(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_reminders_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_appointment_reminders_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_reminders")),
        sa.UniqueConstraint(
            "appointment_id",
            "starts_at",
            name=op.f("uq_appointment_reminders_appointment_id_starts_at"),
        ),
    )
    with op.batch_alter_table("appointment_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_reminders_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "car_update_digests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sends_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_car_update_digests_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_car_update_digests_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_car_update_digests")),
    )
    with op.batch_alter_table("car_update_digests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_car_update_digests_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_car_update_digests_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_car_update_digests_sent_at_sends_at", ["sent_at", "sends_at"], unique=False
        )
        batch_op.create_index(
            "uq_car_update_digests_open",
            ["customer_id", "to_address"],
            unique=True,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("resent_from_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_emails_resent_from_id_outbox_emails"),
            "outbox_emails",
            ["resent_from_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_emails_resent_from_id"), ["resent_from_id"], unique=False
        )

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "quiet_email_kinds",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("quiet_email_kinds")
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_emails_resent_from_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_emails_resent_from_id_outbox_emails"), type_="foreignkey"
        )
        batch_op.drop_column("resent_from_id")
        batch_op.drop_column("reply_to")
        batch_op.drop_column("from_name")

    with op.batch_alter_table("car_update_digests", schema=None) as batch_op:
        batch_op.drop_index("uq_car_update_digests_open")
        batch_op.drop_index("ix_car_update_digests_sent_at_sends_at")
        batch_op.drop_index(batch_op.f("ix_car_update_digests_organization_id"))
        batch_op.drop_index(batch_op.f("ix_car_update_digests_customer_id"))
    op.drop_table("car_update_digests")

    with op.batch_alter_table("appointment_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_reminders_organization_id"))
    op.drop_table("appointment_reminders")

    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.drop_column("appointment_change_cutoff_hours")
        batch_op.drop_column("allow_appointment_changes")
        batch_op.drop_column("car_update_minutes")
        batch_op.drop_column("reminder_hour")
        batch_op.drop_column("reminder_days_before")
        batch_op.drop_column("send_appointment_reminders")
