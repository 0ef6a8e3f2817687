"""Staff mutations on cars, including who owns a car. Ownership changes are recorded."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from core.ids import decode_id_of, encode_id
from models import Car, CarEvent, Customer
from models.cars import CAR_EVENT_REFERENCES
from models.enums import CarEventKind
from models.types import utcnow
from models.writes import add_in_order, apply, value_taken
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rows import locked
from resolvers.validation import Checks, Problem, changes, given


def car_values(checks: Checks, data: Any) -> dict[str, Any]:
    strict_vin = not getattr(data, "vin_unchecked", False)
    values = changes(
        make=checks.text("make", data.make, 80, required=True),
        model=checks.text("model", data.model, 80, required=True),
        year=checks.year("year", data.year),
        vin=checks.vin("vin", data.vin, strict=strict_vin),
        license_plate=checks.text("licensePlate", data.license_plate, 20),
        color=checks.text("color", data.color, 40),
        status=given(data.status),
        mileage=checks.non_negative("mileage", data.mileage),
        storage_location=checks.text("storageLocation", data.storage_location, 100),
        internal_notes=checks.text("internalNotes", data.internal_notes, 10000),
    )
    return values


def _event(car: Car, kind: CarEventKind, staff_id: uuid.UUID | None, **data: Any) -> CarEvent:
    return CarEvent(
        organization_id=car.organization_id,
        car_id=car.id,
        kind=kind,
        occurred_at=utcnow(),
        staff_user_id=staff_id,
        data={
            k: encode_id(CAR_EVENT_REFERENCES[k], v) if isinstance(v, uuid.UUID) else v
            for k, v in data.items()
        },
    )


async def _vin_taken(session: AsyncSession, car: Car) -> bool:
    within = Car.organization_id == car.organization_id
    return await value_taken(session, Car.vin, car.vin, within, car.id)


DUPLICATE_VIN = Problem("vin", "Another car already has this VIN.", "DUPLICATE")


@mutation_outcome
async def create_car(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = car_values(checks, data)
    checks.done()
    viewer = info.context.viewer
    async with info.context.write() as session:
        car = Car(organization_id=viewer.organization_id, **values)
        if await _vin_taken(session, car):
            raise Rejected(DUPLICATE_VIN)
        rows: list[Car | CarEvent] = [car]
        if data.owner_id:
            owner_id = decode_id_of("Customer", data.owner_id)
            await locked(session, Customer, viewer.organization_id, owner_id)
            car.customer_id = owner_id
            rows.append(_event(car, CarEventKind.OWNER_CHANGE, viewer.staff_user_id, to=owner_id))
        await add_in_order(session, rows)
    return car.id


@mutation_outcome
async def update_car(info: Info, data: Any) -> uuid.UUID:
    row_id = decode_id_of("Car", data.id)
    checks = Checks(creating=False)
    values = car_values(checks, data)
    checks.done()
    viewer = info.context.viewer
    async with info.context.write() as session:
        car = await locked(session, Car, viewer.organization_id, row_id)
        old_status = car.status
        apply(car, values)
        if await _vin_taken(session, car):
            raise Rejected(DUPLICATE_VIN)
        if car.status != old_status:
            session.add(
                _event(
                    car,
                    CarEventKind.STATUS_CHANGE,
                    viewer.staff_user_id,
                    old=old_status.value,
                    new=car.status.value,
                )
            )
    return row_id


OWNED_BY_ANOTHER = Problem(
    "carId",
    "This car belongs to another customer. Set `transfer: true` to move it to this customer.",
    "OWNED_BY_ANOTHER_CUSTOMER",
)


@mutation_outcome
async def assign_car(info: Info, car_gid: str, customer_gid: str, transfer: bool) -> uuid.UUID:
    """Give a car an owner. Taking it from another customer needs an explicit transfer."""
    car_id = decode_id_of("Car", car_gid)
    customer_id = decode_id_of("Customer", customer_gid)
    viewer = info.context.viewer
    async with info.context.write() as session:
        car = await locked(session, Car, viewer.organization_id, car_id)
        await locked(session, Customer, viewer.organization_id, customer_id)
        previous = car.customer_id
        if previous == customer_id:
            return car_id
        if previous is not None and not transfer:
            raise Rejected(OWNED_BY_ANOTHER)
        apply(car, {"customer_id": customer_id})
        event = _event(
            car,
            CarEventKind.OWNER_CHANGE,
            viewer.staff_user_id,
            **{"from": previous, "to": customer_id},
        )
        session.add(event)
    return car_id
