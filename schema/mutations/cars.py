"""Mutations on cars and their ownership."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import staff_only
from domain.cars.codes import CarCode
from models import Car as CarRow
from resolvers import cars as actions
from resolvers.archive import set_archived
from resolvers.outcome import Outcome
from schema.cars import Car
from schema.common import INPUT, UserError
from schema.enums import CarStatus
from schema.error_codes import code_field, error_codes
from schema.mutations.customers import ArchiveInput
from schema.payloads import payload

CarErrorCode = error_codes("CarErrorCode", CarCode, "Why a car mutation was refused.")


@strawberry.type(description="A problem with a car mutation's input.")
class CarError(UserError):
    code: Enum = code_field(CarErrorCode)


@strawberry.input(description="Details of a car. Omitted fields keep their value.")
class CarFields:
    make: str | None = strawberry.field(default=UNSET, description="Manufacturer (required).")
    model: str | None = strawberry.field(default=UNSET, description="Model (required).")
    year: int | None = strawberry.field(default=UNSET, description="Model year.")
    vin: str | None = strawberry.field(default=UNSET, description="17-character VIN.")
    vin_unchecked: bool = strawberry.field(
        default=False,
        description="Store the VIN as given: for pre-1981 and foreign vehicles.",
    )
    license_plate: str | None = strawberry.field(default=UNSET, description="Licence plate.")
    color: str | None = strawberry.field(default=UNSET, description="Exterior colour.")
    status: CarStatus | None = strawberry.field(
        default=UNSET, description="Where the car is; a change is recorded in its history."
    )
    mileage: int | None = strawberry.field(default=UNSET, description="Odometer reading.")
    storage_location: str | None = strawberry.field(default=UNSET, description="Bay or spot.")
    internal_notes: str | None = strawberry.field(default=UNSET, description="Staff-only notes.")


@strawberry.input(description="A new car.")
class CreateCarInput(CarFields):
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the owning customer, if known."
    )


@strawberry.input(description="Changes to a car.")
class UpdateCarInput(CarFields):
    id: strawberry.ID = strawberry.field(description="The car's global ID.")


@strawberry.input(description="Make a customer the owner of a car.")
class AssignCarInput:
    car_id: strawberry.ID = strawberry.field(description="The car's global ID.")
    customer_id: strawberry.ID = strawberry.field(description="The new owner's global ID.")
    transfer: bool = strawberry.field(
        default=False,
        description="Move the car even when another customer owns it (recorded in its history).",
    )


@strawberry.type(description="The result of a car mutation.")
class CarPayload:
    car: Car | None = strawberry.field(description="The car, when it worked.")
    user_errors: list[CarError] = strawberry.field(description="Problems with the input.")


async def car_payload(info: Info, outcome: Outcome) -> CarPayload:
    return await payload(
        info,
        CarPayload,
        outcome,
        type_name="Car",
        object_field="car",
        error_cls=CarError,
        codes=CarErrorCode,
    )


@strawberry.type
class CarMutations:
    @strawberry.mutation(description="Add a car.", extensions=staff_only())
    async def create_car(self, info: Info, input: Annotated[CreateCarInput, INPUT]) -> CarPayload:
        return await car_payload(info, await actions.create_car(info, input))

    @strawberry.mutation(description="Change a car's details.", extensions=staff_only())
    async def update_car(self, info: Info, input: Annotated[UpdateCarInput, INPUT]) -> CarPayload:
        return await car_payload(info, await actions.update_car(info, input))

    @strawberry.mutation(description="Archive a car or restore one.", extensions=staff_only())
    async def archive_car(self, info: Info, input: Annotated[ArchiveInput, INPUT]) -> CarPayload:
        return await car_payload(info, await set_archived(info, CarRow, input.id, input.archived))

    @strawberry.mutation(
        description="Make a customer the owner of a car. Refused when another customer owns "
        "it, unless `transfer` is true.",
        extensions=staff_only(),
    )
    async def assign_car(self, info: Info, input: Annotated[AssignCarInput, INPUT]) -> CarPayload:
        outcome = await actions.assign_car(info, input.car_id, input.customer_id, input.transfer)
        return await car_payload(info, outcome)
