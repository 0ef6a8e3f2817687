"""Staff keep the organization's cars: their details, and who owns each one. A change of
status or of owner is recorded in the car's history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import encode_id
from domain.cars.codes import CarCode
from domain.cars.updates import STATUS_LABELS, car_news
from domain.edits import KEEP, Edit, changes
from domain.problems import Common, Problem, Rejected
from domain.rows import locked, organization_of
from domain.webhooks.events import emit
from domain.work import Work
from models import Car, CarEvent, Customer, Organization
from models.cars import CAR_EVENT_REFERENCES
from models.enums import CarEventKind, CarStatus
from models.tables import cars
from models.types import utcnow
from models.writes import add_in_order, apply, value_taken


@dataclass(frozen=True)
class CarDetails:
    """A car's own fields, as checked at the edge; KEEP leaves one as it is."""

    make: Edit[str] = KEEP
    model: Edit[str] = KEEP
    year: Edit[int | None] = KEEP
    vin: Edit[str | None] = KEEP
    license_plate: Edit[str | None] = KEEP
    color: Edit[str | None] = KEEP
    status: Edit[CarStatus] = KEEP
    mileage: Edit[int | None] = KEEP
    storage_location: Edit[str | None] = KEEP
    internal_notes: Edit[str | None] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(**{name: getattr(self, name) for name in self.__dataclass_fields__})


DUPLICATE_VIN = Problem("vin", "Another car already has this VIN.", CarCode.DUPLICATE)
OWNED_BY_ANOTHER = Problem(
    "carId",
    "This car belongs to another customer. Set `transfer: true` to move it to this customer.",
    CarCode.OWNED_BY_ANOTHER_CUSTOMER,
)
NOT_THE_CUSTOMERS = Problem("carId", "This car belongs to another customer.", Common.INVALID)


def car_event(car: Car, kind: CarEventKind, staff_id: uuid.UUID | None, **data: Any) -> CarEvent:
    """An entry of the car's history, now; row ids in `data` are stored as global ids."""
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
    within = (cars.c.organization_id, car.organization_id)
    return await value_taken(session, cars.c.vin, car.vin, within, car.id)


async def create_car(work: Work, details: CarDetails, owner_id: uuid.UUID | None) -> uuid.UUID:
    """A new car of the organization, owned by a customer of it when one is named."""
    viewer = work.viewer
    async with work.write() as session:
        car = Car(organization_id=organization_of(work), **details.values())
        if await _vin_taken(session, car):
            raise Rejected(DUPLICATE_VIN)
        rows: list[Car | CarEvent] = [car]
        if owner_id is not None:
            await locked(session, Customer, viewer.organization_id, owner_id)
            car.customer_id = owner_id
            event = car_event(car, CarEventKind.OWNER_CHANGE, viewer.staff_user_id, to=owner_id)
            rows.append(event)
        await add_in_order(session, rows)
    return car.id


async def update_car(work: Work, car_id: uuid.UUID, details: CarDetails) -> uuid.UUID:
    viewer = work.viewer
    async with work.write() as session:
        car = await locked(session, Car, viewer.organization_id, car_id)
        old_status = car.status
        apply(car, details.values())
        if await _vin_taken(session, car):
            raise Rejected(DUPLICATE_VIN)
        if car.status != old_status:
            await car_news(
                session,
                car.organization_id,
                car.customer_id,
                car,
                f"now {STATUS_LABELS[car.status]} (was {STATUS_LABELS[old_status]})",
                work.clock.now,
            )
            session.add(
                car_event(
                    car,
                    CarEventKind.STATUS_CHANGE,
                    viewer.staff_user_id,
                    old=old_status.value,
                    new=car.status.value,
                )
            )
            await emit(session, "car.status_changed", car)
            if car.status is CarStatus.CHECKED_OUT:
                await _stop_billing(work, session, car)
    return car_id


async def _stop_billing(work: Work, session: AsyncSession, car: Car) -> None:
    """A car checked out of storage stops being billed, by the organization's setting."""
    # Imported here: subscriptions reach the bills, which reach back to cars.
    from domain.subscriptions.subscriptions import end_for_check_out

    org = await session.get(Organization, car.organization_id)
    assert org is not None  # the car's foreign key holds it
    await end_for_check_out(work, session, car.id, org.check_out_ends_subscriptions)


async def assign_car(
    work: Work, car_id: uuid.UUID, customer_id: uuid.UUID, *, transfer: bool
) -> uuid.UUID:
    """Give a car an owner. Taking it from another customer needs an explicit transfer."""
    viewer = work.viewer
    async with work.write() as session:
        car = await locked(session, Car, viewer.organization_id, car_id)
        await locked(session, Customer, viewer.organization_id, customer_id)
        previous = car.customer_id
        if previous == customer_id:
            return car_id
        if previous is not None and not transfer:
            raise Rejected(OWNED_BY_ANOTHER)
        apply(car, {"customer_id": customer_id})
        data = {"from": previous, "to": customer_id}
        session.add(car_event(car, CarEventKind.OWNER_CHANGE, viewer.staff_user_id, **data))
    return car_id


async def customer_car(
    session: AsyncSession,
    org_id: uuid.UUID | None,
    customer_id: uuid.UUID,
    car_id: Edit[uuid.UUID | None],
) -> Edit[uuid.UUID | None]:
    """The car a job or a contract concerns, which must be the customer's: None clears it,
    KEEP keeps it."""
    if car_id is KEEP or car_id is None:
        return car_id
    car = await locked(session, Car, org_id, car_id)
    if car.customer_id != customer_id:
        raise Rejected(NOT_THE_CUSTOMERS)
    return car.id
