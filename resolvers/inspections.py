"""Inspections and car history from the API: the input checked and its IDs decoded, the
domain's actions called (domain/cars/inspections.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from strawberry import Info

from core.ids import decode_id_of
from domain.cars import inspections
from domain.cars.inspections import Item, Report
from domain.problems import Common
from models.types import utcnow
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.jobs import (
        CreateConditionReportInput,
        RecordCarEventInput,
        SubmitInspectionInput,
    )

MAX_ITEMS = 100


def _items(checks: Checks, items: list[Any]) -> list[dict[str, Any]]:
    if len(items) > MAX_ITEMS:
        checks.fail("items", f"At most {MAX_ITEMS} items.", Common.TOO_LONG)
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


@mutation_outcome
async def create_condition_report(info: Info, data: CreateConditionReportInput) -> uuid.UUID:
    checks = Checks(creating=True)
    items = _items(checks, data.items)
    inspected_at = _when(checks, "inspectedAt", data.inspected_at)
    summary = checks.text("summary", data.summary, 5000)
    internal = checks.text("internalNotes", data.internal_notes, 10000)
    mileage = checks.non_negative("mileage", data.mileage)
    inspector = checks.text("inspectorName", data.inspector_name, 200)
    checks.done()
    report = Report(
        items=[Item(**item) for item in items],
        inspected_at=inspected_at,
        inspector_name=inspector,
        mileage=mileage,
        summary=summary,
        internal_notes=internal,
    )
    car_id = decode_id_of("Car", data.car_id)
    return await inspections.create_condition_report(info.context, car_id, report)


@mutation_outcome
async def record_car_event(info: Info, data: RecordCarEventInput) -> uuid.UUID:
    """Check-in, check-out, service, detailing, photo session or a note, on the car's record."""
    checks = Checks(creating=True)
    occurred_at = _when(checks, "occurredAt", data.occurred_at)
    notes = checks.text("notes", data.notes, 5000)
    checks.problems += inspections.event_kind_problems(data.kind)
    checks.done()
    car_id = decode_id_of("Car", data.car_id)
    return await inspections.record_car_event(
        info.context, car_id, data.kind, occurred_at, notes, internal=data.internal
    )


@mutation_outcome
async def submit_inspection(info: Info, data: SubmitInspectionInput) -> uuid.UUID:
    """A driver's pre- or post-trip inspection of a car they may see (DVIR)."""
    inspections.may_submit_inspection(info.context)  # closed sections refuse before all else
    checks = Checks(creating=True)
    checks.problems += inspections.inspection_kind_problems(data.kind)
    items = _items(checks, data.items)
    notes = checks.text("notes", data.notes, 5000)
    mileage = checks.non_negative("mileage", data.mileage)
    checks.done()
    return await inspections.submit_inspection(
        info.context,
        decode_id_of("Car", data.car_id),
        data.kind,
        [Item(**item) for item in items],
        defects_found=data.defects_found,
        mileage=mileage,
        notes=notes,
    )
