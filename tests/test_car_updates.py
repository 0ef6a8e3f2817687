"""Car updates: status changes, condition reports, photos shown and jobs reach the customer
and the contacts who may see the car and want car updates, as one email per window, once,
checked on a real SMTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from core.ids import decode_id_of, encode_id
from domain.cars.updates import send_car_updates
from models import CarPhoto, PortalSettings
from models.db import Database
from models.tables import car_update_digests, outbox_emails
from tests.helpers import GraphQLClient, Tenant, error_codes, user_errors
from tests.portal import deliver, make_car, make_contact, make_customer
from tests.smtp import SmtpServer
from tests.test_jobs import COMPLETE, CREATE_JOB, REPORT
from tests.test_preferences import NO_EMAIL

UPDATE_CAR = """
mutation U($input: UpdateCarInput!) { updateCar(input: $input) { userErrors { field code } } }
"""
UPDATE_PHOTO = """
mutation P($input: UpdateCarPhotoInput!) {
  updateCarPhoto(input: $input) { userErrors { field code } }
}
"""
START = """
mutation S($input: JobInput!) { startJob(input: $input) { userErrors { field code } } }
"""
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) {
    portalSettings { carUpdateMinutes } userErrors { field code }
  }
}
"""


class Household:
    """A customer with two cars, and contacts: one who wants car updates, one who does not,
    a driver of the first car only and a bookkeeper."""

    async def make(self, gql: GraphQLClient, tenant: Tenant) -> Household:
        self.tenant = tenant
        self.customer_id, self.customer = await make_customer(gql, tenant, "Casey Owner")
        self.car = await make_car(gql, tenant, self.customer_id, "911")
        self.other_car = await make_car(gql, tenant, self.customer_id, "356")
        _, self.wanted = await make_contact(gql, tenant, self.customer_id, name="Wanda")
        _, self.unwanted = await make_contact(
            gql, tenant, self.customer_id, name="Nadia", communicationPreferences=NO_EMAIL
        )
        _, self.driver = await make_contact(
            gql, tenant, self.customer_id, name="Dee", portalScope="CARS", carIds=[self.car]
        )
        _, self.bookkeeper = await make_contact(
            gql, tenant, self.customer_id, name="Bo", portalScope="BILLING"
        )
        return self

    def everyone(self) -> list[str]:
        return [self.customer, self.wanted, self.unwanted, self.driver, self.bookkeeper]


async def _queued(db: Database, tenant: Tenant) -> list[tuple[str, str, str]]:
    """(address, subject, text) of the organization's car update emails, oldest first."""
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(
                outbox_emails.c.to_address, outbox_emails.c.subject, outbox_emails.c.body_text
            )
            .where(
                outbox_emails.c.organization_id == tenant.organization_id,
                outbox_emails.c.kind == "CAR_UPDATES",
            )
            .order_by(outbox_emails.c.created_at, outbox_emails.c.to_address)
        )
        return [tuple(row) for row in found.all()]  # type: ignore[misc]


async def _send(db: Database, tenant: Tenant, now: datetime) -> int:
    return await send_car_updates(db, now, organization_id=tenant.organization_id)


async def _status(gql: GraphQLClient, tenant: Tenant, car: str, status: str) -> None:
    data = await gql.data(
        UPDATE_CAR, {"input": {"id": car, "status": status}}, token=tenant.staff_token
    )
    assert data["updateCar"]["userErrors"] == []


async def _hidden_photo(db: Database, tenant: Tenant, car: str) -> str:
    async with db.write() as session:
        photo = CarPhoto(
            organization_id=tenant.organization_id,
            car_id=decode_id_of("Car", car),
            filename="front.jpg",
            content_type="image/jpeg",
            sha256="0" * 64,
            storage_key="car-photos/none",
            caption="Front three-quarter",
            visible_in_portal=False,
        )
        session.add(photo)
    return encode_id("CarPhoto", photo.id)


