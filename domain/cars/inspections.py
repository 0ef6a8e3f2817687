"""Inspections and history of cars: staff condition reports and events, and the trip
inspections drivers submit from the portal (DVIRs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auth.access import require_write, row_scope
from core.errors import NotFound
from core.ids import encode_id
from domain.audit import audit
from domain.cars.updates import car_news
from domain.notifications import notify_staff
from domain.problems import Problem, Rejected
from domain.rows import locked
from domain.work import Actor, Work
from models import Car, CarEvent, ConditionReport, Organization
from models.enums import CarEventKind, InspectionKind, NotificationKind
from models.types import utcnow
from models.writes import visible_for_update

# History entries written by their own actions (owner, status, report), never by hand.
OWN_ACTION_KINDS = frozenset(
    {CarEventKind.OWNER_CHANGE, CarEventKind.STATUS_CHANGE, CarEventKind.CONDITION_REPORT}
)


@dataclass(frozen=True)
class Item:
    """One inspected area, rated 1 (poor) to 5 (excellent)."""

    area: str
    rating: int
    notes: str | None = None

    def as_stored(self) -> dict[str, Any]:
        return {"area": self.area, "rating": self.rating, "notes": self.notes}


@dataclass(frozen=True)
class Report:
    """A staff condition report, as checked at the edge."""

    items: list[Item]
    inspected_at: datetime
    inspector_name: str | None = None
    mileage: int | None = None
    summary: str | None = None
    internal_notes: str | None = None


def _defects(items: list[Item]) -> bool:
    return any(item.rating <= 2 for item in items)


def _report_event(car: Car, report: ConditionReport, staff_id: uuid.UUID | None) -> CarEvent:
    return CarEvent(
        organization_id=car.organization_id,
        car_id=car.id,
        kind=CarEventKind.CONDITION_REPORT,
        occurred_at=report.inspected_at,
        notes=report.summary,
        staff_user_id=staff_id,
        data={
            "condition_report_id": encode_id("ConditionReport", report.id),
            "inspection": report.kind.value,
        },
    )


def _raise_mileage(car: Car, mileage: int | None) -> None:
    if mileage is not None and (car.mileage is None or mileage > car.mileage):
        car.mileage = mileage
        car.updated_at = utcnow()


async def create_condition_report(work: Work, car_id: uuid.UUID, report: Report) -> uuid.UUID:
    """A staff condition report: in the car's history, and the car's odometer moves up."""
    viewer = work.viewer
    async with work.write() as session:
        car = await locked(session, Car, viewer.organization_id, car_id)
        row = ConditionReport(
            organization_id=car.organization_id,
            car_id=car.id,
            inspected_at=report.inspected_at,
            inspector_staff_id=viewer.staff_user_id,
            inspector_name=report.inspector_name,
            mileage=report.mileage,
            summary=report.summary,
            internal_notes=report.internal_notes,
            items=[item.as_stored() for item in report.items],
            defects_found=_defects(report.items),
        )
        session.add(row)
        await session.flush()
        session.add(_report_event(car, row, viewer.staff_user_id))
        _raise_mileage(car, report.mileage)
        text = "a condition report was filed" + (f": {report.summary}" if report.summary else "")
        await car_news(session, car.organization_id, car.customer_id, car, text, work.clock.now)
    return row.id


def event_kind_problems(kind: CarEventKind) -> list[Problem]:
    """Kinds recorded by hand: not those their own actions write."""
    if kind in OWN_ACTION_KINDS:
        return [Problem("kind", "This kind of event is recorded by its own action.")]
    return []


async def record_car_event(
    work: Work,
    car_id: uuid.UUID,
    kind: CarEventKind,
    occurred_at: datetime,
    notes: str | None,
    *,
    internal: bool,
) -> uuid.UUID:
    """Check-in, check-out, service, detailing, photo session or a note, on the car's record."""
    if problems := event_kind_problems(kind):
        raise Rejected(*problems)
    viewer = work.viewer
    async with work.write() as session:
        car = await locked(session, Car, viewer.organization_id, car_id)
        event = CarEvent(
            organization_id=car.organization_id,
            car_id=car.id,
            kind=kind,
            occurred_at=occurred_at,
            notes=notes,
            internal=internal,
            staff_user_id=viewer.staff_user_id,
        )
        session.add(event)
    return event.id


def may_submit_inspection(actor: Actor) -> None:
    """The portal's gate for drivers' inspections: SECTION_DISABLED where it is closed,
    before anything of the input is looked at."""
    require_write(actor.viewer, "condition_reports")


def inspection_kind_problems(kind: InspectionKind) -> list[Problem]:
    """Drivers submit trip inspections; condition reports are the business's."""
    if kind is InspectionKind.CONDITION:
        return [Problem("kind", "Drivers submit pre-trip or post-trip inspections.")]
    return []


async def submit_inspection(
    work: Work,
    car_id: uuid.UUID,
    kind: InspectionKind,
    items: list[Item],
    *,
    defects_found: bool,
    mileage: int | None,
    notes: str | None,
) -> uuid.UUID:
    """A driver's pre- or post-trip inspection of a car they may see (DVIR); staff hear of
    any defect."""
    may_submit_inspection(work)
    if problems := inspection_kind_problems(kind):
        raise Rejected(*problems)
    viewer = work.viewer
    async with work.write() as session:
        found = await visible_for_update(session, Car, row_scope(viewer), [car_id])
        if not found:
            raise NotFound(row=("Car", car_id))
        car = found[0]
        defects = defects_found or _defects(items)
        report = ConditionReport(
            organization_id=car.organization_id,
            car_id=car.id,
            kind=kind,
            inspected_at=utcnow(),
            mileage=mileage,
            summary=notes,
            items=[item.as_stored() for item in items],
            defects_found=defects,
            submitted_by_contact_id=viewer.contact_id,
        )
        session.add(report)
        await session.flush()
        session.add(_report_event(car, report, None))
        _raise_mileage(car, mileage)
        if defects:
            org = await session.get(Organization, car.organization_id)
            assert org is not None  # the car's foreign key holds it
            name = f"{car.year or ''} {car.make} {car.model}".strip()
            await notify_staff(
                session,
                org,
                NotificationKind.CAR_UPDATE,
                f"Defects reported on {name}",
                notes or "A driver's inspection found defects.",
                subject_type="ConditionReport",
                subject_id=report.id,
            )
        session.add(
            audit(
                work,
                "inspection.submitted",
                subject_type="ConditionReport",
                subject_id=report.id,
                data={"defects": defects},
            )
        )
    return report.id
