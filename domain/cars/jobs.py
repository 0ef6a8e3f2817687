"""Staff work on jobs (work orders) and maintenance schedules.

Completing a job records it in the car's history, moves the schedules it covered on, and
tells the customer their car is ready.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.ids import encode_id
from core.settings import Settings
from domain.audit import audit
from domain.cars.cars import customer_car
from domain.cars.codes import CarCode
from domain.cars.updates import car_news, text_car_ready
from domain.edits import KEEP, Edit, changes
from domain.notifications import for_customer
from domain.problems import Common, Problem, Rejected
from domain.rows import locked, organization_of
from domain.uploads.received import Purpose, kept, receive_file
from domain.work import Work
from models import Car, CarEvent, Customer, Job, JobPhoto, MaintenanceSchedule, Organization
from models.enums import (
    CarEventKind,
    JobKind,
    JobStatus,
    NotificationKind,
    PhotoStage,
)
from models.types import utcnow
from models.writes import apply

# What a completed job adds to the car's history.
HISTORY_KIND = {
    JobKind.DETAILING: CarEventKind.DETAILING,
    JobKind.STORAGE_CHECK_IN: CarEventKind.CHECK_IN,
    JobKind.STORAGE_CHECK_OUT: CarEventKind.CHECK_OUT,
}
OPEN = (JobStatus.SCHEDULED, JobStatus.IN_PROGRESS)


@dataclass(frozen=True)
class JobDetails:
    """A job's own fields, as checked at the edge; KEEP leaves one as it is."""

    title: Edit[str] = KEEP
    kind: Edit[JobKind] = KEEP
    scheduled_start: Edit[datetime | None] = KEEP
    scheduled_end: Edit[datetime | None] = KEEP
    customer_notes: Edit[str | None] = KEEP
    internal_notes: Edit[str | None] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(**{name: getattr(self, name) for name in self.__dataclass_fields__})


@dataclass(frozen=True)
class ScheduleDetails:
    """A maintenance schedule's fields, as checked at the edge; KEEP leaves one as it is."""

    name: Edit[str] = KEEP
    every_months: Edit[int | None] = KEEP
    every_miles: Edit[int | None] = KEEP
    last_done_on: Edit[date | None] = KEEP
    last_done_mileage: Edit[int | None] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(**{name: getattr(self, name) for name in self.__dataclass_fields__})


def _finished(message: str) -> Rejected:
    return Rejected(Problem("id", message, CarCode.NOT_EDITABLE))


async def create_job(
    work: Work, customer_id: uuid.UUID, details: JobDetails, car_id: Edit[uuid.UUID | None]
) -> uuid.UUID:
    """A job on a customer's car (one of theirs, or none)."""
    org_id = organization_of(work)
    async with work.write() as session:
        customer = await locked(session, Customer, org_id, customer_id)
        car = await customer_car(session, org_id, customer.id, car_id)
        job = Job(
            organization_id=org_id,
            customer_id=customer.id,
            car_id=None if car is KEEP else car,
            **details.values(),
        )
        session.add(job)
        session.add(
            audit(
                work, "job.created", customer_id=customer.id, subject_type="Job", subject_id=job.id
            )
        )
    return job.id


async def update_job(
    work: Work, job_id: uuid.UUID, details: JobDetails, car_id: Edit[uuid.UUID | None]
) -> uuid.UUID:
    """Change a job that is not finished."""
    async with work.write() as session:
        job = await locked(session, Job, work.viewer.organization_id, job_id)
        if job.status not in OPEN:
            raise _finished("A finished job cannot change.")
        values = details.values()
        car = await customer_car(session, job.organization_id, job.customer_id, car_id)
        if car is not KEEP:
            values["car_id"] = car
        apply(job, values)
    return job.id


async def start_job(work: Work, job_id: uuid.UUID) -> uuid.UUID:
    async with work.write() as session:
        job = await locked(session, Job, work.viewer.organization_id, job_id)
        if job.status is not JobStatus.SCHEDULED:
            raise _finished("Only a scheduled job can start.")
        apply(job, {"status": JobStatus.IN_PROGRESS, "started_at": utcnow()})
        car = await session.get(Car, job.car_id) if job.car_id else None
        text = f"work started: {job.title}"
        await car_news(session, job.organization_id, job.customer_id, car, text, work.clock.now)
    return job.id


