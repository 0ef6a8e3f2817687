"""Vehicles, what happened to them, and their inspections."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import CarEventKind, CarStatus, InspectionKind
from models.files import FileColumns
from models.types import PortableJSON, UTCDateTime


class Car(TenantRow, table=True):
    __tablename__ = "cars"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "vin"),
        # The car list's order (models/relations.py CARS_BY_MAKE).
        sa.Index("ix_cars_organization_id_make_model_id", "organization_id", "make", "model", "id"),
    )

    customer_id: uuid.UUID | None = Field(default=None, foreign_key="customers.id", index=True)
    make: str = Field(max_length=80)
    model: str = Field(max_length=80)
    year: int | None = Field(default=None)
    vin: str | None = Field(default=None, max_length=17)
    license_plate: str | None = Field(default=None, max_length=20)
    color: str | None = Field(default=None, max_length=40)
    status: CarStatus = enum_field(CarStatus, default=CarStatus.IN_STORAGE)
    mileage: int | None = Field(default=None, ge=0)
    storage_location: str | None = Field(default=None, max_length=100)
    internal_notes: str | None = Field(default=None, max_length=10000)
    archived_at: datetime | None = utc_field()


# Keys of CarEvent.data that name a row, with the row's GraphQL type: stored as global ids
# (never raw row ids), shown to staff only. A portal viewer may be a car's later owner,
# and must see nothing of the customers before them (schema/cars.py, planner/computed.py).
CAR_EVENT_REFERENCES = {
    "from": "Customer",
    "to": "Customer",
    "job_id": "Job",
    "condition_report_id": "ConditionReport",
}


class CarEvent(TenantRow, table=True):
    __tablename__ = "car_events"
    __table_args__ = (sa.Index("ix_car_events_car_id_occurred_at", "car_id", "occurred_at"),)

    car_id: uuid.UUID = Field(foreign_key="cars.id", index=True)
    kind: CarEventKind = enum_field(CarEventKind)
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    notes: str | None = Field(default=None, max_length=5000)
    internal: bool = Field(default=False)  # staff-only entries never reach the portal
    staff_user_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_type=PortableJSON)  # details by kind


class ConditionReport(TenantRow, table=True):
    __tablename__ = "condition_reports"

    car_id: uuid.UUID = Field(foreign_key="cars.id", index=True)
    inspected_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    inspector_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    inspector_name: str | None = Field(default=None, max_length=200)
    mileage: int | None = Field(default=None, ge=0)
    summary: str | None = Field(default=None, max_length=5000)
    # [{"area": "Front bumper", "rating": 1-5, "notes": "..."}]
    items: list[dict[str, Any]] = Field(default_factory=list, sa_type=PortableJSON)
    kind: InspectionKind = enum_field(InspectionKind, default=InspectionKind.CONDITION)
    internal_notes: str | None = Field(default=None, max_length=10000)
    submitted_by_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")
    defects_found: bool = Field(default=False)


class CarPhoto(TenantRow, FileColumns, table=True):
    """A photo of a car, in the car's gallery or attached to one of its condition reports."""

    __tablename__ = "car_photos"
    __table_args__ = (sa.Index("ix_car_photos_car_id_position", "car_id", "position"),)

    car_id: uuid.UUID = Field(foreign_key="cars.id")
    condition_report_id: uuid.UUID | None = Field(
        default=None, foreign_key="condition_reports.id", index=True
    )
    caption: str | None = Field(default=None, max_length=500)
    taken_at: datetime | None = utc_field()
    position: int = Field(default=0)
    visible_in_portal: bool = Field(default=True)
    uploaded_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    uploaded_by_contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id")


class MaintenanceSchedule(TenantRow, table=True):
    """Recurring work on a car: every N months and/or every N miles."""

    __tablename__ = "maintenance_schedules"

    car_id: uuid.UUID = Field(foreign_key="cars.id", index=True)
    name: str = Field(max_length=200)
    every_months: int | None = Field(default=None, ge=1)
    every_miles: int | None = Field(default=None, ge=1)
    last_done_on: date | None = Field(default=None)
    last_done_mileage: int | None = Field(default=None, ge=0)


class TelematicsReading(TenantRow, table=True):
    """What a connected device reported for a car."""

    __tablename__ = "telematics_readings"
    __table_args__ = (
        sa.Index("ix_telematics_readings_car_id_recorded_at", "car_id", "recorded_at"),
    )

    car_id: uuid.UUID = Field(foreign_key="cars.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    odometer: int | None = Field(default=None, ge=0)
    engine_hours_tenths: int | None = Field(default=None, ge=0)  # 1234 is 123.4 hours
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    fault_codes: list[str] = Field(default_factory=list, sa_type=PortableJSON)
    integration_key_id: uuid.UUID | None = Field(default=None, foreign_key="integration_keys.id")
