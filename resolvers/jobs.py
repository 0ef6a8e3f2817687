"""Staff work on jobs (work orders) and maintenance schedules.

Completing a job records it in the car's history, moves the schedules it covered on, and
tells the customer their car is ready.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, Info

from core.ids import decode_id_of, encode_id
from domain.audit import audit
from domain.notifications import for_customer
from mail.outbox import enqueue_to
from mail.recipients import recipients
from models import (
    Car,
    CarEvent,
    Customer,
    Job,
    JobPhoto,
    MaintenanceSchedule,
    Organization,
)
from models.enums import CarEventKind, JobKind, JobStatus, MailKind, NotificationKind
from models.types import utcnow
from models.writes import apply
from resolvers.bills import car_of
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rows import locked, tenant_row
from resolvers.uploads import Purpose, kept, receive_file
from resolvers.validation import Checks, Problem, changes, given

# What a completed job adds to the car's history.
HISTORY_KIND = {
    JobKind.DETAILING: CarEventKind.DETAILING,
    JobKind.STORAGE_CHECK_IN: CarEventKind.CHECK_IN,
    JobKind.STORAGE_CHECK_OUT: CarEventKind.CHECK_OUT,
}
OPEN = (JobStatus.SCHEDULED, JobStatus.IN_PROGRESS)


def _job_values(checks: Checks, data: Any) -> dict[str, Any]:
    values = changes(
        title=checks.text("title", data.title, 200, required=True),
        kind=given(data.kind),
        scheduled_start=data.scheduled_start,
        scheduled_end=data.scheduled_end,
        customer_notes=checks.text("customerNotes", data.customer_notes, 5000),
        internal_notes=checks.text("internalNotes", data.internal_notes, 10000),
    )
    for name, field in (("scheduled_start", "scheduledStart"), ("scheduled_end", "scheduledEnd")):
        moment = values.get(name)
        if moment is not None and moment.tzinfo is None:
            checks.fail(field, "Give the time's offset.")
    start, end = values.get("scheduled_start"), values.get("scheduled_end")
    if start and end and end <= start:
        checks.fail("scheduledEnd", "The end must come after the start.")
    return values


@mutation_outcome
async def create_job(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = _job_values(checks, data)
    checks.done()
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        customer = await tenant_row(session, Customer, org_id, data.customer_id)
        car_id = await car_of(session, org_id, customer.id, data.car_id)
        job = Job(
            organization_id=org_id,
            customer_id=customer.id,
            car_id=None if car_id is UNSET else car_id,
            **values,
        )
        session.add(job)
        session.add(
            audit(
                ctx, "job.created", customer_id=customer.id, subject_type="Job", subject_id=job.id
            )
        )
    return job.id


@mutation_outcome
async def update_job(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=False)
    values = _job_values(checks, data)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        job = await tenant_row(session, Job, ctx.viewer.organization_id, data.id)
        if job.status not in OPEN:
            raise Rejected(Problem("id", "A finished job cannot change.", "NOT_EDITABLE"))
        car_id = await car_of(session, job.organization_id, job.customer_id, data.car_id)
        if car_id is not UNSET:
            values["car_id"] = car_id
        apply(job, values)
    return job.id


@mutation_outcome
async def start_job(info: Info, data: Any) -> uuid.UUID:
    ctx = info.context
    async with ctx.write() as session:
        job = await tenant_row(session, Job, ctx.viewer.organization_id, data.id)
        if job.status is not JobStatus.SCHEDULED:
            raise Rejected(Problem("id", "Only a scheduled job can start.", "NOT_EDITABLE"))
        apply(job, {"status": JobStatus.IN_PROGRESS, "started_at": utcnow()})
    return job.id


@mutation_outcome
async def cancel_job(info: Info, data: Any) -> uuid.UUID:
    ctx = info.context
    async with ctx.write() as session:
        job = await tenant_row(session, Job, ctx.viewer.organization_id, data.id)
        if job.status not in OPEN:
            raise Rejected(Problem("id", "This job is already finished.", "NOT_EDITABLE"))
        apply(job, {"status": JobStatus.CANCELLED})
        session.add(
            audit(
                ctx,
                "job.cancelled",
                customer_id=job.customer_id,
                subject_type="Job",
                subject_id=job.id,
            )
        )
    return job.id


@mutation_outcome
async def complete_job(info: Info, data: Any) -> uuid.UUID:
    checks = Checks()
    mileage = checks.non_negative("mileage", data.mileage)
    schedule_ids = [
        decode_id_of("MaintenanceSchedule", gid) for gid in data.maintenance_schedule_ids
    ]
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        job = await tenant_row(session, Job, ctx.viewer.organization_id, data.id)
        if job.status not in OPEN:
            raise Rejected(Problem("id", "This job is already finished.", "NOT_EDITABLE"))
        now = utcnow()
        apply(
            job,
            {
                "status": JobStatus.COMPLETED,
                "completed_at": now,
                "mileage": mileage,
                "started_at": job.started_at or now,
            },
        )
        org = await session.get(Organization, job.organization_id)
        if job.car_id is not None:
            car = await session.get(Car, job.car_id, with_for_update=True)
            today = ctx.clock.today(org.timezone)
            await _record_on_car(session, org, car, job, mileage, schedule_ids, today)
        await _tell_customer_car_is_ready(session, ctx.settings, org, job)
        session.add(
            audit(
                ctx,
                "job.completed",
                customer_id=job.customer_id,
                subject_type="Job",
                subject_id=job.id,
            )
        )
    return job.id


async def _record_on_car(
    session: AsyncSession,
    org: Organization,
    car: Car,
    job: Job,
    mileage: int | None,
    schedule_ids: list[uuid.UUID],
    today: date,
) -> None:
    kind = HISTORY_KIND.get(job.kind, CarEventKind.SERVICE)
    session.add(
        CarEvent(
            organization_id=car.organization_id,
            car_id=car.id,
            kind=kind,
            occurred_at=job.completed_at or utcnow(),
            notes=job.customer_notes or job.title,
            staff_user_id=None,
            data={"job_id": encode_id("Job", job.id), "title": job.title},
        )
    )
    if mileage is not None and (car.mileage is None or mileage > car.mileage):
        car.mileage = mileage  # odometers only go up
        car.updated_at = utcnow()
    if schedule_ids:
        found = await session.execute(
            sa.select(MaintenanceSchedule).where(
                MaintenanceSchedule.id.in_(schedule_ids),
                MaintenanceSchedule.car_id == car.id,
            )
        )
        for schedule in found.scalars():
            apply(
                schedule,
                {
                    "last_done_on": today,
                    "last_done_mileage": mileage or schedule.last_done_mileage,
                },
            )


async def _tell_customer_car_is_ready(
    session: AsyncSession, settings: Any, org: Organization, job: Job
) -> None:
    title = f"Your car is ready: {job.title}"
    session.add(for_customer(org, job.customer_id, NotificationKind.CAR_READY, title, job))
    people = await recipients(session, job.customer_id, MailKind.CAR_UPDATES, car_id=job.car_id)
    paragraphs = [f"{org.name} has finished: {job.title}."]
    if job.customer_notes:
        paragraphs.append(job.customer_notes)
    await enqueue_to(
        session,
        org,
        MailKind.CAR_UPDATES,
        people,
        title,
        paragraphs,
        ("See the details", f"{settings.portal_base}/cars"),
    )


def _schedule_values(checks: Checks, data: Any) -> dict[str, Any]:
    values = changes(
        name=checks.text("name", data.name, 200, required=True),
        every_months=data.every_months,
        every_miles=data.every_miles,
        last_done_on=data.last_done_on,
        last_done_mileage=checks.non_negative("lastDoneMileage", data.last_done_mileage),
    )
    for field, name in (("every_months", "everyMonths"), ("every_miles", "everyMiles")):
        if values.get(field) is not None and values[field] < 1:
            checks.fail(name, "Use a positive interval.")
    if not values.get("every_months") and not values.get("every_miles"):
        checks.fail("everyMonths", "Give an interval in months, in miles, or both.", "REQUIRED")
    return values


@mutation_outcome
async def set_maintenance_schedule(info: Info, data: Any) -> uuid.UUID:
    """Create a schedule for a car, or change one (when `id` is given)."""
    checks = Checks(creating=True)
    values = _schedule_values(checks, data)
    checks.done()
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        org = await session.get(Organization, org_id)
        done_on = values.get("last_done_on")
        if done_on and org is not None and done_on > ctx.clock.today(org.timezone):
            raise Rejected(Problem("lastDoneOn", "This date is in the future.", "INVALID"))
        if data.id:
            schedule = await tenant_row(session, MaintenanceSchedule, org_id, data.id)
            apply(schedule, values)
        else:
            car = await tenant_row(session, Car, org_id, data.car_id)
            schedule = MaintenanceSchedule(organization_id=org_id, car_id=car.id, **values)
            session.add(schedule)
    return schedule.id


@mutation_outcome
async def upload_job_photo(info: Info, data: Any) -> uuid.UUID:
    """A photo for the job's gallery, last in the gallery (its stage says before or after)."""
    job_id = decode_id_of("Job", data.job_id)
    checks = Checks(creating=True)
    caption = checks.text("caption", data.caption, 500)
    checks.done()
    ctx = info.context
    org = ctx.viewer.organization_id
    storage, received = await receive_file(ctx, data.file, Purpose.PHOTO, "job-photos")
    async with kept(storage, received), ctx.write() as session:
        job = await locked(session, Job, org, job_id)
        count = await session.execute(sa.select(sa.func.count()).where(JobPhoto.job_id == job.id))
        photo = JobPhoto(
            organization_id=org,
            job_id=job.id,
            stage=data.stage,
            caption=caption,
            taken_at=data.taken_at,
            position=int(count.scalar_one()),
            uploaded_by_staff_id=ctx.viewer.staff_user_id,
            **received.columns(),
        )
        session.add(photo)
    return photo.id
