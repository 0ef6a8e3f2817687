"""Jobs and maintenance schedules from the API: the input checked and its IDs decoded, the
domain's actions called (domain/cars/jobs.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.cars import jobs
from domain.cars.jobs import JobDetails, ScheduleDetails
from domain.problems import Common
from resolvers.inputs import decoded_id, kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.jobs import (
        CompleteJobInput,
        CreateJobInput,
        JobFields,
        JobInput,
        MaintenanceScheduleInput,
        UpdateJobInput,
        UploadJobPhotoInput,
    )


def _job_details(checks: Checks, data: JobFields) -> JobDetails:
    details = JobDetails(
        title=kept(checks.text("title", data.title, 200, required=True)),
        kind=kept(given(data.kind)),
        scheduled_start=kept(data.scheduled_start),
        scheduled_end=kept(data.scheduled_end),
        customer_notes=kept(checks.text("customerNotes", data.customer_notes, 5000)),
        internal_notes=kept(checks.text("internalNotes", data.internal_notes, 10000)),
    )
    start, end = details.scheduled_start, details.scheduled_end
    aware: list[datetime] = []
    for moment, field in ((start, "scheduledStart"), (end, "scheduledEnd")):
        if isinstance(moment, datetime) and moment.tzinfo is None:
            checks.fail(field, "Give the time's offset.")
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            aware.append(moment)
    # Compared only when both name their offset: a naive time is not comparable to another.
    if len(aware) == 2 and aware[1] <= aware[0]:
        checks.fail("scheduledEnd", "The end must come after the start.")
    return details


@mutation_outcome
async def create_job(info: Info, data: CreateJobInput) -> uuid.UUID:
    checks = Checks(creating=True)
    details = _job_details(checks, data)
    checks.done()
    customer_id = decode_id_of("Customer", data.customer_id)
    car_id = decoded_id("Car", data.car_id)
    return await jobs.create_job(info.context, customer_id, details, car_id)


@mutation_outcome
async def update_job(info: Info, data: UpdateJobInput) -> uuid.UUID:
    checks = Checks(creating=False)
    details = _job_details(checks, data)
    checks.done()
    job_id = decode_id_of("Job", data.id)
    return await jobs.update_job(info.context, job_id, details, decoded_id("Car", data.car_id))


@mutation_outcome
async def start_job(info: Info, data: JobInput) -> uuid.UUID:
    return await jobs.start_job(info.context, decode_id_of("Job", data.id))


@mutation_outcome
async def cancel_job(info: Info, data: JobInput) -> uuid.UUID:
    return await jobs.cancel_job(info.context, decode_id_of("Job", data.id))


@mutation_outcome
async def complete_job(info: Info, data: CompleteJobInput) -> uuid.UUID:
    checks = Checks()
    mileage = checks.non_negative("mileage", data.mileage)
    schedule_ids = [
        decode_id_of("MaintenanceSchedule", gid) for gid in data.maintenance_schedule_ids
    ]
    checks.done()
    job_id = decode_id_of("Job", data.id)
    return await jobs.complete_job(info.context, job_id, mileage, schedule_ids)


def _schedule_details(checks: Checks, data: MaintenanceScheduleInput) -> ScheduleDetails:
    details = ScheduleDetails(
        name=kept(checks.text("name", data.name, 200, required=True)),
        every_months=kept(data.every_months),
        every_miles=kept(data.every_miles),
        last_done_on=kept(data.last_done_on),
        last_done_mileage=kept(checks.non_negative("lastDoneMileage", data.last_done_mileage)),
    )
    intervals = (
        (details.every_months, "everyMonths"),
        (details.every_miles, "everyMiles"),
    )
    for value, name in intervals:
        if isinstance(value, int) and value < 1:
            checks.fail(name, "Use a positive interval.")
    if not any(isinstance(value, int) and value for value, _ in intervals):
        checks.fail(
            "everyMonths", "Give an interval in months, in miles, or both.", Common.REQUIRED
        )
    return details


@mutation_outcome
async def set_maintenance_schedule(info: Info, data: MaintenanceScheduleInput) -> uuid.UUID:
    """Create a schedule for a car, or change one (when `id` is given)."""
    checks = Checks(creating=True)
    details = _schedule_details(checks, data)
    if not data.id and data.car_id is None:  # a new schedule is for a car
        checks.fail("carId", "This field is required.", Common.REQUIRED)
    checks.done()
    schedule_id = decode_id_of("MaintenanceSchedule", data.id) if data.id else None
    car_id = None if data.id or data.car_id is None else decode_id_of("Car", data.car_id)
    return await jobs.set_maintenance_schedule(info.context, schedule_id, car_id, details)


@mutation_outcome
async def upload_job_photo(info: Info, data: UploadJobPhotoInput) -> uuid.UUID:
    """A photo for the job's gallery, last in the gallery (its stage says before or after)."""
    job_id = decode_id_of("Job", data.job_id)
    checks = Checks(creating=True)
    caption = checks.text("caption", data.caption, 500)
    checks.done()
    return await jobs.upload_job_photo(
        info.context, job_id, data.file, data.stage, caption, data.taken_at
    )
