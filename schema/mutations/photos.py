"""Mutations on car photos (staff only)."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info
from strawberry.file_uploads import Upload

from auth.permissions import staff_only
from domain.uploads.codes import UploadCode
from resolvers import photos as actions
from resolvers.outcome import Outcome
from schema.cars import Car
from schema.common import INPUT, UserError
from schema.error_codes import code_field, error_codes_of
from schema.payloads import payload
from schema.photos import CarPhoto

CarPhotoErrorCode = error_codes_of(
    "CarPhotoErrorCode", (UploadCode,), "Why a car photo mutation was refused."
)


@strawberry.type(description="A problem with a car photo mutation's input.")
class CarPhotoError(UserError):
    code: Enum = code_field(CarPhotoErrorCode)


@strawberry.input(description="A new photo of a car; it goes last in the car's gallery.")
class UploadCarPhotoInput:
    car_id: strawberry.ID = strawberry.field(description="Global ID of the car.")
    file: Upload = strawberry.field(
        description="The image, sent as a multipart upload: JPEG, PNG, HEIC or WebP, at most "
        "MAX_UPLOAD_BYTES (20 MB unless configured)."
    )
    caption: str | None = strawberry.field(default=UNSET, description="What the photo shows.")
    taken_at: datetime | None = strawberry.field(
        default=UNSET, description="When it was taken (UTC)."
    )
    condition_report_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the car's condition report it belongs to."
    )
    visible_in_portal: bool = strawberry.field(
        default=True, description="Show it to the customer in the portal."
    )


@strawberry.input(description="Changes to a car photo. Omitted fields keep their value.")
class UpdateCarPhotoInput:
    id: strawberry.ID = strawberry.field(description="The photo's global ID.")
    caption: str | None = strawberry.field(default=UNSET, description="What the photo shows.")
    taken_at: datetime | None = strawberry.field(
        default=UNSET, description="When it was taken (UTC)."
    )
    position: int | None = strawberry.field(
        default=UNSET,
        description="Move it to this place in the gallery (0 is first); the others close up.",
    )
    visible_in_portal: bool | None = strawberry.field(
        default=UNSET, description="Show it in the portal, or hide it."
    )


@strawberry.input(description="The photo to delete.")
class DeleteCarPhotoInput:
    id: strawberry.ID = strawberry.field(description="The photo's global ID.")


@strawberry.type(description="The result of a car photo mutation.")
class CarPhotoPayload:
    photo: CarPhoto | None = strawberry.field(description="The photo, when it worked.")
    user_errors: list[CarPhotoError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of deleting a car photo.")
class DeleteCarPhotoPayload:
    car: Car | None = strawberry.field(description="The car, with its remaining photos.")
    user_errors: list[CarPhotoError] = strawberry.field(description="Problems with the input.")
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the deleted photo."
    )


async def photo_payload(info: Info, outcome: Outcome) -> CarPhotoPayload:
    return await payload(
        info,
        CarPhotoPayload,
        outcome,
        type_name="CarPhoto",
        object_field="photo",
        error_cls=CarPhotoError,
        codes=CarPhotoErrorCode,
    )


@strawberry.type
class CarPhotoMutations:
    @strawberry.mutation(description="Add a photo to a car's gallery.", extensions=staff_only())
    async def upload_car_photo(
        self, info: Info, input: Annotated[UploadCarPhotoInput, INPUT]
    ) -> CarPhotoPayload:
        return await photo_payload(info, await actions.upload_car_photo(info, input))

    @strawberry.mutation(
        description="Change a photo's caption or visibility, or move it in the gallery.",
        extensions=staff_only(),
    )
    async def update_car_photo(
        self, info: Info, input: Annotated[UpdateCarPhotoInput, INPUT]
    ) -> CarPhotoPayload:
        return await photo_payload(info, await actions.update_car_photo(info, input))

    @strawberry.mutation(description="Delete a photo and its file.", extensions=staff_only())
    async def delete_car_photo(
        self, info: Info, input: Annotated[DeleteCarPhotoInput, INPUT]
    ) -> DeleteCarPhotoPayload:
        outcome = await actions.delete_car_photo(info, input.id)
        result = await payload(
            info,
            DeleteCarPhotoPayload,
            outcome,
            type_name="Car",
            object_field="car",
            error_cls=CarPhotoError,
            codes=CarPhotoErrorCode,
        )
        result.deleted_id = input.id if outcome.row_id is not None else None
        return result