async def cancel_job(work: Work, job_id: uuid.UUID) -> uuid.UUID:
    async with work.write() as session:
        job = await locked(session, Job, work.viewer.organization_id, job_id)
        if job.status not in OPEN:
            raise _finished("This job is already finished.")
        apply(job, {"status": JobStatus.CANCELLED})
        session.add(
            audit(
                work,
                "job.cancelled",
                customer_id=job.customer_id,
                subject_type="Job",
                subject_id=job.id,
            )
        )
    return job.id


async def complete_job(
    work: Work, job_id: uuid.UUID, mileage: int | None, schedule_ids: list[uuid.UUID]
) -> uuid.UUID:
    """Finish a job: it joins the car's history, the car's schedules it took care of move
    on, and the customer hears their car is ready."""
    async with work.write() as session:
        job = await locked(session, Job, work.viewer.organization_id, job_id)
        if job.status not in OPEN:
            raise _finished("This job is already finished.")
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
        assert org is not None  # the job's foreign key holds it
        car = None
        if job.car_id is not None:
            car = await session.get(Car, job.car_id, with_for_update=True)
            assert car is not None  # the job's foreign key holds it
            today = work.clock.today(org.timezone)
            await _record_on_car(session, car, job, mileage, schedule_ids, today)
        await _tell_customer_car_is_ready(session, work.settings, org, job, car, work.clock.now)
        session.add(
            audit(
                work,
                "job.completed",
                customer_id=job.customer_id,
                subject_type="Job",
                subject_id=job.id,
            )
        )
    return job.id


async def _record_on_car(
    session: AsyncSession,
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
                col(MaintenanceSchedule.id).in_(schedule_ids),
                col(MaintenanceSchedule.car_id) == car.id,
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
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    job: Job,
    car: Car | None,
    now: datetime,
) -> None:
    """An in-app notification and, to those who chose it, a text at once; the email joins
    the car updates (domain/cars/updates.py)."""
    title = f"Your car is ready: {job.title}"
    session.add(for_customer(org, job.customer_id, NotificationKind.CAR_READY, title, job))
    text = f"finished: {job.title}" + (f". {job.customer_notes}" if job.customer_notes else "")
    await car_news(session, org.id, job.customer_id, car, text, now)
    await text_car_ready(session, settings, org, job.customer_id, car, job.title)


async def set_maintenance_schedule(
    work: Work,
    schedule_id: uuid.UUID | None,
    car_id: uuid.UUID | None,
    details: ScheduleDetails,
) -> uuid.UUID:
    """Change a schedule (`schedule_id`), or create one for a car; it cannot have been
    done later than today in the organization's zone."""
    org_id = organization_of(work)
    async with work.write() as session:
        org = await session.get(Organization, org_id)
        done_on = details.last_done_on
        if isinstance(done_on, date) and org and done_on > work.clock.today(org.timezone):
            raise Rejected(Problem("lastDoneOn", "This date is in the future.", Common.INVALID))
        values = details.values()
        if schedule_id is not None:
            schedule = await locked(session, MaintenanceSchedule, org_id, schedule_id)
            apply(schedule, values)
        else:
            assert car_id is not None  # one of the two names what to write
            car = await locked(session, Car, org_id, car_id)
            schedule = MaintenanceSchedule(organization_id=org_id, car_id=car.id, **values)
            session.add(schedule)
    return schedule.id


async def upload_job_photo(
    work: Work,
    job_id: uuid.UUID,
    file: object,
    stage: PhotoStage,
    caption: str | None,
    taken_at: datetime | None,
) -> uuid.UUID:
    """A photo for the job's gallery, last in the gallery (its stage says before or after)."""
    org = organization_of(work)
    storage, received = await receive_file(work, file, Purpose.PHOTO, "job-photos")
    async with kept(storage, received), work.write() as session:
        job = await locked(session, Job, org, job_id)
        count = await session.execute(
            sa.select(sa.func.count()).where(col(JobPhoto.job_id) == job.id)
        )
        photo = JobPhoto(
            organization_id=org,
            job_id=job.id,
            stage=stage,
            caption=caption,
            taken_at=taken_at,
            position=int(count.scalar_one()),
            uploaded_by_staff_id=work.viewer.staff_user_id,
            **received.columns(),
        )
        session.add(photo)
    return photo.id
