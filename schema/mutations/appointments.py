"""Mutations on appointments: staff scheduling, and requests from the portal."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import portal_action, staff_only
from domain.schedule.codes import ScheduleCode
from resolvers import appointments as actions
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.enums import AppointmentKind, AppointmentStatus
from schema.error_codes import code_field, error_codes
from schema.payloads import payload
from schema.schedule import Appointment

NOTIFY = "Email the customer's people who want scheduling emails (default true)."


AppointmentErrorCode = error_codes(
    "AppointmentErrorCode", ScheduleCode, "Why an appointment mutation was refused."
)


@strawberry.type(description="A problem with an appointment mutation's input.")
class AppointmentError(UserError):
    code: Enum = code_field(AppointmentErrorCode)


@strawberry.input(description="Details of an appointment. Omitted fields keep their value.")
class AppointmentFields:
    car_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="One of the customer's cars; null for none."
    )
    starts_at: datetime | None = strawberry.field(
        default=UNSET, description="Start, with its UTC offset (required)."
    )
    ends_at: datetime | None = strawberry.field(
        default=UNSET, description="End, with its UTC offset, after the start (required)."
    )
    kind: AppointmentKind | None = strawberry.field(default=UNSET, description="What it is for.")
    title: str | None = strawberry.field(default=UNSET, description="Short title (required).")
    notes: str | None = strawberry.field(default=UNSET, description="Shown to the customer.")
    internal_notes: str | None = strawberry.field(default=UNSET, description="Staff-only notes.")
    status: AppointmentStatus | None = strawberry.field(
        default=UNSET,
        description="SCHEDULED (default for new ones), CONFIRMED, COMPLETED or NO_SHOW.",
    )
    notify_customer: bool = strawberry.field(default=True, description=NOTIFY)


@strawberry.input(description="A new appointment for a customer.")
class CreateAppointmentInput(AppointmentFields):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")


@strawberry.input(description="Changes to an appointment; a new time is a reschedule.")
class UpdateAppointmentInput(AppointmentFields):
    id: strawberry.ID = strawberry.field(description="The appointment's global ID.")


@strawberry.input(description="Cancel an appointment, or turn down a request.")
class CancelAppointmentInput:
    id: strawberry.ID = strawberry.field(description="The appointment's global ID.")
    reason: str | None = strawberry.field(
        default=None, description="Why; told to the customer (up to 1000 characters)."
    )
    notify_customer: bool = strawberry.field(default=True, description=NOTIFY)


@strawberry.input(description="Cancel one of your appointments (portal viewers).")
class CancelMyAppointmentInput:
    id: strawberry.ID = strawberry.field(description="The appointment's global ID.")
    reason: str | None = strawberry.field(
        default=None, description="Why, for the business (up to 1000 characters)."
    )


@strawberry.input(description="Move one of your appointments to another time (portal viewers).")
class RescheduleMyAppointmentInput:
    id: strawberry.ID = strawberry.field(description="The appointment's global ID.")
    starts_at: datetime = strawberry.field(description="The new start, with its UTC offset.")
    ends_at: datetime = strawberry.field(description="The new end, with its UTC offset.")


@strawberry.input(description="Accept a requested appointment, or confirm a scheduled one.")
class ConfirmAppointmentInput:
    id: strawberry.ID = strawberry.field(description="The appointment's global ID.")
    status: AppointmentStatus = strawberry.field(
        default=AppointmentStatus.CONFIRMED, description="SCHEDULED or CONFIRMED."
    )
    starts_at: datetime | None = strawberry.field(
        default=UNSET, description="Another start than the one asked for, with its UTC offset."
    )
    ends_at: datetime | None = strawberry.field(
        default=UNSET, description="Another end than the one asked for, with its UTC offset."
    )
    notify_customer: bool = strawberry.field(default=True, description=NOTIFY)


@strawberry.input(description="An appointment a portal viewer asks for; staff confirm it.")
class RequestAppointmentInput:
    starts_at: datetime = strawberry.field(description="Preferred start, with its UTC offset.")
    ends_at: datetime = strawberry.field(description="Preferred end, with its UTC offset.")
    kind: AppointmentKind | None = strawberry.field(
        default=None, description="What it is for (OTHER when not given)."
    )
    car_id: strawberry.ID | None = strawberry.field(
        default=None, description="The car, one of yours (required for drivers)."
    )
    title: str | None = strawberry.field(
        default=None, description="Short title; the kind's name when not given."
    )
    notes: str | None = strawberry.field(default=None, description="Anything staff should know.")


@strawberry.type(description="The result of an appointment mutation.")
class AppointmentPayload:
    appointment: Appointment | None = strawberry.field(description="The appointment.")
    user_errors: list[AppointmentError] = strawberry.field(description="Why nothing changed.")


async def appointment_payload(info: Info, outcome: Outcome) -> AppointmentPayload:
    return await payload(
        info,
        AppointmentPayload,
        outcome,
        type_name="Appointment",
        object_field="appointment",
        error_cls=AppointmentError,
        codes=AppointmentErrorCode,
    )


@strawberry.type
class AppointmentMutations:
    @strawberry.mutation(
        description="Schedule an appointment for a customer.", extensions=staff_only()
    )
    async def create_appointment(
        self, info: Info, input: Annotated[CreateAppointmentInput, INPUT]
    ) -> AppointmentPayload:
        return await appointment_payload(info, await actions.create_appointment(info, input))

    @strawberry.mutation(
        description="Change an appointment's details or time (a reschedule).",
        extensions=staff_only(),
    )
    async def update_appointment(
        self, info: Info, input: Annotated[UpdateAppointmentInput, INPUT]
    ) -> AppointmentPayload:
        return await appointment_payload(info, await actions.update_appointment(info, input))

    @strawberry.mutation(
        description="Cancel an appointment or turn down a request, with a reason.",
        extensions=staff_only(),
    )
    async def cancel_appointment(
        self, info: Info, input: Annotated[CancelAppointmentInput, INPUT]
    ) -> AppointmentPayload:
        return await appointment_payload(info, await actions.cancel_appointment(info, input))

    @strawberry.mutation(
        description="Accept a REQUESTED appointment (it becomes SCHEDULED or CONFIRMED), or "
        "confirm a SCHEDULED one.",
        extensions=staff_only(),
    )
    async def confirm_appointment(
        self, info: Info, input: Annotated[ConfirmAppointmentInput, INPUT]
    ) -> AppointmentPayload:
        return await appointment_payload(info, await actions.confirm_appointment(info, input))

    @strawberry.mutation(
        description="Ask the business for an appointment (where it takes requests). It stays "
        "REQUESTED until staff confirm it.",
        extensions=portal_action("appointments"),
    )
    async def request_appointment(
        self, info: Info, input: Annotated[RequestAppointmentInput, INPUT]
    ) -> AppointmentPayload:
        return await appointment_payload(info, await actions.request_appointment(info, input))

    @strawberry.mutation(
        description="Cancel one of your appointments, where the business allows it, until its "
        "cut-off before the start (TOO_LATE after); the business is told.",
        extensions=portal_action("appointments"),
    )
    async def cancel_my_appointment(
        self, info: Info, input: Annotated[CancelMyAppointmentInput, INPUT]
    ) -> AppointmentPayload:
        return await appointment_payload(info, await actions.cancel_my_appointment(info, input))

    @strawberry.mutation(
        description="Move one of your appointments to another time to come, where the business "
        "allows it, until its cut-off before the start (TOO_LATE after); the business is told.",
        extensions=portal_action("appointments"),
    )
    async def reschedule_my_appointment(
        self, info: Info, input: Annotated[RescheduleMyAppointmentInput, INPUT]
    ) -> AppointmentPayload:
        return await appointment_payload(info, await actions.reschedule_my_appointment(info, input))