async def test_changes_within_the_window_arrive_as_one_email(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    house = await Household().make(gql, tenant)
    start = datetime.now(UTC)
    await _status(gql, tenant, house.car, "IN_SERVICE")
    report = await gql.data(
        REPORT,
        {
            "input": {
                "carId": house.car,
                "items": [{"area": "Paint", "rating": 4}],
                "summary": "Small chip on the bonnet.",
                "internalNotes": "Staff only: customer was told in person.",
            }
        },
        token=tenant.staff_token,
    )
    assert report["createConditionReport"]["userErrors"] == []
    photo = await _hidden_photo(db, tenant, house.car)
    shown = await gql.data(
        UPDATE_PHOTO, {"input": {"id": photo, "visibleInPortal": True}}, token=tenant.staff_token
    )
    assert shown["updateCarPhoto"]["userErrors"] == []
    assert await _queued(db, tenant) == []  # nothing before the window closes

    assert await _send(db, tenant, start + timedelta(minutes=14)) == 0
    assert await _send(db, tenant, datetime.now(UTC) + timedelta(minutes=15)) == 3
    queued = await _queued(db, tenant)
    # The customer, the contact who wants them and the car's driver: one email each.
    assert sorted(to for to, _, _ in queued) == sorted([house.customer, house.wanted, house.driver])
    for _, subject, text in queued:
        assert subject.startswith("3 updates on your cars from ")
        assert "Porsche 911: now in service (was in storage)" in text
        assert "a condition report was filed: Small chip on the bonnet." in text
        assert "a new photo: Front three-quarter" in text
        assert "Staff only" not in text
    assert await _send(db, tenant, datetime.now(UTC) + timedelta(hours=1)) == 0  # sent once

    await deliver(db, smtp)
    received = [str(m["To"]) for m in smtp.messages if str(m["To"]) in house.everyone()]
    assert sorted(received) == sorted([house.customer, house.wanted, house.driver])

    # News after the window is a new email.
    await _status(gql, tenant, house.car, "IN_STORAGE")
    assert await _send(db, tenant, datetime.now(UTC) + timedelta(minutes=15)) == 3
    assert len(await _queued(db, tenant)) == 6


async def test_news_of_another_car_skips_its_other_drivers(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    house = await Household().make(gql, tenant)
    await _status(gql, tenant, house.other_car, "CHECKED_OUT")
    assert await _send(db, tenant, datetime.now(UTC) + timedelta(minutes=15)) == 2
    queued = await _queued(db, tenant)
    assert sorted(to for to, _, _ in queued) == sorted([house.customer, house.wanted])
    assert queued[0][1] == "Update on Porsche 356: now checked out (was in storage)"


async def test_jobs_started_and_finished_join_the_updates(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    house = await Household().make(gql, tenant)
    made = await gql.data(
        CREATE_JOB,
        {"input": {"customerId": house.customer_id, "carId": house.car, "title": "Detailing"}},
        token=tenant.staff_token,
    )
    job = made["createJob"]["job"]["id"]
    started = await gql.data(START, {"input": {"id": job}}, token=tenant.staff_token)
    assert started["startJob"]["userErrors"] == []
    done = await gql.data(COMPLETE, {"input": {"id": job}}, token=tenant.staff_token)
    assert done["completeJob"]["userErrors"] == []
    assert await _send(db, tenant, datetime.now(UTC) + timedelta(minutes=15)) == 3
    for _, subject, text in await _queued(db, tenant):
        assert subject.startswith("2 updates")
        assert "work started: Detailing" in text and "finished: Detailing" in text


async def test_two_schedulers_send_a_digest_once(gql: GraphQLClient, db: Database, tenant: Tenant):
    house = await Household().make(gql, tenant)
    await _status(gql, tenant, house.car, "IN_TRANSIT")
    later = datetime.now(UTC) + timedelta(minutes=15)
    runs = await asyncio.gather(*(_send(db, tenant, later) for _ in range(4)))
    assert sum(runs) == 3
    assert len(await _queued(db, tenant)) == 3


async def test_the_window_is_the_owners_setting(gql: GraphQLClient, db: Database, tenant: Tenant):
    bad = await gql.data(SETTINGS, {"input": {"carUpdateMinutes": -1}}, token=tenant.owner_token)
    assert user_errors(bad["updatePortalSettings"]) == [(["input", "carUpdateMinutes"], "INVALID")]
    staff = await gql(SETTINGS, {"input": {"carUpdateMinutes": 1}}, token=tenant.staff_token)
    assert error_codes(staff) == ["OWNER_REQUIRED"]
    ok = await gql.data(SETTINGS, {"input": {"carUpdateMinutes": 60}}, token=tenant.owner_token)
    assert ok["updatePortalSettings"]["portalSettings"] == {"carUpdateMinutes": 60}
    async with db.connect() as conn:
        minutes = await conn.scalar(
            sa.select(PortalSettings.car_update_minutes).where(  # type: ignore[call-overload]
                PortalSettings.organization_id == tenant.organization_id
            )
        )
    assert minutes == 60
    house = await Household().make(gql, tenant)
    await _status(gql, tenant, house.car, "IN_TRANSIT")
    assert await _send(db, tenant, datetime.now(UTC) + timedelta(minutes=59)) == 0
    assert await _send(db, tenant, datetime.now(UTC) + timedelta(minutes=60)) == 3


async def test_one_open_digest_per_person(gql: GraphQLClient, db: Database, tenant: Tenant):
    house = await Household().make(gql, tenant)
    await asyncio.gather(
        _status(gql, tenant, house.car, "IN_SERVICE"),
        _status(gql, tenant, house.other_car, "CHECKED_OUT"),
    )
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(car_update_digests.c.to_address, car_update_digests.c.events).where(
                car_update_digests.c.organization_id == tenant.organization_id
            )
        )
        rows = found.all()
    by_person = {to: len(events) for to, events in rows}
    assert len(rows) == len(by_person)  # one open digest each
    assert by_person == {house.customer: 2, house.wanted: 2, house.driver: 1}
