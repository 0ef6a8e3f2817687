"""Jobs (work orders) on a customer's car, and their photo galleries."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import JobKind, JobStatus, PhotoStage
from models.files import FileColumns


class Job(TenantRow, table=True):
    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_car_id_status", "car_id", "status"),)

    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    car_id: uuid.UUID | None = Field(default=None, foreign_key="cars.id")
    kind: JobKind = enum_field(JobKind, default=JobKind.SERVICE)
    status: JobStatus = enum_field(JobStatus, default=JobStatus.SCHEDULED)
    title: str = Field(max_length=200)
    scheduled_start: datetime | None = utc_field()
    scheduled_end: datetime | None = utc_field()
    started_at: datetime | None = utc_field()
    completed_at: datetime | None = utc_field()
    mileage: int | None = Field(default=None, ge=0)  # odometer when completed
    customer_notes: str | None = Field(default=None, max_length=5000)  # shared with the customer
    internal_notes: str | None = Field(default=None, max_length=10000)


class JobPhoto(TenantRow, FileColumns, table=True):
    __tablename__ = "job_photos"
    __table_args__ = (sa.Index("ix_job_photos_job_id_position", "job_id", "position"),)

    job_id: uuid.UUID = Field(foreign_key="jobs.id")
    stage: PhotoStage = enum_field(PhotoStage, default=PhotoStage.PROGRESS)
    caption: str | None = Field(default=None, max_length=500)
    taken_at: datetime | None = utc_field()
    position: int = Field(default=0)
    uploaded_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
