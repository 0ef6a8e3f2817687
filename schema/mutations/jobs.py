"""Mutations on the work done on cars: jobs, maintenance schedules, condition reports, car
history, and drivers' trip inspections."""

from datetime import date, datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info
from strawberry.file_uploads import Upload

from auth.permissions import portal_only, staff_only
from domain.cars.codes import CarCode
from domain.uploads.codes import UploadCode
from resolvers import inspections, jobs
from resolvers.outcome import Outcome
from schema.cars import CarEvent, ConditionReport
from schema.common import INPUT, UserError
from schema.enums import CarEventKind, InspectionKind, JobKind, PhotoStage
from schema.error_codes import code_field, error_codes_of
from schema.jobs import Job, JobPhoto, MaintenanceSchedule
from schema.payloads import P, payload

WorkErrorCode = error_codes_of(
    "WorkErrorCode", (CarCode, UploadCode), "Why a mutation on cars' work was refused."
)


@strawberry.type(description="A problem with the input of a mutation on cars' work.")
class WorkError(UserError):
    code: Enum = code_field(WorkErrorCode)


@strawberry.input(description="Details of a job. Omitted fields keep their value.")
class JobFields:
    title: str | None = strawberry.field(default=UNSET, description="What is to be done.")
    kind: JobKind | None = strawberry.field(default=UNSET, description="Service, repair...")
    car_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The customer's car; null clears it."
    )
    scheduled_start: datetime | None = strawberry.field(default=UNSET, description="Start.")
    scheduled_end: datetime | None = strawberry.field(default=UNSET, description="End.")
    customer_notes: str | None = strawberry.field(
        default=UNSET, description="Notes the customer sees."
    )
    internal_notes: str | None = strawberry.field(default=UNSET, description="Staff-only notes.")


@strawberry.input(description="A new job.")
class CreateJobInput(JobFields):
    customer_id: strawberry.ID = strawberry.field(description="Whose car it is.")


@strawberry.input(description="Changes to an open job.")
class UpdateJobInput(JobFields):
    id: strawberry.ID = strawberry.field(description="The job's global ID.")


@strawberry.input(description="A job to act on.")
class JobInput:
    id: strawberry.ID = strawberry.field(description="The job's global ID.")


@strawberry.input(description="Finish a job.")
class CompleteJobInput:
    id: strawberry.ID = strawberry.field(description="The job's global ID.")
    mileage: int | None = strawberry.field(default=None, description="Odometer at completion.")
    maintenance_schedule_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Schedules of the car this job took care of."
    )


@strawberry.input(description="A maintenance schedule to create (with carId) or change (id).")
class MaintenanceScheduleInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="To change one.")
    car_id: strawberry.ID | None = strawberry.field(default=None, description="To create one.")
    name: str | None = strawberry.field(default=UNSET, description="What is due.")
    every_months: int | None = strawberry.field(default=UNSET, description="Interval, months.")
    every_miles: int | None = strawberry.field(default=UNSET, description="Interval, miles.")
    last_done_on: date | None = strawberry.field(default=UNSET, description="Last done on.")
    last_done_mileage: int | None = strawberry.field(
        default=UNSET, description="Odometer when last done."
    )


@strawberry.input(description="One inspected area.")
class ConditionItemInput:
    area: str = strawberry.field(description="What was inspected.")
    rating: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    notes: str | None = strawberry.field(default=None, description="What was seen.")


@strawberry.input(description="A staff condition report.")
class CreateConditionReportInput:
    car_id: strawberry.ID = strawberry.field(description="The car inspected.")
    items: list[ConditionItemInput] = strawberry.field(description="Areas with ratings.")
    inspected_at: datetime | None = strawberry.field(default=None, description="When; now.")
    inspector_name: str | None = strawberry.field(default=None, description="Who inspected.")
    mileage: int | None = strawberry.field(default=None, description="Odometer reading.")
    summary: str | None = strawberry.field(default=None, description="Findings, shared.")
    internal_notes: str | None = strawberry.field(default=None, description="Staff only.")


@strawberry.input(description="A driver's pre- or post-trip inspection of a car.")
class SubmitInspectionInput:
    car_id: strawberry.ID = strawberry.field(description="The car inspected.")
    kind: InspectionKind = strawberry.field(description="PRE_TRIP or POST_TRIP.")
    items: list[ConditionItemInput] = strawberry.field(description="Areas with ratings.")
    defects_found: bool = strawberry.field(default=False, description="A defect was found.")
    mileage: int | None = strawberry.field(default=None, description="Odometer reading.")
    notes: str | None = strawberry.field(default=None, description="What the driver saw.")


@strawberry.input(description="Something that happened to a car.")
class RecordCarEventInput:
    car_id: strawberry.ID = strawberry.field(description="The car.")
    kind: CarEventKind = strawberry.field(description="Check-in, service, detailing, note...")
    occurred_at: datetime | None = strawberry.field(default=None, description="When; now.")
    notes: str | None = strawberry.field(default=None, description="What happened.")
    internal: bool = strawberry.field(default=False, description="Keep it from the portal.")


