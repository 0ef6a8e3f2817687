"""Jobs (work orders), maintenance schedules and telematics readings of cars."""

from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry import Info

from auth.downloads import JOB_PHOTO
from auth.permissions import staff_only
from models import relations as rel
from models import tables
from models.maintenance import is_due, next_due_mileage, next_due_on
from resolvers.access_log import link
from schema.enums import JobKind, JobStatus, PhotoStage
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, load_row, row_type


@row_type(tables.jobs)
@strawberry.type(description="A job (work order) on a customer's car: service, repair, detailing.")
class Job(RowType, Node):
    kind: JobKind = strawberry.field(description="What the job is for.")
    status: JobStatus = strawberry.field(description="Scheduled, in progress, completed.")
    title: str = strawberry.field(description="Short description of the work.")
    scheduled_start: datetime | None = strawberry.field(description="Planned start (UTC).")
    scheduled_end: datetime | None = strawberry.field(description="Planned end (UTC).")
    started_at: datetime | None = strawberry.field(description="When work started (UTC).")
    completed_at: datetime | None = strawberry.field(description="When it was completed (UTC).")
    mileage: int | None = strawberry.field(description="Odometer reading when completed.")
    customer_notes: str | None = strawberry.field(description="Notes shared with the customer.")
    internal_notes: str | None = strawberry.field(
        description="Notes for staff only.", extensions=staff_only()
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    customer = object_field("customer_id", "Customer", "schema.customers", "Whose car it is.")
    car = object_field("car_id", "Car", "schema.cars", "The car worked on.")
    photos = connection_field(
        rel.JOB_PHOTOS, "JobPhoto", __name__, "The job's gallery: before, progress, after."
    )


@row_type(tables.job_photos)
@strawberry.type(description="A photo of the work on a job, with its stage and caption.")
class JobPhoto(RowType, Node):
    stage: PhotoStage = strawberry.field(description="Before, progress or after.")
    caption: str | None = strawberry.field(description="What the photo shows.")
    taken_at: datetime | None = strawberry.field(description="When it was taken (UTC).")
    position: int = strawberry.field(description="Order in the job's gallery, from 0.")
    content_type: str = strawberry.field(description="MIME type, e.g. image/jpeg.")
    created_at: datetime = strawberry.field(description="When it was uploaded (UTC).")

    job = object_field("job_id", "Job", __name__, "The job.")

    @strawberry.field(
        description="A link to the image, valid for a few minutes; it checks the viewer again "
        "when opened."
    )
    async def url(self, info: Info) -> str:
        return await link(info, JOB_PHOTO, self.pk)


@row_type(tables.maintenance_schedules)
@strawberry.type(description="Recurring work on a car, every so many months and/or miles.")
class MaintenanceSchedule(RowType, Node):
    name: str = strawberry.field(description="What is due, e.g. Oil change.")
    every_months: int | None = strawberry.field(description="Interval in months.")
    every_miles: int | None = strawberry.field(description="Interval in miles.")
    last_done_on: date | None = strawberry.field(description="When it was last done.")
    last_done_mileage: int | None = strawberry.field(description="Odometer when last done.")

    car = object_field("car_id", "Car", "schema.cars", "The car.")

    @strawberry.field(description="The date it is next due, if it goes by months.")
    def next_due_on(self) -> date | None:
        return next_due_on(self.row)

    @strawberry.field(description="The odometer reading at which it is next due, by miles.")
    def next_due_mileage(self) -> int | None:
        return next_due_mileage(self.row)

    @strawberry.field(description="Due now: the date has come or the car has done the miles.")
    async def is_due(self, info: Info) -> bool:
        car = await load_row(info, "Car", self.row["car_id"])
        mileage = car.row["mileage"] if car is not None else None
        return is_due(self.row, self.row["organization_today"], mileage)


@row_type(tables.telematics_readings)
@strawberry.type(description="What a car's connected device reported.")
class TelematicsReading(RowType, Node):
    recorded_at: datetime = strawberry.field(description="When the device took it (UTC).")
    odometer: int | None = strawberry.field(description="Odometer reading.")
    latitude: float | None = strawberry.field(description="Latitude, degrees.")
    longitude: float | None = strawberry.field(description="Longitude, degrees.")
    fault_codes: list[str] = strawberry.field(description="Diagnostic trouble codes reported.")

    car = object_field("car_id", "Car", "schema.cars", "The car.")

    @strawberry.field(description="Engine hours, to the tenth.")
    def engine_hours(self) -> Decimal | None:
        tenths = self.row["engine_hours_tenths"]
        return None if tenths is None else Decimal(tenths) / 10
