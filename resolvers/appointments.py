"""Appointments from the API: times read with their UTC offset, the input checked and its
IDs decoded, the domain's actions called (domain/schedule/appointments.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from strawberry import UNSET, Info

from core.errors import NotFound
from core.ids import decode_id_of
from domain.edits import KEEP, Edit
from domain.schedule import appointments
from domain.schedule.appointments import NO_CAR, Details
from resolvers.inputs import kept
from resolvers.outcome import input_ids, mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.appointments import (
        AppointmentFields,
        CancelAppointmentInput,
        CancelMyAppointmentInput,
        ConfirmAppointmentInput,
        CreateAppointmentInput,
        RequestAppointmentInput,
        RescheduleMyAppointmentInput,
        UpdateAppointmentInput,
    )


def _details(checks: Checks, data: AppointmentFields) -> Details:
    """The appointment's own fields from a staff input (the car is decoded apart)."""
    details = Details(
        starts_at=kept(checks.moment("startsAt", data.starts_at, required=True)),
        ends_at=kept(checks.moment("endsAt", data.ends_at, required=True)),
        kind=kept(given(data.kind)),
        title=kept(checks.text("title", data.title, 200, required=True)),
        notes=kept(checks.text("notes", data.notes, 5000)),
        internal_notes=kept(checks.text("internalNotes", data.internal_notes, 10000)),
        status=kept(given(data.status)),
    )
    checks.problems += appointments.staff_status_problems(details.status)
    return details


def _car(gid: Any) -> Edit[uuid.UUID | None]:
    """The car an input names (KEEP when not sent); one that cannot be read names none."""
    if gid is UNSET:
        return KEEP
    if not gid:
        return None
    try:
        return decode_id_of("Car", gid)
    except NotFound:
        return NO_CAR


@mutation_outcome
async def create_appointment(info: Info, data: CreateAppointmentInput) -> uuid.UUID:
    customer_id = decode_id_of("Customer", data.customer_id)
    checks = Checks(creating=True)
    details = _details(checks, data)
    checks.problems += appointments.time_problems(details.starts_at, details.ends_at)
    checks.done()
    car = _car(data.car_id)
    return await appointments.create_appointment(
        info.context,
        customer_id,
        details,
        None if car is KEEP else car,
        notify_customer=data.notify_customer,
    )


@mutation_outcome
async def update_appointment(info: Info, data: UpdateAppointmentInput) -> uuid.UUID:
    """Change details, or move it (a reschedule); the customer hears of a new time."""
    checks = Checks(creating=False)
    details = _details(checks, data)
    checks.done()
    return await appointments.update_appointment(
        info.context,
        decode_id_of("Appointment", data.id),
        details,
        _car(data.car_id),
        notify_customer=data.notify_customer,
    )


@mutation_outcome
async def cancel_appointment(info: Info, data: CancelAppointmentInput) -> uuid.UUID:
    checks = Checks()
    reason = checks.text("reason", data.reason, 1000)
    checks.done()
    return await appointments.cancel_appointment(
        info.context,
        decode_id_of("Appointment", data.id),
        reason,
        notify_customer=data.notify_customer,
    )


@mutation_outcome
async def confirm_appointment(info: Info, data: ConfirmAppointmentInput) -> uuid.UUID:
    """A request becomes an appointment (SCHEDULED or CONFIRMED), at the asked-for time or
    another; a scheduled appointment becomes CONFIRMED."""
    checks = Checks(creating=False)
    starts_at = kept(checks.moment("startsAt", data.starts_at, required=True))
    ends_at = kept(checks.moment("endsAt", data.ends_at, required=True))
    checks.problems += appointments.confirmed_status_problems(data.status)
    checks.done()
    return await appointments.confirm_appointment(
        info.context,
        decode_id_of("Appointment", data.id),
        data.status,
        starts_at,
        ends_at,
        notify_customer=data.notify_customer,
    )


@mutation_outcome
async def request_appointment(info: Info, data: RequestAppointmentInput) -> uuid.UUID:
    """A portal viewer asks for an appointment; staff are told and decide."""
    ctx = info.context
    appointments.may_request_appointment(ctx)  # closed sections refuse before all else
    checks = Checks(creating=True)
    starts_at = checks.moment("startsAt", data.starts_at, required=True)
    ends_at = checks.moment("endsAt", data.ends_at, required=True)
    checks.problems += appointments.request_problems(starts_at, ends_at)
    title = checks.text("title", data.title, 200)
    notes = checks.text("notes", data.notes, 5000)
    car = _car(data.car_id)
    car_id = None if car is KEEP else car
    checks.problems += appointments.car_required_problems(ctx.viewer, car_id)
    checks.done()
    return await appointments.request_appointment(
        ctx, starts_at, ends_at, data.kind, title, notes, car_id
    )


@mutation_outcome
@input_ids
async def cancel_my_appointment(info: Info, data: CancelMyAppointmentInput) -> uuid.UUID:
    """A portal viewer cancels their own appointment, where the business allows it."""
    appointments.may_request_appointment(info.context)  # closed sections refuse first
    checks = Checks()
    reason = checks.text("reason", data.reason, 1000)
    checks.done()
    appointment_id = decode_id_of("Appointment", data.id)
    return await appointments.cancel_my_appointment(info.context, appointment_id, reason)


@mutation_outcome
@input_ids
async def reschedule_my_appointment(info: Info, data: RescheduleMyAppointmentInput) -> uuid.UUID:
    """A portal viewer moves their own appointment, where the business allows it."""
    appointments.may_request_appointment(info.context)
    checks = Checks(creating=True)
    starts_at = checks.moment("startsAt", data.starts_at, required=True)
    ends_at = checks.moment("endsAt", data.ends_at, required=True)
    checks.problems += appointments.request_problems(starts_at, ends_at)
    checks.done()
    appointment_id = decode_id_of("Appointment", data.id)
    return await appointments.reschedule_my_appointment(
        info.context, appointment_id, starts_at, ends_at
    )
