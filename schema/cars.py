"""Cars, their history and their inspections."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Info
from strawberry.scalars import JSON

from auth.permissions import portal_section, staff_only
from models import relations as rel
from models import tables
from models.cars import CAR_EVENT_REFERENCES
from resolvers.relations import children_of
from schema.enums import CarEventKind, CarStatus, InspectionKind
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, row_type

if TYPE_CHECKING:
    from schema.jobs import MaintenanceSchedule


@row_type(tables.cars)
@strawberry.type(description="A vehicle looked after by the business.")
class Car(RowType, Node):
    make: str = strawberry.field(description="Manufacturer, e.g. Porsche.")
    model: str = strawberry.field(description="Model, e.g. 911 Carrera.")
    year: int | None = strawberry.field(description="Model year.")
    vin: str | None = strawberry.field(description="Vehicle identification number.")
    license_plate: str | None = strawberry.field(description="Licence plate.")
    color: str | None = strawberry.field(description="Exterior colour.")
    status: CarStatus = strawberry.field(description="Where the car is now.")
    mileage: int | None = strawberry.field(description="Last recorded odometer reading.")
    storage_location: str | None = strawberry.field(description="Bay or spot in the facility.")
    internal_notes: str | None = strawberry.field(
        description="Notes for staff only.", extensions=staff_only()
    )
    archived_at: datetime | None = strawberry.field(description="When archived (UTC).")
    created_at: datetime = strawberry.field(description="When the record was created (UTC).")

    owner = object_field("customer_id", "Customer", "schema.customers", "The car's owner.")
    events = connection_field(
        rel.CAR_EVENTS, "CarEvent", __name__, "What happened to the car, newest first."
    )
    condition_reports = connection_field(
        rel.CAR_REPORTS, "ConditionReport", __name__, "Inspections of the car, newest first."
    )
    documents = connection_field(
        rel.CAR_DOCUMENTS, "Document", "schema.documents", "Documents about this car."
    )
    appointments = connection_field(
        rel.CAR_APPOINTMENTS, "Appointment", "schema.schedule", "Appointments for this car."
    )
    subscriptions = connection_field(
        rel.CAR_SUBSCRIPTIONS,
        "BillingSubscription",
        "schema.subscriptions",
        "Recurring billing for this car (its storage), newest first.",
        extensions=portal_section("invoices"),
    )
    jobs = connection_field(rel.CAR_JOBS, "Job", "schema.jobs", "Jobs on this car, newest first.")
    maintenance_history = connection_field(
        rel.CAR_MAINTENANCE_HISTORY,
        "Job",
        "schema.jobs",
        "The car's maintenance history: its completed jobs, newest first.",
    )
    telematics_readings = connection_field(
        rel.CAR_READINGS,
        "TelematicsReading",
        "schema.jobs",
        "Readings from the car's connected device, newest first; in the portal only where "
        "the organization shows them.",
        extensions=portal_section("telematics"),
    )

    @strawberry.field(description="What is due on the car, by schedule.")
    async def maintenance_schedules(
        self, info: Info
    ) -> list[Annotated["MaintenanceSchedule", strawberry.lazy("schema.jobs")]]:
        from schema.jobs import MaintenanceSchedule

        return await children_of(info, rel.CAR_SCHEDULES, self.pk, MaintenanceSchedule.from_row)

    photos = connection_field(
        rel.CAR_PHOTOS, "CarPhoto", "schema.photos", "Photos of the car, in gallery order."
    )


@row_type(tables.car_events)
@strawberry.type(description="Something that happened to a car: check-in, service, detailing...")
class CarEvent(RowType, Node):
    kind: CarEventKind = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")
    notes: str | None = strawberry.field(description="Notes shared with the customer.")
    internal: bool = strawberry.field(
        description="Staff-only entry, never shown in the portal.", extensions=staff_only()
    )
    car = object_field("car_id", "Car", __name__, "The car.")

    @strawberry.field(
        description="Details of the event, by kind. Records it names (`from`, `to`, `job_id`, "
        "`condition_report_id`) are global IDs, shown to staff only: a portal viewer may own "
        "the car after others and sees nothing of them."
    )
    def data(self, info: Info) -> JSON:
        data = self.row["data"]
        if info.context.viewer.is_staff:
            return data
        # planner/computed.py removes the same keys in SQL.
        return JSON({k: v for k, v in data.items() if k not in CAR_EVENT_REFERENCES})


@strawberry.type(description="One inspected area of a car.")
class ConditionItem:
    area: str = strawberry.field(description="What was inspected, e.g. Front bumper.")
    rating: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    notes: str | None = strawberry.field(description="What the inspector saw.")


@row_type(tables.condition_reports)
@strawberry.type(description="An inspection of a car, item by item.")
class ConditionReport(RowType, Node):
    inspected_at: datetime = strawberry.field(description="When the inspection took place (UTC).")
    inspector_name: str | None = strawberry.field(description="Who inspected.")
    mileage: int | None = strawberry.field(description="Odometer reading at inspection.")
    summary: str | None = strawberry.field(description="Overall findings.")
    kind: InspectionKind = strawberry.field(
        description="A staff condition report, or a driver's pre- or post-trip inspection."
    )
    defects_found: bool = strawberry.field(description="The inspection found a defect.")
    internal_notes: str | None = strawberry.field(
        description="Notes for staff only.", extensions=staff_only()
    )

    car = object_field("car_id", "Car", __name__, "The inspected car.")
    submitted_by = object_field(
        "submitted_by_contact_id", "Contact", "schema.customers", "The driver who submitted it."
    )
    photos = connection_field(
        rel.REPORT_PHOTOS, "CarPhoto", "schema.photos", "Photos taken at the inspection."
    )

    @strawberry.field(description="The inspected items with their ratings.")
    def items(self) -> list[ConditionItem]:
        return [_item(entry) for entry in self.row["items"]]


def _item(entry: dict[str, Any]) -> ConditionItem:
    return ConditionItem(
        area=str(entry.get("area", "")),
        rating=int(entry.get("rating", 0)),
        notes=entry.get("notes"),
    )