@strawberry.input(description="A photo for a job's gallery.")
class UploadJobPhotoInput:
    job_id: strawberry.ID = strawberry.field(description="The job's global ID.")
    file: Upload = strawberry.field(
        description="The image, as a multipart upload: JPEG, PNG, HEIC or WebP."
    )
    stage: PhotoStage = strawberry.field(
        default=PhotoStage.PROGRESS, description="Before, progress or after."
    )
    caption: str | None = strawberry.field(default=None, description="What it shows.")
    taken_at: datetime | None = strawberry.field(default=None, description="When (UTC).")


@strawberry.type(description="The result of a job photo upload.")
class JobPhotoPayload:
    photo: JobPhoto | None = strawberry.field(description="The photo, when it worked.")
    user_errors: list[WorkError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of a job mutation.")
class JobPayload:
    job: Job | None = strawberry.field(description="The job, when it worked.")
    user_errors: list[WorkError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of a maintenance schedule mutation.")
class MaintenanceSchedulePayload:
    maintenance_schedule: MaintenanceSchedule | None = strawberry.field(description="It.")
    user_errors: list[WorkError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of an inspection mutation.")
class ConditionReportPayload:
    condition_report: ConditionReport | None = strawberry.field(description="The report.")
    user_errors: list[WorkError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of recording a car event.")
class CarEventPayload:
    event: CarEvent | None = strawberry.field(description="The event.")
    user_errors: list[WorkError] = strawberry.field(description="Problems with the input.")


async def _payload(info: Info, cls: type[P], outcome: Outcome, type_name: str, field: str) -> P:
    return await payload(
        info,
        cls,
        outcome,
        type_name=type_name,
        object_field=field,
        error_cls=WorkError,
        codes=WorkErrorCode,
    )


async def _job(info: Info, outcome: Outcome) -> JobPayload:
    return await _payload(info, JobPayload, outcome, "Job", "job")


@strawberry.type
class WorkMutations:
    @strawberry.mutation(description="Open a job on a customer's car.", extensions=staff_only())
    async def create_job(self, info: Info, input: Annotated[CreateJobInput, INPUT]) -> JobPayload:
        return await _job(info, await jobs.create_job(info, input))

    @strawberry.mutation(description="Change an open job.", extensions=staff_only())
    async def update_job(self, info: Info, input: Annotated[UpdateJobInput, INPUT]) -> JobPayload:
        return await _job(info, await jobs.update_job(info, input))

    @strawberry.mutation(description="Start a scheduled job.", extensions=staff_only())
    async def start_job(self, info: Info, input: Annotated[JobInput, INPUT]) -> JobPayload:
        return await _job(info, await jobs.start_job(info, input))

    @strawberry.mutation(
        description="Finish a job: it joins the car's history and maintenance history, the "
        "schedules it covered move on, and the customer hears their car is ready.",
        extensions=staff_only(),
    )
    async def complete_job(
        self, info: Info, input: Annotated[CompleteJobInput, INPUT]
    ) -> JobPayload:
        return await _job(info, await jobs.complete_job(info, input))

    @strawberry.mutation(
        description="Add a photo to a job's gallery (send as a multipart upload).",
        extensions=staff_only(),
    )
    async def upload_job_photo(
        self, info: Info, input: Annotated[UploadJobPhotoInput, INPUT]
    ) -> JobPhotoPayload:
        outcome = await jobs.upload_job_photo(info, input)
        return await _payload(info, JobPhotoPayload, outcome, "JobPhoto", "photo")

    @strawberry.mutation(description="Cancel an open job.", extensions=staff_only())
    async def cancel_job(self, info: Info, input: Annotated[JobInput, INPUT]) -> JobPayload:
        return await _job(info, await jobs.cancel_job(info, input))

    @strawberry.mutation(
        description="Create or change a car's maintenance schedule.", extensions=staff_only()
    )
    async def set_maintenance_schedule(
        self, info: Info, input: Annotated[MaintenanceScheduleInput, INPUT]
    ) -> MaintenanceSchedulePayload:
        outcome = await jobs.set_maintenance_schedule(info, input)
        return await _payload(
            info,
            MaintenanceSchedulePayload,
            outcome,
            "MaintenanceSchedule",
            "maintenance_schedule",
        )

    @strawberry.mutation(
        description="Record a condition report: rated items, mileage, findings.",
        extensions=staff_only(),
    )
    async def create_condition_report(
        self, info: Info, input: Annotated[CreateConditionReportInput, INPUT]
    ) -> ConditionReportPayload:
        outcome = await inspections.create_condition_report(info, input)
        return await _payload(
            info, ConditionReportPayload, outcome, "ConditionReport", "condition_report"
        )

    @strawberry.mutation(
        description="Add to a car's history: check-in, check-out, service, detailing, photo "
        "session or a note.",
        extensions=staff_only(),
    )
    async def record_car_event(
        self, info: Info, input: Annotated[RecordCarEventInput, INPUT]
    ) -> CarEventPayload:
        outcome = await inspections.record_car_event(info, input)
        return await _payload(info, CarEventPayload, outcome, "CarEvent", "event")

    @strawberry.mutation(
        description="Submit a pre- or post-trip inspection of a car you drive (DVIR); staff "
        "hear of any defect.",
        extensions=portal_only(),
    )
    async def submit_inspection(
        self, info: Info, input: Annotated[SubmitInspectionInput, INPUT]
    ) -> ConditionReportPayload:
        outcome = await inspections.submit_inspection(info, input)
        return await _payload(
            info, ConditionReportPayload, outcome, "ConditionReport", "condition_report"
        )
