"""Staff add, edit, reorder and delete photos of a car.

A car's photos are kept numbered 0..n-1 in gallery order: a new photo goes last, a moved
photo takes the position asked for and the others close up around it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cars.updates import car_news
from domain.edits import KEEP, Edit, changes
from domain.problems import Common, Problem, Rejected
from domain.rows import locked, organization_of
from domain.uploads.received import Purpose, kept, receive_file
from domain.work import Work
from models import Car, CarPhoto, ConditionReport
from models.writes import apply
from storage import storage_from_settings


@dataclass(frozen=True)
class PhotoDetails:
    """What staff say of a photo; KEEP leaves a field as it is."""

    caption: Edit[str | None] = KEEP
    taken_at: Edit[datetime | None] = KEEP
    visible_in_portal: Edit[bool] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(
            caption=self.caption,
            taken_at=self.taken_at,
            visible_in_portal=self.visible_in_portal,
        )


async def _gallery(session: AsyncSession, car_id: uuid.UUID) -> list[CarPhoto]:
    """The car's photos in gallery order, locked for this transaction."""
    stmt = (
        sa.select(CarPhoto)
        .where(col(CarPhoto.car_id) == car_id)
        .order_by(col(CarPhoto.position), col(CarPhoto.id))
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


def _renumber(photos: list[CarPhoto]) -> None:
    for position, photo in enumerate(photos):
        apply(photo, {"position": position})


async def upload_car_photo(
    work: Work,
    car_id: uuid.UUID,
    file: object,
    details: PhotoDetails,
    condition_report_id: uuid.UUID | None,
) -> uuid.UUID:
    """The photo goes last in the car's gallery; a condition report it belongs to must be
    of the same car."""
    org = organization_of(work)
    storage, received = await receive_file(work, file, Purpose.PHOTO, "car-photos")
    async with kept(storage, received), work.write() as session:
        car = await locked(session, Car, org, car_id)
        if condition_report_id is not None:
            report = await locked(session, ConditionReport, org, condition_report_id)
            if report.car_id != car_id:
                message = "This report is of another car."
                raise Rejected(Problem("conditionReportId", message, Common.INVALID))
        gallery = await _gallery(session, car_id)
        photo = CarPhoto(
            organization_id=org,
            car_id=car_id,
            condition_report_id=condition_report_id,
            position=len(gallery),
            uploaded_by_staff_id=work.viewer.staff_user_id,
            **received.columns(),
            **details.values(),
        )
        _renumber(gallery)  # close any gaps left by older writes
        session.add(photo)
        if photo.visible_in_portal:
            await _news_of_photo(session, work, car, photo)
    return photo.id


async def _news_of_photo(session: AsyncSession, work: Work, car: Car, photo: CarPhoto) -> None:
    """A photo the portal shows, new or newly shown, is news of the car."""
    text = "a new photo" + (f": {photo.caption}" if photo.caption else "")
    await car_news(session, car.organization_id, car.customer_id, car, text, work.clock.now)


async def update_car_photo(
    work: Work, photo_id: uuid.UUID, details: PhotoDetails, position: int | None
) -> uuid.UUID:
    """Change what is said of a photo; with a position, move it there in the gallery (the
    others close up)."""
    async with work.write() as session:
        photo = await locked(session, CarPhoto, work.viewer.organization_id, photo_id)
        was_visible = photo.visible_in_portal
        apply(photo, details.values())
        if photo.visible_in_portal and not was_visible:
            car = await session.get(Car, photo.car_id)
            assert car is not None  # the photo's foreign key holds it
            await _news_of_photo(session, work, car, photo)
        if position is not None:
            gallery = [p for p in await _gallery(session, photo.car_id) if p.id != photo.id]
            gallery.insert(min(position, len(gallery)), photo)
            _renumber(gallery)
    return photo_id


async def delete_car_photo(work: Work, photo_id: uuid.UUID) -> uuid.UUID:
    """Delete the photo and its file; answers the car it was of."""
    async with work.write() as session:
        photo = await locked(session, CarPhoto, work.viewer.organization_id, photo_id)
        car_id, key = photo.car_id, photo.storage_key
        await session.delete(photo)
        await session.flush()
        _renumber(list(await _gallery(session, car_id)))
    # After the commit: a failed delete of the row must not lose its file.
    await storage_from_settings(work.settings).delete(key)
    return car_id
