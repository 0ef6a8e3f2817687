"""Staff mutations on cars from the API: the input checked and its IDs decoded, the
domain's action called (domain/cars/cars.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.cars import cars
from domain.cars.cars import CarDetails
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.cars import (
        CarFields,
        CreateCarInput,
        UpdateCarInput,
    )


def car_details(checks: Checks, data: CarFields) -> CarDetails:
    strict_vin = not getattr(data, "vin_unchecked", False)
    return CarDetails(
        make=kept(checks.text("make", data.make, 80, required=True)),
        model=kept(checks.text("model", data.model, 80, required=True)),
        year=kept(checks.year("year", data.year)),
        vin=kept(checks.vin("vin", data.vin, strict=strict_vin)),
        license_plate=kept(checks.text("licensePlate", data.license_plate, 20)),
        color=kept(checks.text("color", data.color, 40)),
        status=kept(given(data.status)),
        mileage=kept(checks.non_negative("mileage", data.mileage)),
        storage_location=kept(checks.text("storageLocation", data.storage_location, 100)),
        internal_notes=kept(checks.text("internalNotes", data.internal_notes, 10000)),
    )


@mutation_outcome
async def create_car(info: Info, data: CreateCarInput) -> uuid.UUID:
    checks = Checks(creating=True)
    details = car_details(checks, data)
    checks.done()
    owner_id = decode_id_of("Customer", data.owner_id) if data.owner_id else None
    return await cars.create_car(info.context, details, owner_id)


@mutation_outcome
async def update_car(info: Info, data: UpdateCarInput) -> uuid.UUID:
    car_id = decode_id_of("Car", data.id)
    checks = Checks(creating=False)
    details = car_details(checks, data)
    checks.done()
    return await cars.update_car(info.context, car_id, details)


@mutation_outcome
async def assign_car(info: Info, car_gid: str, customer_gid: str, transfer: bool) -> uuid.UUID:
    """Give a car an owner. Taking it from another customer needs an explicit transfer."""
    car_id = decode_id_of("Car", car_gid)
    customer_id = decode_id_of("Customer", customer_gid)
    return await cars.assign_car(info.context, car_id, customer_id, transfer=transfer)
