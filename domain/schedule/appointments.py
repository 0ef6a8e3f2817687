"""Appointments: staff schedule, move, confirm and cancel them; portal viewers ask for them.

Times are stored in UTC. When staff change what the customer should know (a new time, a
confirmation, a cancellation), the people who want scheduling emails get one, in the same
transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import require_write, row_scope
from auth.viewer import Viewer
from domain.audit import audit
from domain.edits import KEEP, Edit, changes
from domain.notifications import notify_staff
from domain.problems import Common, Problem, Rejected
from domain.rows import customer_of, locked, organization_of
from domain.schedule.codes import ScheduleCode
from domain.schedule.news import ScheduleNews, tell_customer, when
from domain.webhooks.events import emit
from domain.work import Actor, Work
from models import Appointment, Car, Customer, Organization, PortalSettings
from models.enums import AppointmentKind, AppointmentStatus, NotificationKind, PortalScope
from models.types import utcnow
from models.writes import get_for_update, visible_for_update

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
# The car ID given for one that cannot be read: it names no car, so it is answered like a
# car of another customer's.
NO_CAR = uuid.UUID(int=0)

NOT_THEIR_CAR = Problem("carId", "Choose a car of this customer.", Common.INVALID)
NOT_OPEN = Problem("id", "Only open appointments can be cancelled.", ScheduleCode.INVALID_STATUS)
WAS_CANCELLED = Problem("id", "This appointment was cancelled.", ScheduleCode.CANCELLED)
REQUESTS_OFF = Problem(
    None, "Appointments cannot be requested in the portal.", ScheduleCode.NOT_ALLOWED
)


@dataclass(frozen=True)
class Details:
    """An appointment's own fields, as checked at the edge; KEEP leaves one as it is."""

    starts_at: Edit[datetime] = KEEP
    ends_at: Edit[datetime] = KEEP
    kind: Edit[AppointmentKind] = KEEP
    title: Edit[str] = KEEP
    notes: Edit[str | None] = KEEP
    internal_notes: Edit[str | None] = KEEP
    status: Edit[AppointmentStatus] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(**{name: getattr(self, name) for name in self.__dataclass_fields__})


def time_problems(starts_at: object, ends_at: object) -> list[Problem]:
    """The end strictly after the start, when both are known."""
    known = isinstance(starts_at, datetime) and isinstance(ends_at, datetime)
    if known and ends_at <= starts_at:  # type: ignore[operator]
        message = "The end must be after the start."
        return [Problem("endsAt", message, ScheduleCode.ENDS_BEFORE_START)]
    return []


def staff_status_problems(status: Edit[AppointmentStatus]) -> list[Problem]:
    """Staff set statuses by hand, but cancel by cancelling."""
    if status is not KEEP and status not in STAFF_STATUSES:
        message = "Use cancelAppointment to cancel."
        return [Problem("status", message, ScheduleCode.INVALID_STATUS)]
    return []


def confirmed_status_problems(status: AppointmentStatus) -> list[Problem]:
    if status not in ANNOUNCED:
        message = "Confirm as SCHEDULED or CONFIRMED."
        return [Problem("status", message, ScheduleCode.INVALID_STATUS)]
    return []


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise Rejected(*problems)


async def _customer_car(
    session: AsyncSession, org_id: uuid.UUID, customer_id: uuid.UUID, car_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The car named, which must be one of the customer's, not archived."""
    if car_id is None:
        return None
    car = await get_for_update(session, Car, org_id, car_id)
    if car is None or car.customer_id != customer_id or car.archived_at is not None:
        raise Rejected(NOT_THEIR_CAR)
    return car_id


def _audit(work: Work, action: str, appointment: Appointment, **data: Any) -> Any:
    return audit(
        work,
        action,
        organization_id=appointment.organization_id,
        customer_id=appointment.customer_id,
        contact_id=None if work.viewer.is_staff else work.viewer.contact_id,
        subject_type="Appointment",
        subject_id=appointment.id,
        data=data,
    )


async def create_appointment(
    work: Work,
    customer_id: uuid.UUID,
    details: Details,
    car_id: uuid.UUID | None,
    *,
    notify_customer: bool,
) -> uuid.UUID:
    """An appointment for a customer (SCHEDULED unless staff say otherwise)."""
    _refuse(staff_status_problems(details.status))
    _refuse(time_problems(details.starts_at, details.ends_at))
    org_id = organization_of(work)
    async with work.write() as session:
        await locked(session, Customer, org_id, customer_id)
        appointment = Appointment(
            organization_id=org_id,
            customer_id=customer_id,
            car_id=await _customer_car(session, org_id, customer_id, car_id),
            **details.values(),
        )
        session.add(appointment)
        await session.flush()
        session.add(_audit(work, "appointment.created", appointment))
        await emit(session, "appointment.created", appointment)
        if notify_customer and appointment.status in ANNOUNCED:
            await tell_customer(session, work.settings, appointment, ScheduleNews.SCHEDULED)
    return appointment.id


async def _staff_open(session: AsyncSession, work: Work, appointment_id: uuid.UUID) -> Appointment:
    org_id = work.viewer.organization_id
    appointment = await locked(session, Appointment, org_id, appointment_id)
    if appointment.status is S.CANCELLED:
        raise Rejected(WAS_CANCELLED)
    return appointment


async def update_appointment(
    work: Work,
    appointment_id: uuid.UUID,
    details: Details,
    car_id: Edit[uuid.UUID | None],
    *,
    notify_customer: bool,
) -> uuid.UUID:
    """Change details, or move it (a reschedule); the customer hears of a new time."""
    _refuse(staff_status_problems(details.status))
    async with work.write() as session:
        appointment = await _staff_open(session, work, appointment_id)
        before = (appointment.starts_at, appointment.ends_at, appointment.status)
        values = details.values()
        if car_id is not KEEP:
            values["car_id"] = await _customer_car(
                session, appointment.organization_id, appointment.customer_id, car_id
            )
        _refuse(
            time_problems(
                values.get("starts_at", appointment.starts_at),
                values.get("ends_at", appointment.ends_at),
            )
        )
        _apply(appointment, values)
        news = _news_of_change(before, appointment)
        if news is ScheduleNews.RESCHEDULED:
            moved = {"from": [before[0].isoformat(), before[1].isoformat()]}
            session.add(_audit(work, "appointment.rescheduled", appointment, **moved))
        else:
            session.add(_audit(work, "appointment.updated", appointment))
        await emit(session, "appointment.changed", appointment)
        if news is not None and notify_customer:
            await tell_customer(session, work.settings, appointment, news)
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
    before: tuple[datetime, datetime, AppointmentStatus], after: Appointment
) -> ScheduleNews | None:
    """What the customer should hear after staff changed an appointment, if anything."""
    if after.status not in ANNOUNCED:
        return None
    if before[2] not in ANNOUNCED:
        return ScheduleNews.CONFIRMED  # a request became an appointment
    if (after.starts_at, after.ends_at) != before[:2]:
        return ScheduleNews.RESCHEDULED
    return None


