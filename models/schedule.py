"""Appointments: scheduled visits and sessions for a customer and car."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import TenantRow, enum_field, new_id, utc_field
from models.enums import AppointmentKind, AppointmentStatus
from models.types import UTCDateTime, utcnow


class Appointment(TenantRow, table=True):
    __tablename__ = "appointments"
    __table_args__ = (
        sa.Index("ix_appointments_customer_id_starts_at", "customer_id", "starts_at"),
        sa.Index("ix_appointments_organization_id_starts_at", "organization_id", "starts_at"),
    )

    customer_id: uuid.UUID = Field(foreign_key="customers.id")
    car_id: uuid.UUID | None = Field(default=None, foreign_key="cars.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    kind: AppointmentKind = enum_field(AppointmentKind, default=AppointmentKind.OTHER)
    status: AppointmentStatus = enum_field(AppointmentStatus, default=AppointmentStatus.SCHEDULED)
    title: str = Field(max_length=200)
    notes: str | None = Field(default=None, max_length=5000)
    internal_notes: str | None = Field(default=None, max_length=10000)
    requested_by_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    requested_at: datetime | None = utc_field()
    cancelled_at: datetime | None = utc_field()


class AppointmentReminder(SQLModel, table=True):
    """A reminder of an appointment at one start time, written in the same transaction as
    its emails (or as the scheduling email that made it unnecessary). (appointment_id,
    starts_at) is unique, so however many schedulers run, an appointment is reminded once
    per time it is set for; moved, it is reminded again of the new time."""

    __tablename__ = "appointment_reminders"
    __table_args__ = (sa.UniqueConstraint("appointment_id", "starts_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    appointment_id: uuid.UUID = Field(foreign_key="appointments.id")
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    emails: int = Field(default=0)  # how many were queued; 0 when another email stood in
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
