"""Appointments: scheduled visits and sessions for a customer and car."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import AppointmentKind, AppointmentStatus
from models.types import UTCDateTime


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
