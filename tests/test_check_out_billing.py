"""A car checked out of storage stops being billed, by the organization's setting: at the end
of the period running (the default), or that day with the unused days billed in advance
credited. Hand-computed on a month of 310.00 + 10 % tax billed on the 1st (10.00 a day in
March), on both databases."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from core.ids import decode_id, encode_id
from domain.cars.cars import CarDetails, update_car
from domain.subscriptions.billing import bill_due
from models import BillingSubscription
from models.db import Database
from models.enums import CarStatus
from models.tables import audit_events
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.portal import make_car
from tests.test_subscription_adjustments import RENT, _invoices, _job, _notes
from tests.test_subscription_billing import _customer, _set_zone, _subscribe

MARCH, CHECK_OUT = date(2027, 3, 1), date(2027, 3, 11)
SETTING = """
mutation S($when: CheckOutEnd!) {
  updateOrganization(input: {checkOutEndsSubscriptions: $when}) {
    organization { checkOutEndsSubscriptions } userErrors { field code }
  }
}
"""


async def _rented_car(
    gql: GraphQLClient, db: Database, tenant: Tenant, name: str
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """(customer, car, subscription): March billed in advance for the car's bay."""
    customer = await _customer(gql, tenant, name)
    car_gid = await make_car(gql, tenant, encode_id("Customer", customer), "911")
    car = decode_id(car_gid)[1]
    subscription = await _subscribe(db, tenant.organization_id, customer, RENT, car_id=car)
    await bill_due(db, on=MARCH, organization_id=tenant.organization_id)
    return customer, car, subscription


async def _check_out(db: Database, tenant: Tenant, car: uuid.UUID) -> None:
    job = await _job(db, tenant, CHECK_OUT)
    await update_car(job, car, CarDetails(status=CarStatus.CHECKED_OUT))


async def _end_of(db: Database, subscription: uuid.UUID) -> date | None:
    async with db.connect() as conn:
        return await conn.scalar(
            sa.select(BillingSubscription.end_date).where(  # type: ignore[call-overload]
                BillingSubscription.id == subscription
            )
        )


async def test_by_default_a_checked_out_car_is_billed_to_the_end_of_its_period(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    await _set_zone(db, tenant.organization_id, "America/New_York")
    customer, car, subscription = await _rented_car(gql, db, tenant, "Period End")
    await _check_out(db, tenant, car)
    assert await _end_of(db, subscription) == date(2027, 4, 1)  # March paid for, no credit
    assert await _notes(db, customer) == []
    # April is not billed.
    await bill_due(db, on=date(2027, 4, 1), organization_id=tenant.organization_id)
    assert [i["total"] for i in await _invoices(db, customer)] == [34_100]
    async with db.connect() as conn:
        reasons = await conn.execute(
            sa.select(audit_events.c.data).where(
                audit_events.c.action == "subscription.ended",
                audit_events.c.organization_id == tenant.organization_id,
            )
        )
        assert [row["reason"] for row in reasons.scalars()] == ["car.checked_out"]


async def test_set_to_that_day_the_unused_days_are_credited(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    await _set_zone(db, tenant.organization_id, "America/New_York")
    staff = await gql(SETTING, {"when": "CHECK_OUT_DAY"}, token=tenant.staff_token)
    assert error_codes(staff) == ["OWNER_REQUIRED"]  # the OWNER's setting
    done = await gql.data(SETTING, {"when": "CHECK_OUT_DAY"}, token=tenant.owner_token)
    assert done["updateOrganization"]["organization"] == {
        "checkOutEndsSubscriptions": "CHECK_OUT_DAY"
    }
    customer, car, subscription = await _rented_car(gql, db, tenant, "That Day")
    await _check_out(db, tenant, car)
    assert await _end_of(db, subscription) == CHECK_OUT  # the check-out day is not billed
    # Billed 341.00 for March; used 1-10 March: 100.00 + 10.00 tax; credited 231.00.
    [(total, _, issued)] = await _notes(db, customer)
    assert (total, issued) == (23_100, CHECK_OUT)
    # Checking the car out again (or any other status change) credits nothing more.
    job = await _job(db, tenant, CHECK_OUT)
    await update_car(job, car, CarDetails(status=CarStatus.IN_STORAGE))
    await update_car(job, car, CarDetails(status=CarStatus.CHECKED_OUT))
    assert len(await _notes(db, customer)) == 1


async def test_other_cars_and_other_organizations_keep_being_billed(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    await _set_zone(db, tenant.organization_id, "America/New_York")
    _, car, leaving = await _rented_car(gql, db, tenant, "Leaving")
    _, _, staying = await _rented_car(gql, db, tenant, "Staying")
    await _set_zone(db, other_tenant.organization_id, "America/New_York")
    _, _, elsewhere = await _rented_car(gql, db, other_tenant, "Elsewhere")
    await _check_out(db, tenant, car)
    assert await _end_of(db, leaving) == date(2027, 4, 1)
    assert (await _end_of(db, staying), await _end_of(db, elsewhere)) == (None, None)
