"""Portal experience: saved cards and autopay, onboarding steps, community events and
RSVPs, preview sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 02:32:26.933505
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("starts_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("published_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_community_events_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_events")),
    )
    with op.batch_alter_table("community_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_community_events_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_community_events_organization_id_starts_at",
            ["organization_id", "starts_at"],
            unique=False,
        )

    op.create_table(
        "onboarding_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SIGN_CONTRACT",
                "ADD_PAYMENT_METHOD",
                "COMPLETE_PROFILE",
                "CONFIRM_PREFERENCES",
                name="onboardingstepkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("contract_title", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_onboarding_steps_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_steps")),
    )
    with op.batch_alter_table("onboarding_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_onboarding_steps_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "event_rsvps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("person_key", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum("GOING", "NOT_GOING", name="rsvpstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_event_rsvps_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_event_rsvps_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["community_events.id"],
            name=op.f("fk_event_rsvps_event_id_community_events"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_event_rsvps_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_rsvps")),
        sa.UniqueConstraint(
            "event_id", "person_key", name=op.f("uq_event_rsvps_event_id_person_key")
        ),
    )
    with op.batch_alter_table("event_rsvps", schema=None) as batch_op:
        batch_op.create_index("ix_event_rsvps_contact_id", ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_rsvps_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_rsvps_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_rsvps_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("stripe_payment_method_id", sa.String(length=255), nullable=False),
        sa.Column("brand", sa.String(length=40), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("removed_at", models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_payment_methods_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payment_methods_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_payment_methods_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
        sa.UniqueConstraint(
            "organization_id",
            "stripe_payment_method_id",
            name=op.f("uq_payment_methods_organization_id_stripe_payment_method_id"),
        ),
    )
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.create_index("ix_payment_methods_contact_id", ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_methods_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_methods_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "autopay_charges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("payment_method_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING", "SUCCEEDED", "FAILED", name="autopaystatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("charged_on", sa.Date(), nullable=False),
        sa.Column("provider_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_autopay_charges_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_autopay_charges_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_autopay_charges_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_autopay_charges_payment_method_id_payment_methods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_charges")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_autopay_charges_invoice_id")),
    )
    with op.batch_alter_table("autopay_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_autopay_charges_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_autopay_charges_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_autopay_charges_payment_method_id", ["payment_method_id"], unique=False
        )

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previewed_by_staff_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            "ix_auth_sessions_previewed_by_staff_id", ["previewed_by_staff_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_auth_sessions_previewed_by_staff_id_staff_users"),
            "staff_users",
            ["previewed_by_staff_id"],
            ["id"],
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("preferences_confirmed_at", models.types.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("preferences_confirmed_at", models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("autopay_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_autopay", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.drop_column("allow_autopay")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("autopay_enabled")
        batch_op.drop_column("preferences_confirmed_at")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("preferences_confirmed_at")

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_auth_sessions_previewed_by_staff_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_index("ix_auth_sessions_previewed_by_staff_id")
        batch_op.drop_column("previewed_by_staff_id")

    with op.batch_alter_table("autopay_charges", schema=None) as batch_op:
        batch_op.drop_index("ix_autopay_charges_payment_method_id")
        batch_op.drop_index(batch_op.f("ix_autopay_charges_organization_id"))
        batch_op.drop_index(batch_op.f("ix_autopay_charges_customer_id"))

    op.drop_table("autopay_charges")
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_methods_organization_id"))
        batch_op.drop_index(batch_op.f("ix_payment_methods_customer_id"))
        batch_op.drop_index("ix_payment_methods_contact_id")

    op.drop_table("payment_methods")
    with op.batch_alter_table("event_rsvps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_rsvps_organization_id"))
        batch_op.drop_index(batch_op.f("ix_event_rsvps_event_id"))
        batch_op.drop_index(batch_op.f("ix_event_rsvps_customer_id"))
        batch_op.drop_index("ix_event_rsvps_contact_id")

    op.drop_table("event_rsvps")
    with op.batch_alter_table("onboarding_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboarding_steps_organization_id"))

    op.drop_table("onboarding_steps")
    with op.batch_alter_table("community_events", schema=None) as batch_op:
        batch_op.drop_index("ix_community_events_organization_id_starts_at")
        batch_op.drop_index(batch_op.f("ix_community_events_organization_id"))

    op.drop_table("community_events")
