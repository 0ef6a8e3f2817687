"""Portal content: photos, jobs, maintenance, telematics, integration keys, access logs,
attachments, inspections by drivers, appointment requests, email changes, contract signing

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:21:27.161440
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("created_by_staff_id", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_integration_keys_created_by_staff_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_integration_keys_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_integration_keys_key_hash")),
    )
    with op.batch_alter_table("integration_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integration_keys_created_by_staff_id", ["created_by_staff_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integration_keys_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "access_logs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column(
            "action",
            sa.Enum("VIEW", "DOWNLOAD", name="accessaction", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_access_logs_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_access_logs_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_access_logs_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_logs")),
    )
    with op.batch_alter_table("access_logs", schema=None) as batch_op:
        batch_op.create_index("ix_access_logs_contact_id", ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_logs_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_logs_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_access_logs_subject",
            ["organization_id", "subject_type", "subject_id"],
            unique=False,
        )

    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("car_id", sa.Uuid(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "SERVICE",
                "REPAIR",
                "DETAILING",
                "STORAGE_CHECK_IN",
                "STORAGE_CHECK_OUT",
                "INSPECTION",
                "OTHER",
                name="jobkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "SCHEDULED",
                "IN_PROGRESS",
                "COMPLETED",
                "CANCELLED",
                name="jobstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scheduled_start", models.types.UTCDateTime(), nullable=True),
        sa.Column("scheduled_end", models.types.UTCDateTime(), nullable=True),
        sa.Column("started_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("completed_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("mileage", sa.Integer(), nullable=True),
        sa.Column("customer_notes", sa.String(length=5000), nullable=True),
        sa.Column("internal_notes", sa.String(length=10000), nullable=True),
        sa.ForeignKeyConstraint(["car_id"], ["cars.id"], name=op.f("fk_jobs_car_id_cars")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_jobs_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_jobs_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_car_id_status", ["car_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_jobs_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "maintenance_schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("car_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("every_months", sa.Integer(), nullable=True),
        sa.Column("every_miles", sa.Integer(), nullable=True),
        sa.Column("last_done_on", sa.Date(), nullable=True),
        sa.Column("last_done_mileage", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["car_id"], ["cars.id"], name=op.f("fk_maintenance_schedules_car_id_cars")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_maintenance_schedules_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_schedules")),
    )
    with op.batch_alter_table("maintenance_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_schedules_car_id"), ["car_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_schedules_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "telematics_readings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("car_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("odometer", sa.Integer(), nullable=True),
        sa.Column("engine_hours_tenths", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "fault_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("integration_key_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["car_id"], ["cars.id"], name=op.f("fk_telematics_readings_car_id_cars")
        ),
        sa.ForeignKeyConstraint(
            ["integration_key_id"],
            ["integration_keys.id"],
            name=op.f("fk_telematics_readings_integration_key_id_integration_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_telematics_readings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telematics_readings")),
    )
    with op.batch_alter_table("telematics_readings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_telematics_readings_car_id_recorded_at", ["car_id", "recorded_at"], unique=False
        )
        batch_op.create_index(
            "ix_telematics_readings_integration_key_id", ["integration_key_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_telematics_readings_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "car_photos",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("car_id", sa.Uuid(), nullable=False),
        sa.Column("condition_report_id", sa.Uuid(), nullable=True),
        sa.Column("caption", sa.String(length=500), nullable=True),
        sa.Column("taken_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("visible_in_portal", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_staff_id", sa.Uuid(), nullable=True),
        sa.Column("uploaded_by_contact_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["car_id"], ["cars.id"], name=op.f("fk_car_photos_car_id_cars")),
        sa.ForeignKeyConstraint(
            ["condition_report_id"],
            ["condition_reports.id"],
            name=op.f("fk_car_photos_condition_report_id_condition_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_car_photos_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_contact_id"],
            ["contacts.id"],
            name=op.f("fk_car_photos_uploaded_by_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_car_photos_uploaded_by_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_car_photos")),
    )
    with op.batch_alter_table("car_photos", schema=None) as batch_op:
        batch_op.create_index("ix_car_photos_car_id_position", ["car_id", "position"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_car_photos_condition_report_id"), ["condition_report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_car_photos_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_car_photos_uploaded_by_contact_id", ["uploaded_by_contact_id"], unique=False
        )
        batch_op.create_index(
            "ix_car_photos_uploaded_by_staff_id", ["uploaded_by_staff_id"], unique=False
        )

    op.create_table(
        "job_photos",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum("BEFORE", "PROGRESS", "AFTER", name="photostage", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("caption", sa.String(length=500), nullable=True),
        sa.Column("taken_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_staff_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_photos_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_job_photos_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_job_photos_uploaded_by_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_photos")),
    )
    with op.batch_alter_table("job_photos", schema=None) as batch_op:
        batch_op.create_index("ix_job_photos_job_id_position", ["job_id", "position"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_job_photos_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_job_photos_uploaded_by_staff_id", ["uploaded_by_staff_id"], unique=False
        )

    op.create_table(
        "message_attachments",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_attachments_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_message_attachments_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
    )
    with op.batch_alter_table("message_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_attachments_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_message_attachments_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_by_contact_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("requested_at", models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", models.types.UTCDateTime(), nullable=True))
        batch_op.create_index(
            "ix_appointments_requested_by_contact_id", ["requested_by_contact_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointments_requested_by_contact_id_contacts"),
            "contacts",
            ["requested_by_contact_id"],
            ["id"],
        )

    with op.batch_alter_table("condition_reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "CONDITION",
                    "PRE_TRIP",
                    "POST_TRIP",
                    name="inspectionkind",
                    native_enum=False,
                    length=32,
                ),
                nullable=False,
                server_default="CONDITION",
            )
        )
        batch_op.add_column(sa.Column("internal_notes", sa.String(length=10000), nullable=True))
        batch_op.add_column(sa.Column("submitted_by_contact_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("defects_found", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            "ix_condition_reports_submitted_by_contact_id",
            ["submitted_by_contact_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_condition_reports_submitted_by_contact_id_contacts"),
            "contacts",
            ["submitted_by_contact_id"],
            ["id"],
        )

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_document_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            "ix_contracts_signed_document_id", ["signed_document_id"], unique=False
        )
        batch_op.create_index("ix_contracts_superseded_by_id", ["superseded_by_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_contracts_superseded_by_id_contracts"),
            "contracts",
            ["superseded_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contracts_signed_document_id_documents"),
            "documents",
            ["signed_document_id"],
            ["id"],
        )

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uploaded_by_contact_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "uploaded_by_customer", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_index(
            "ix_documents_uploaded_by_contact_id", ["uploaded_by_contact_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_documents_uploaded_by_contact_id_contacts"),
            "contacts",
            ["uploaded_by_contact_id"],
            ["id"],
        )

    with op.batch_alter_table("magic_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("new_email", sa.String(length=254), nullable=True))

    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "allow_document_uploads", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column(
                "allow_appointment_requests",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.add_column(
            sa.Column("show_telematics", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.drop_column("show_telematics")
        batch_op.drop_column("allow_appointment_requests")
        batch_op.drop_column("allow_document_uploads")

    with op.batch_alter_table("magic_links", schema=None) as batch_op:
        batch_op.drop_column("new_email")

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_documents_uploaded_by_contact_id_contacts"), type_="foreignkey"
        )
        batch_op.drop_index("ix_documents_uploaded_by_contact_id")
        batch_op.drop_column("uploaded_by_customer")
        batch_op.drop_column("uploaded_by_contact_id")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_contracts_signed_document_id_documents"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_contracts_superseded_by_id_contracts"), type_="foreignkey"
        )
        batch_op.drop_index("ix_contracts_superseded_by_id")
        batch_op.drop_index("ix_contracts_signed_document_id")
        batch_op.drop_column("superseded_by_id")
        batch_op.drop_column("signed_document_id")

    with op.batch_alter_table("condition_reports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_condition_reports_submitted_by_contact_id_contacts"), type_="foreignkey"
        )
        batch_op.drop_index("ix_condition_reports_submitted_by_contact_id")
        batch_op.drop_column("defects_found")
        batch_op.drop_column("submitted_by_contact_id")
        batch_op.drop_column("internal_notes")
        batch_op.drop_column("kind")

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointments_requested_by_contact_id_contacts"), type_="foreignkey"
        )
        batch_op.drop_index("ix_appointments_requested_by_contact_id")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("requested_at")
        batch_op.drop_column("requested_by_contact_id")

    with op.batch_alter_table("message_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_attachments_organization_id"))
        batch_op.drop_index(batch_op.f("ix_message_attachments_message_id"))

    op.drop_table("message_attachments")
    with op.batch_alter_table("job_photos", schema=None) as batch_op:
        batch_op.drop_index("ix_job_photos_uploaded_by_staff_id")
        batch_op.drop_index(batch_op.f("ix_job_photos_organization_id"))
        batch_op.drop_index("ix_job_photos_job_id_position")

    op.drop_table("job_photos")
    with op.batch_alter_table("car_photos", schema=None) as batch_op:
        batch_op.drop_index("ix_car_photos_uploaded_by_staff_id")
        batch_op.drop_index("ix_car_photos_uploaded_by_contact_id")
        batch_op.drop_index(batch_op.f("ix_car_photos_organization_id"))
        batch_op.drop_index(batch_op.f("ix_car_photos_condition_report_id"))
        batch_op.drop_index("ix_car_photos_car_id_position")

    op.drop_table("car_photos")
    with op.batch_alter_table("telematics_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telematics_readings_organization_id"))
        batch_op.drop_index("ix_telematics_readings_integration_key_id")
        batch_op.drop_index("ix_telematics_readings_car_id_recorded_at")

    op.drop_table("telematics_readings")
    with op.batch_alter_table("maintenance_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_schedules_organization_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_schedules_car_id"))

    op.drop_table("maintenance_schedules")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_organization_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_customer_id"))
        batch_op.drop_index("ix_jobs_car_id_status")

    op.drop_table("jobs")
    with op.batch_alter_table("access_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_access_logs_subject")
        batch_op.drop_index(batch_op.f("ix_access_logs_organization_id"))
        batch_op.drop_index(batch_op.f("ix_access_logs_customer_id"))
        batch_op.drop_index("ix_access_logs_contact_id")

    op.drop_table("access_logs")
    with op.batch_alter_table("integration_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_keys_organization_id"))
        batch_op.drop_index("ix_integration_keys_created_by_staff_id")

    op.drop_table("integration_keys")
