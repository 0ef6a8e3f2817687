"""Staff add, edit, reorder and delete photos of a car.

A car's photos are kept numbered 0..n-1 in gallery order: a new photo goes last, a moved
photo takes the position asked for and the others close up around it.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from core.ids import decode_id_of
from models import Car, CarPhoto, ConditionReport
from models.writes import apply
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rows import locked
from resolvers.uploads import Purpose, kept, receive_file
from resolvers.validation import Checks, Problem, changes, given
from storage import storage_from_settings


def _photo_values(checks: Checks, data: Any) -> dict[str, Any]:
    return changes(
        caption=checks.text("caption", data.caption, 500),
        taken_at=data.taken_at,
        visible_in_portal=given(data.visible_in_portal),
    )


async def _gallery(session: AsyncSession, car_id: uuid.UUID) -> list[CarPhoto]:
    """The car's photos in gallery order, locked for this transaction."""
    stmt = (
        sa.select(CarPhoto)
        .where(CarPhoto.car_id == car_id)  # type: ignore[arg-type]
        .order_by(CarPhoto.position, CarPhoto.id)  # type: ignore[arg-type]
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


def _renumber(photos: list[CarPhoto]) -> None:
    for position, photo in enumerate(photos):
        apply(photo, {"position": position})


@mutation_outcome
async def upload_car_photo(info: Info, data: Any) -> uuid.UUID:
    car_id = decode_id_of("Car", data.car_id)
    report_id = (
        decode_id_of("ConditionReport", data.condition_report_id)
        if data.condition_report_id
        else None
    )
    checks = Checks(creating=True)
    values = _photo_values(checks, data)
    checks.done()
    ctx = info.context
    org = ctx.viewer.organization_id
    storage, received = await receive_file(ctx, data.file, Purpose.PHOTO, "car-photos")
    async with kept(storage, received), ctx.write() as session:
        await locked(session, Car, org, car_id)
        if report_id is not None:
            report = await locked(session, ConditionReport, org, report_id)
            if report.car_id != car_id:
                problem = Problem("conditionReportId", "This report is of another car.", "INVALID")
                raise Rejected(problem)
        gallery = await _gallery(session, car_id)
        photo = CarPhoto(
            organization_id=org,
            car_id=car_id,
            condition_report_id=report_id,
            position=len(gallery),
            uploaded_by_staff_id=ctx.viewer.staff_user_id,
            **received.columns(),
            **values,
        )
        _renumber(gallery)  # close any gaps left by older writes
        session.add(photo)
    return photo.id


@mutation_outcome
async def update_car_photo(info: Info, data: Any) -> uuid.UUID:
    row_id = decode_id_of("CarPhoto", data.id)
    checks = Checks(creating=False)
    values = _photo_values(checks, data)
    position = checks.non_negative("position", data.position)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        photo = await locked(session, CarPhoto, ctx.viewer.organization_id, row_id)
        apply(photo, values)
        if isinstance(position, int):
            gallery = [p for p in await _gallery(session, photo.car_id) if p.id != photo.id]
            gallery.insert(min(position, len(gallery)), photo)
            _renumber(gallery)
    return row_id


@mutation_outcome
async def delete_car_photo(info: Info, global_id: str) -> uuid.UUID:
    """Delete the photo and its file; the outcome names the car it was of."""
    row_id = decode_id_of("CarPhoto", global_id)
    ctx = info.context
    async with ctx.write() as session:
        photo = await locked(session, CarPhoto, ctx.viewer.organization_id, row_id)
        car_id, key = photo.car_id, photo.storage_key
        await session.delete(photo)
        await session.flush()
        _renumber([p for p in await _gallery(session, car_id)])
    # After the commit: a failed delete of the row must not lose its file.
    await storage_from_settings(ctx.settings).delete(key)
    return car_id