async def cancel_appointment(
    work: Work, appointment_id: uuid.UUID, reason: str | None, *, notify_customer: bool
) -> uuid.UUID:
    """Cancel an open appointment, or turn down a request, telling the customer why."""
    async with work.write() as session:
        appointment = await _staff_open(session, work, appointment_id)
        if appointment.status not in CANCELLABLE:
            raise Rejected(NOT_OPEN)
        was = appointment.status
        _apply(appointment, {"status": S.CANCELLED, "cancelled_at": utcnow()})
        session.add(
            _audit(work, "appointment.cancelled", appointment, reason=reason, status=was.value)
        )
        await emit(session, "appointment.cancelled", appointment)
        if notify_customer:
            await tell_customer(
                session, work.settings, appointment, ScheduleNews.CANCELLED, reason=reason
            )
    return appointment.id


async def confirm_appointment(
    work: Work,
    appointment_id: uuid.UUID,
    status: AppointmentStatus,
    starts_at: Edit[datetime],
    ends_at: Edit[datetime],
    *,
    notify_customer: bool,
) -> uuid.UUID:
    """A request becomes an appointment (SCHEDULED or CONFIRMED), at the asked-for time or
    another; a scheduled appointment becomes CONFIRMED."""
    _refuse(confirmed_status_problems(status))
    values = changes(starts_at=starts_at, ends_at=ends_at)
    async with work.write() as session:
        appointment = await _staff_open(session, work, appointment_id)
        was = appointment.status
        if not (was is S.REQUESTED or (was is S.SCHEDULED and status is S.CONFIRMED)):
            message = "There is nothing to confirm."
            raise Rejected(Problem("id", message, ScheduleCode.INVALID_STATUS))
        _refuse(
            time_problems(
                values.get("starts_at", appointment.starts_at),
                values.get("ends_at", appointment.ends_at),
            )
        )
        _apply(appointment, {**values, "status": status})
        session.add(_audit(work, "appointment.confirmed", appointment, status=status.value))
        await emit(session, "appointment.changed", appointment)
        if notify_customer:
            await tell_customer(session, work.settings, appointment, ScheduleNews.CONFIRMED)
    return appointment.id


# --- portal -----------------------------------------------------------------------------


def may_request_appointment(actor: Actor) -> None:
    """The portal's gate for appointment requests: SECTION_DISABLED where the section is
    closed to the viewer, before anything of the input is looked at."""
    require_write(actor.viewer, "appointments")


def request_problems(starts_at: object, ends_at: object) -> list[Problem]:
    """A request is for a time to come, ending after it starts."""
    problems = time_problems(starts_at, ends_at)
    if isinstance(starts_at, datetime) and starts_at <= utcnow():
        message = "Choose a time in the future."
        problems.append(Problem("startsAt", message, ScheduleCode.IN_THE_PAST))
    return problems


def car_required_problems(viewer: Viewer, car_id: uuid.UUID | None) -> list[Problem]:
    """A contact whose access covers only cars asks about one of them."""
    if viewer.scope is PortalScope.CARS and car_id is None:
        return [Problem("carId", "Choose the car.", Common.REQUIRED)]
    return []


async def request_appointment(
    work: Work,
    starts_at: datetime,
    ends_at: datetime,
    kind: AppointmentKind | None,
    title: str | None,
    notes: str | None,
    car_id: uuid.UUID | None,
) -> uuid.UUID:
    """A portal viewer asks for an appointment; staff are told and decide."""
    viewer = work.viewer
    may_request_appointment(work)
    _refuse(request_problems(starts_at, ends_at) + car_required_problems(viewer, car_id))
    kind = kind or AppointmentKind.OTHER
    title = title or KIND_TITLES[kind]
    org_id, customer_id = organization_of(work), customer_of(work)
    async with work.write() as session:
        options = await session.get(PortalSettings, org_id)
        if options is None or not options.allow_appointment_requests:
            raise Rejected(REQUESTS_OFF)
        if car_id is not None and not await visible_for_update(
            session, Car, row_scope(viewer), [car_id]
        ):
            raise Rejected(NOT_THEIR_CAR)
        appointment = Appointment(
            organization_id=org_id,
            customer_id=customer_id,
            car_id=car_id,
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
        session.add(_audit(work, "portal.appointment_requested", appointment))
        await emit(session, "appointment.created", appointment)
        org = await session.get(Organization, org_id)
        customer = await session.get(Customer, customer_id)
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
