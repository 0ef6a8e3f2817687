"""Telematics: integration keys (OWNER), and readings posted by an integration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.integration_keys import Integration, new_key
from auth.tokens import token_hash
from core.errors import NotFound
from core.ids import decode_id_of
from domain.audit import audit
from domain.problems import Common, Problem, Rejected
from domain.rows import locked, organization_of
from domain.work import Work
from models import Car, IntegrationKey, TelematicsReading
from models.integrations import TELEMATICS_WRITE
from models.types import utcnow

MAX_READINGS = 100  # per request
FAULT_CODE_LENGTH = 16


@dataclass(frozen=True)
class NewKey:
    key_id: uuid.UUID
    secret: str  # shown once, never stored


async def create_key(work: Work, name: str) -> NewKey:
    """A key for a telematics integration; only its hash is kept."""
    secret, prefix = new_key()
    async with work.write() as session:
        key = IntegrationKey(
            organization_id=organization_of(work),
            name=name,
            prefix=prefix,
            key_hash=token_hash(secret),
            scope=TELEMATICS_WRITE,
            created_by_staff_id=work.viewer.staff_user_id,
        )
        session.add(key)
        session.add(
            audit(
                work,
                "integration.key_created",
                subject_type="IntegrationKey",
                subject_id=key.id,
                data={"prefix": prefix},
            )
        )
    return NewKey(key_id=key.id, secret=secret)


async def revoke_key(work: Work, key_id: uuid.UUID) -> uuid.UUID:
    """The key stops working at once (revoking it again changes nothing)."""
    async with work.write() as session:
        key = await locked(session, IntegrationKey, work.viewer.organization_id, key_id)
        key.revoked_at = key.revoked_at or utcnow()
        session.add(
            audit(work, "integration.key_revoked", subject_type="IntegrationKey", subject_id=key.id)
        )
    return key.id


def _reading(problems: list[Problem], index: int, raw: object) -> dict[str, Any]:
    """One reading as posted: {carId | vin, recordedAt, odometer, engineHours, latitude,
    longitude, faultCodes}."""
    at = f"readings.{index}"
    if not isinstance(raw, dict):
        problems.append(Problem(at, "Each reading is an object."))
        return {}
    try:
        recorded: datetime | None = datetime.fromisoformat(str(raw.get("recordedAt", "")))
    except ValueError:
        recorded = None
    if recorded is None or recorded.tzinfo is None:
        problems.append(Problem(f"{at}.recordedAt", "Give an ISO 8601 time with its offset."))
    elif recorded > datetime.now(UTC) + timedelta(minutes=5):
        problems.append(Problem(f"{at}.recordedAt", "This time is in the future."))
    values: dict[str, Any] = {"recorded_at": recorded}
    for name, column, low, high in (
        ("odometer", "odometer", 0, 10_000_000),
        ("latitude", "latitude", -90, 90),
        ("longitude", "longitude", -180, 180),
        ("engineHours", "engine_hours", 0, 1_000_000),
    ):
        value = raw.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            problems.append(Problem(f"{at}.{name}", f"Use a number from {low} to {high}."))
            continue
        values[column] = value
    if "odometer" in values:
        values["odometer"] = int(values["odometer"])
    if "engine_hours" in values:
        values["engine_hours_tenths"] = round(values.pop("engine_hours") * 10)
    codes = raw.get("faultCodes") or []
    if not isinstance(codes, list) or not all(
        isinstance(c, str) and 0 < len(c) <= FAULT_CODE_LENGTH and c.isprintable() for c in codes
    ):
        problems.append(Problem(f"{at}.faultCodes", "Use a list of short codes such as P0301."))
        codes = []
    values["fault_codes"] = [c.upper() for c in codes][:50]
    values["car"] = raw.get("carId") or raw.get("vin")
    if not isinstance(values["car"], str) or not values["car"]:
        message = "Name the car by its vin or carId."
        problems.append(Problem(f"{at}.vin", message, Common.REQUIRED))
    return values


async def record_readings(
    session: AsyncSession, integration: Integration, body: object
) -> list[uuid.UUID]:
    """Store the readings of one request (the posted JSON), all or none; odometers only move
    the car's up. PermissionError for a key that may not post readings."""
    if integration.scope != TELEMATICS_WRITE:
        raise PermissionError("this key may not post readings")
    readings = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(readings, list) or not 1 <= len(readings) <= MAX_READINGS:
        raise Rejected(Problem("readings", f"Send 1 to {MAX_READINGS} readings."))
    problems: list[Problem] = []
    cleaned = [_reading(problems, index, raw) for index, raw in enumerate(readings)]
    if problems:
        raise Rejected(*problems)
    found = await _cars(session, integration.organization_id, {v["car"] for v in cleaned})
    stored = []
    for index, values in enumerate(cleaned):
        car = found.get(values.pop("car"))
        if car is None:
            raise Rejected(Problem(f"readings.{index}.vin", "No such car.", Common.NOT_FOUND))
        reading = TelematicsReading(
            organization_id=integration.organization_id,
            car_id=car.id,
            integration_key_id=integration.key_id,
            **values,
        )
        session.add(reading)
        stored.append(reading.id)
        odometer = values.get("odometer")
        if odometer is not None and (car.mileage is None or odometer > car.mileage):
            car.mileage = odometer
            car.updated_at = utcnow()
    return stored


async def _cars(session: AsyncSession, org: uuid.UUID, names: set[str]) -> dict[str, Car]:
    """The organization's cars named by VIN or by global ID, locked."""
    ids: dict[uuid.UUID, str] = {}
    vins: set[str] = set()
    for name in names:
        try:
            ids[decode_id_of("Car", name)] = name
        except NotFound:  # not a car's global ID: a VIN
            vins.add(name.upper())
    stmt = (
        sa.select(Car)
        .where(
            col(Car.organization_id) == org,
            sa.or_(col(Car.id).in_(ids), col(Car.vin).in_(vins)),
        )
        .order_by(col(Car.id))
        .with_for_update()
    )
    found: dict[str, Car] = {}
    for car in (await session.execute(stmt)).scalars():
        if car.id in ids:
            found[ids[car.id]] = car
        if car.vin is not None:
            found[car.vin] = car
            found.update({n: car for n in names if n.upper() == car.vin})
    return found
