"""Appointments: staff schedule, move, confirm and cancel them; portal viewers ask for them.

Times arrive with their UTC offset and are stored in UTC. When staff change what the
customer should know (a new time, a confirmation, a cancellation), the people who want
scheduling emails get one, in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, Info

from auth.access import require_write, row_scope
from core.errors import NotFound
from core.ids import decode_id_of
from domain.audit import audit
from domain.notifications import notify_staff
from models import Appointment, Car, Customer, Organization, PortalSettings
from models.enums import AppointmentKind, AppointmentStatus, NotificationKind, PortalScope
from models.types import utcnow
from models.writes import get_for_update, visible_for_update
from resolvers.appointment_mail import ScheduleNews, tell_customer, when
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rows import locked, tenant_row
from resolvers.validation import Checks, Problem, changes, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.context import Context

S = AppointmentStatus
# What staff may set by hand; REQUESTED comes from the portal, CANCELLED from cancelling.
STAFF_STATUSES = {S.SCHEDULED, S.CONFIRMED, S.COMPLETED, S.NO_SHOW}
ANNOUNCED = {S.SCHEDULED, S.CONFIRMED}  # statuses the customer is told about
CANCELLABLE = {S.REQUESTED, S.SCHEDULED, S.CONFIRMED}
KIND_TITLES = {
    AppointmentKind.DROP_OFF: "Drop-off",
    AppointmentKind.PICK_UP: "Pick-up",
    AppointmentKind.SERVICE: "Service",
    AppointmentKind.DETAILING: "Detailing",
    AppointmentKind.INSPECTION: "Inspection",
    AppointmentKind.PHOTO_SESSION: "Photo session",
    AppointmentKind.OTHER: "Appointment",
}

NOT_THEIR_CAR = Problem("carId", "Choose a car of this customer.", "INVALID")
NOT_OPEN = Problem("id", "Only open appointments can be cancelled.", "INVALID_STATUS")
WAS_CANCELLED = Problem("id", "This appointment was cancelled.", "CANCELLED")
REQUESTS_OFF = Problem(None, "Appointments cannot be requested in the portal.", "NOT_ALLOWED")


def _values(checks: Checks, data: Any) -> dict[str, Any]:
    """The appointment's own fields from a staff input (status and car are checked apart)."""
    values = changes(
        starts_at=checks.moment("startsAt", data.starts_at, required=True),
        ends_at=checks.moment("endsAt", data.ends_at, required=True),
        kind=given(data.kind),
        title=checks.text("title", data.title, 200, required=True),
        notes=checks.text("notes", data.notes, 5000),
        internal_notes=checks.text("internalNotes", data.internal_notes, 10000),
    )
    status = given(data.status)
    if status is not UNSET:
        if status not in STAFF_STATUSES:
            checks.fail("status", "Use cancelAppointment to cancel.", "INVALID_STATUS")
        values["status"] = status
    return values


async def _car_of(
    session: AsyncSession, org_id: uuid.UUID, customer_id: uuid.UUID, car_gid: Any
) -> uuid.UUID | None:
    """The car an input names, which must be one of the customer's."""
    if car_gid is UNSET or car_gid is None:
        return None
    try:
        car_id = decode_id_of("Car", car_gid)
    except NotFound:
        raise Rejected(NOT_THEIR_CAR) from None
    car = await get_for_update(session, Car, org_id, car_id)
    if car is None or car.customer_id != customer_id or car.archived_at is not None:
        raise Rejected(NOT_THEIR_CAR)
    return car_id


def _audit(ctx: Context, action: str, appointment: Appointment, **data: Any) -> Any:
    return audit(
        ctx,
        action,
        organization_id=appointment.organization_id,
        customer_id=appointment.customer_id,
        contact_id=None if ctx.viewer.is_staff else ctx.viewer.contact_id,
        subject_type="Appointment",
        subject_id=appointment.id,
        data=data,
    )


