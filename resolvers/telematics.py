"""Telematics: integration keys (OWNER), and readings posted by an integration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from auth.integration_keys import Integration, new_key
from auth.tokens import token_hash
from core.errors import NotFound
from core.ids import decode_id_of
from domain.audit import audit
from models import Car, IntegrationKey, TelematicsReading
from models.integrations import TELEMATICS_WRITE
from models.types import utcnow
from resolvers.outcome import input_ids
from resolvers.rows import tenant_row
from resolvers.validation import Checks, Problem, Rejected

MAX_READINGS = 100  # per request
FAULT_CODE_LENGTH = 16


@dataclass
class KeyOutcome:
    key_id: uuid.UUID | None = None
    secret: str | None = None
    problems: list[Problem] = field(default_factory=list)


async def create_key(info: Info, data: Any) -> KeyOutcome:
    checks = Checks(creating=True)
    name = checks.text("name", data.name, 200, required=True)
    try:
        checks.done()
    except Rejected as rejected:
        return KeyOutcome(problems=rejected.problems)
    ctx = info.context
    secret, prefix = new_key()
    async with ctx.write() as session:
        key = IntegrationKey(
            organization_id=ctx.viewer.organization_id,
            name=name,
            prefix=prefix,
            key_hash=token_hash(secret),
            scope=TELEMATICS_WRITE,
            created_by_staff_id=ctx.viewer.staff_user_id,
        )
        session.add(key)
        session.add(
            audit(
                ctx,
                "integration.key_created",
                subject_type="IntegrationKey",
                subject_id=key.id,
                data={"prefix": prefix},
            )
        )
    return KeyOutcome(key_id=key.id, secret=secret)


async def revoke_key(info: Info, data: Any) -> KeyOutcome:
    try:
        return await _revoke_key(info, data)
    except Rejected as rejected:
        return KeyOutcome(problems=rejected.problems)


@input_ids
async def _revoke_key(info: Info, data: Any) -> KeyOutcome:
    ctx = info.context
    async with ctx.write() as session:
        key = await tenant_row(session, IntegrationKey, ctx.viewer.organization_id, data.id)
        key.revoked_at = key.revoked_at or utcnow()
        session.add(
            audit(ctx, "integration.key_revoked", subject_type="IntegrationKey", subject_id=key.id)
        )
    return KeyOutcome(key_id=key.id)


def _reading(checks: Checks, index: int, raw: Any) -> dict[str, Any]:
    """One reading as posted: {carId | vin, recordedAt, odometer, engineHours, latitude,
    longitude, faultCodes}."""
    at = f"readings.{index}"
    if not isinstance(raw, dict):
        checks.fail(at, "Each reading is an object.")
        return {}
    try:
        recorded = datetime.fromisoformat(str(raw.get("recordedAt", "")))
    except ValueError:
        recorded = None
    if recorded is None or recorded.tzinfo is None:
        checks.fail(f"{at}.recordedAt", "Give an ISO 8601 time with its offset.")
    elif recorded > datetime.now(UTC) + timedelta(minutes=5):
        checks.fail(f"{at}.recordedAt", "This time is in the future.")
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
            checks.fail(f"{at}.{name}", f"Use a number from {low} to {high}.")
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
        checks.fail(f"{at}.faultCodes", "Use a list of short codes such as P0301.")
        codes = []
    values["fault_codes"] = [c.upper() for c in codes][:50]
    values["car"] = raw.get("carId") or raw.get("vin")
    if not isinstance(values["car"], str) or not values["car"]:
        checks.fail(f"{at}.vin", "Name the car by its vin or carId.", "REQUIRED")
    return values


async def record_readings(
    session: AsyncSession, integration: Integration, body: Any
) -> list[uuid.UUID]:
    """Store the readings of one request, all or none; odometers only move the car's up."""
    if integration.scope != TELEMATICS_WRITE:
        raise PermissionError("this key may not post readings")
    readings = body.get("readings") if isinstance(body, dict) else None
    checks = Checks(creating=True)
    if not isinstance(readings, list) or not 1 <= len(readings) <= MAX_READINGS:
        checks.fail("readings", f"Send 1 to {MAX_READINGS} readings.")
        checks.done()
    cleaned = [_reading(checks, index, raw) for index, raw in enumerate(readings)]
    checks.done()
    found = await _cars(session, integration.organization_id, {v["car"] for v in cleaned})
    stored = []
    for index, values in enumerate(cleaned):
        car = found.get(values.pop("car"))
        if car is None:
            raise Rejected(Problem(f"readings.{index}.vin", "No such car.", "NOT_FOUND"))
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
    ids, vins = {}, set()
    for name in names:
        try:
            ids[decode_id_of("Car", name)] = name
        except NotFound:  # not a car's global ID: a VIN
            vins.add(name.upper())
    stmt = (
        sa.select(Car)
        .where(Car.organization_id == org, sa.or_(Car.id.in_(ids), Car.vin.in_(vins)))
        .order_by(Car.id)
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
