"""Car photos from the API: the input checked and its IDs decoded, the domain's action
called (domain/cars/photos.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.cars import photos
from domain.cars.photos import PhotoDetails
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.photos import (
        UpdateCarPhotoInput,
        UploadCarPhotoInput,
    )


def _details(checks: Checks, data: UploadCarPhotoInput | UpdateCarPhotoInput) -> PhotoDetails:
    return PhotoDetails(
        caption=kept(checks.text("caption", data.caption, 500)),
        taken_at=kept(data.taken_at),
        visible_in_portal=kept(given(data.visible_in_portal)),
    )


@mutation_outcome
async def upload_car_photo(info: Info, data: UploadCarPhotoInput) -> uuid.UUID:
    car_id = decode_id_of("Car", data.car_id)
    report_id = (
        decode_id_of("ConditionReport", data.condition_report_id)
        if data.condition_report_id
        else None
    )
    checks = Checks(creating=True)
    details = _details(checks, data)
    checks.done()
    return await photos.upload_car_photo(info.context, car_id, data.file, details, report_id)


@mutation_outcome
async def update_car_photo(info: Info, data: UpdateCarPhotoInput) -> uuid.UUID:
    photo_id = decode_id_of("CarPhoto", data.id)
    checks = Checks(creating=False)
    details = _details(checks, data)
    position = checks.non_negative("position", data.position)
    checks.done()
    moved_to = position if isinstance(position, int) else None
    return await photos.update_car_photo(info.context, photo_id, details, moved_to)


@mutation_outcome
async def delete_car_photo(info: Info, global_id: str) -> uuid.UUID:
    """Delete the photo and its file; the outcome names the car it was of."""
    photo_id = decode_id_of("CarPhoto", global_id)
    return await photos.delete_car_photo(info.context, photo_id)
