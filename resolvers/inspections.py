"""Inspections and history of cars: staff condition reports and events, and the trip
inspections drivers submit from the portal (DVIRs)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from strawberry import Info

from auth.access import require_write, row_scope
from core.errors import NotFound
from core.ids import decode_id_of, encode_id
from domain.audit import audit
from domain.notifications import notify_staff
from models import Car, CarEvent, ConditionReport, Organization
from models.enums import CarEventKind, InspectionKind, NotificationKind
from models.types import utcnow
from models.writes import visible_for_update
from resolvers.outcome import mutation_outcome
from resolvers.rows import tenant_row
from resolvers.validation import Checks

MAX_ITEMS = 100


def _items(checks: Checks, items: list[Any]) -> list[dict[str, Any]]:
    if len(items) > MAX_ITEMS:
        checks.fail("items", f"At most {MAX_ITEMS} items.", "TOO_LONG")
        return []
    cleaned = []
    for index, item in enumerate(items):
        area = checks.text(f"items.{index}.area", item.area, 200, required=True)
        if not 1 <= item.rating <= 5:
            checks.fail(f"items.{index}.rating", "Rate from 1 (poor) to 5 (excellent).")
        notes = checks.text(f"items.{index}.notes", item.notes, 2000)
        cleaned.append({"area": area, "rating": item.rating, "notes": notes})
    return cleaned


def _when(checks: Checks, name: str, value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None or value > datetime.now(UTC):
        checks.fail(name, "Use a time in the past, with its offset.")
        return utcnow()
    return value


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


@mutation_outcome
async def create_condition_report(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    items = _items(checks, data.items)
    inspected_at = _when(checks, "inspectedAt", data.inspected_at)
    summary = checks.text("summary", data.summary, 5000)
    internal = checks.text("internalNotes", data.internal_notes, 10000)
    mileage = checks.non_negative("mileage", data.mileage)
    inspector = checks.text("inspectorName", data.inspector_name, 200)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        car = await tenant_row(session, Car, ctx.viewer.organization_id, data.car_id)
        report = ConditionReport(
            organization_id=car.organization_id,
            car_id=car.id,
            inspected_at=inspected_at,
            inspector_staff_id=ctx.viewer.staff_user_id,
            inspector_name=inspector,
            mileage=mileage,
            summary=summary,
            internal_notes=internal,
            items=items,
            defects_found=any(item["rating"] <= 2 for item in items),
        )
        session.add(report)
        await session.flush()
        session.add(_report_event(car, report, ctx.viewer.staff_user_id))
        _raise_mileage(car, mileage)
    return report.id


@mutation_outcome
async def record_car_event(info: Info, data: Any) -> uuid.UUID:
    """Check-in, check-out, service, detailing, photo session or a note, on the car's record."""
    checks = Checks(creating=True)
    occurred_at = _when(checks, "occurredAt", data.occurred_at)
    notes = checks.text("notes", data.notes, 5000)
    if data.kind in (
        CarEventKind.OWNER_CHANGE,
        CarEventKind.STATUS_CHANGE,
        CarEventKind.CONDITION_REPORT,
    ):
        checks.fail("kind", "This kind of event is recorded by its own action.")
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        car = await tenant_row(session, Car, ctx.viewer.organization_id, data.car_id)
        event = CarEvent(
            organization_id=car.organization_id,
            car_id=car.id,
            kind=data.kind,
            occurred_at=occurred_at,
            notes=notes,
            internal=data.internal,
            staff_user_id=ctx.viewer.staff_user_id,
        )
        session.add(event)
    return event.id


@mutation_outcome
async def submit_inspection(info: Info, data: Any) -> uuid.UUID:
    """A driver's pre- or post-trip inspection of a car they may see (DVIR)."""
    viewer = info.context.viewer
    require_write(viewer, "condition_reports")
    checks = Checks(creating=True)
    if data.kind is InspectionKind.CONDITION:
        checks.fail("kind", "Drivers submit pre-trip or post-trip inspections.")
    items = _items(checks, data.items)
    notes = checks.text("notes", data.notes, 5000)
    mileage = checks.non_negative("mileage", data.mileage)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        found = await visible_for_update(
            session, Car, row_scope(viewer), [decode_id_of("Car", data.car_id)]
        )
        if not found:
            raise NotFound(global_id=data.car_id)
        car = found[0]
        defects = data.defects_found or any(item["rating"] <= 2 for item in items)
        report = ConditionReport(
            organization_id=car.organization_id,
            car_id=car.id,
            kind=data.kind,
            inspected_at=utcnow(),
            mileage=mileage,
            summary=notes,
            items=items,
            defects_found=defects,
            submitted_by_contact_id=viewer.contact_id,
        )
        session.add(report)
        await session.flush()
        session.add(_report_event(car, report, None))
        _raise_mileage(car, mileage)
        if defects:
            org = await session.get(Organization, car.organization_id)
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
                ctx,
                "inspection.submitted",
                subject_type="ConditionReport",
                subject_id=report.id,
                data={"defects": defects},
            )
        )
    return report.id
