"""Appointments."""

from datetime import datetime

import strawberry

from auth.permissions import staff_only
from models import tables
from schema.enums import AppointmentKind, AppointmentStatus
from schema.fields import object_field
from schema.node import Node, RowType, row_type


@row_type(tables.appointments)
@strawberry.type(description="A scheduled visit or session for a customer and car.")
class Appointment(RowType, Node):
    title: str = strawberry.field(description="Short title, e.g. Spring detailing.")
    kind: AppointmentKind = strawberry.field(description="What the appointment is for.")
    status: AppointmentStatus = strawberry.field(description="Its state.")
    starts_at: datetime = strawberry.field(description="Start (UTC).")
    ends_at: datetime = strawberry.field(description="End (UTC).")
    notes: str | None = strawberry.field(description="Notes shared with the customer.")
    internal_notes: str | None = strawberry.field(
        description="Notes for staff only.", extensions=staff_only()
    )
    requested_at: datetime | None = strawberry.field(
        description="When it was asked for in the portal (UTC), if it was."
    )
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled (UTC).")

    customer = object_field("customer_id", "Customer", "schema.customers", "Who it is for.")
    car = object_field("car_id", "Car", "schema.cars", "The car, if any.")
    requested_by = object_field(
        "requested_by_contact_id",
        "Contact",
        "schema.customers",
        "The contact who asked for it in the portal (null when the customer did, or staff).",
    )