@mutation_outcome
async def create_appointment(info: Info, data: Any) -> uuid.UUID:
    ctx: Context = info.context
    customer_id = decode_id_of("Customer", data.customer_id)
    checks = Checks(creating=True)
    values = _values(checks, data)
    checks.ends_after_start("endsAt", values.get("starts_at"), values.get("ends_at"))
    checks.done()
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        await locked(session, Customer, org_id, customer_id)
        appointment = Appointment(
            organization_id=org_id,
            customer_id=customer_id,
            car_id=await _car_of(session, org_id, customer_id, data.car_id),
            **values,
        )
        session.add(appointment)
        await session.flush()
        session.add(_audit(ctx, "appointment.created", appointment))
        if data.notify_customer and appointment.status in ANNOUNCED:
            await tell_customer(session, ctx.settings, appointment, ScheduleNews.SCHEDULED)
    return appointment.id


async def _staff_open(session: AsyncSession, ctx: Context, gid: str) -> Appointment:
    appointment = await tenant_row(session, Appointment, ctx.viewer.organization_id, gid)
    if appointment.status is S.CANCELLED:
        raise Rejected(WAS_CANCELLED)
    return appointment


@mutation_outcome
async def update_appointment(info: Info, data: Any) -> uuid.UUID:
    """Change details, or move it (a reschedule); the customer hears of a new time."""
    ctx: Context = info.context
    checks = Checks(creating=False)
    values = _values(checks, data)
    checks.done()
    async with ctx.write() as session:
        appointment = await _staff_open(session, ctx, data.id)
        before = (appointment.starts_at, appointment.ends_at, appointment.status)
        if data.car_id is not UNSET:
            values["car_id"] = await _car_of(
                session, appointment.organization_id, appointment.customer_id, data.car_id
            )
        checks.ends_after_start(
            "endsAt",
            values.get("starts_at", appointment.starts_at),
            values.get("ends_at", appointment.ends_at),
        )
        checks.done()  # inside the transaction: rolls it back
        _apply(appointment, values)
        news = _news_of_change(before, appointment)
        if news is ScheduleNews.RESCHEDULED:
            moved = {"from": [before[0].isoformat(), before[1].isoformat()]}
            session.add(_audit(ctx, "appointment.rescheduled", appointment, **moved))
        else:
            session.add(_audit(ctx, "appointment.updated", appointment))
        if news is not None and data.notify_customer:
            await tell_customer(session, ctx.settings, appointment, news)
    return appointment.id


def _apply(appointment: Appointment, values: dict[str, Any]) -> None:
    changed = False
    for name, value in values.items():
        if getattr(appointment, name) != value:
            setattr(appointment, name, value)
            changed = True
    if changed:
        appointment.updated_at = utcnow()


def _news_of_change(
    before: tuple[Any, Any, AppointmentStatus], after: Appointment
) -> ScheduleNews | None:
    """What the customer should hear after staff changed an appointment, if anything."""
    if after.status not in ANNOUNCED:
        return None
    if before[2] not in ANNOUNCED:
        return ScheduleNews.CONFIRMED  # a request became an appointment
    if (after.starts_at, after.ends_at) != before[:2]:
        return ScheduleNews.RESCHEDULED
    return None


@mutation_outcome
async def cancel_appointment(info: Info, data: Any) -> uuid.UUID:
    ctx: Context = info.context
    checks = Checks()
    reason = checks.text("reason", data.reason, 1000)
    checks.done()
    async with ctx.write() as session:
        appointment = await _staff_open(session, ctx, data.id)
        if appointment.status not in CANCELLABLE:
            raise Rejected(NOT_OPEN)
        was = appointment.status
        _apply(appointment, {"status": S.CANCELLED, "cancelled_at": utcnow()})
        session.add(
            _audit(ctx, "appointment.cancelled", appointment, reason=reason, status=was.value)
        )
        if data.notify_customer:
            await tell_customer(
                session, ctx.settings, appointment, ScheduleNews.CANCELLED, reason=reason
            )
    return appointment.id


@mutation_outcome
async def confirm_appointment(info: Info, data: Any) -> uuid.UUID:
    """A request becomes an appointment (SCHEDULED or CONFIRMED), at the asked-for time or
    another; a scheduled appointment becomes CONFIRMED."""
    ctx: Context = info.context
    checks = Checks(creating=False)
    values = changes(
        starts_at=checks.moment("startsAt", data.starts_at, required=True),
        ends_at=checks.moment("endsAt", data.ends_at, required=True),
    )
    status = data.status
    if status not in ANNOUNCED:
        checks.fail("status", "Confirm as SCHEDULED or CONFIRMED.", "INVALID_STATUS")
    checks.done()
    async with ctx.write() as session:
        appointment = await _staff_open(session, ctx, data.id)
        was = appointment.status
        if not (was is S.REQUESTED or (was is S.SCHEDULED and status is S.CONFIRMED)):
            raise Rejected(Problem("id", "There is nothing to confirm.", "INVALID_STATUS"))
        checks.ends_after_start(
            "endsAt",
            values.get("starts_at", appointment.starts_at),
            values.get("ends_at", appointment.ends_at),
        )
        checks.done()
        _apply(appointment, {**values, "status": status})
        session.add(_audit(ctx, "appointment.confirmed", appointment, status=status.value))
        if data.notify_customer:
            await tell_customer(session, ctx.settings, appointment, ScheduleNews.CONFIRMED)
    return appointment.id


# --- portal -----------------------------------------------------------------------------


@mutation_outcome
async def request_appointment(info: Info, data: Any) -> uuid.UUID:
    """A portal viewer asks for an appointment; staff are told and decide."""
    ctx: Context = info.context
    viewer = ctx.viewer
    require_write(viewer, "appointments")
    checks = Checks(creating=True)
    starts_at = checks.moment("startsAt", data.starts_at, required=True)
    ends_at = checks.moment("endsAt", data.ends_at, required=True)
    checks.ends_after_start("endsAt", starts_at, ends_at)
    if isinstance(starts_at, datetime) and starts_at <= utcnow():
        checks.fail("startsAt", "Choose a time in the future.", "IN_THE_PAST")
    kind = data.kind or AppointmentKind.OTHER
    title = checks.text("title", data.title, 200) or KIND_TITLES[kind]
    notes = checks.text("notes", data.notes, 5000)
    if viewer.scope is PortalScope.CARS and not data.car_id:
        checks.fail("carId", "Choose the car.", "REQUIRED")
    checks.done()
    async with ctx.write() as session:
        options = await session.get(PortalSettings, viewer.organization_id)
        if options is None or not options.allow_appointment_requests:
            raise Rejected(REQUESTS_OFF)
        appointment = Appointment(
            organization_id=viewer.organization_id,
            customer_id=viewer.customer_id,
            car_id=await _visible_car(session, ctx, data.car_id),
            starts_at=starts_at,
            ends_at=ends_at,
            kind=kind,
            title=title,
            notes=notes or None,
            status=S.REQUESTED,
            requested_by_contact_id=viewer.contact_id,
            requested_at=utcnow(),
        )
        session.add(appointment)
        await session.flush()
        session.add(_audit(ctx, "portal.appointment_requested", appointment))
        org = await session.get(Organization, viewer.organization_id)
        customer = await session.get(Customer, viewer.customer_id)
        if org is not None and customer is not None:
            await notify_staff(
                session,
                org,
                NotificationKind.APPOINTMENT_REQUESTED,
                f"{customer.name} asks for an appointment: {title}",
                f"Preferred time: {when(starts_at, ends_at, org.timezone)}."
                + (f"\n{notes}" if notes else ""),
                subject_type="Appointment",
                subject_id=appointment.id,
            )
    return appointment.id


async def _visible_car(session: AsyncSession, ctx: Context, car_gid: Any) -> uuid.UUID | None:
    """A car the portal viewer may see (their customer's, within their scope)."""
    if not car_gid:
        return None
    try:
        car_id = decode_id_of("Car", car_gid)
    except NotFound:
        raise Rejected(NOT_THEIR_CAR) from None
    if not await visible_for_update(session, Car, row_scope(ctx.viewer), [car_id]):
        raise Rejected(NOT_THEIR_CAR)
    return car_id
