"""Customers cancel or move only their own appointments, only where the business allows it
and only until its cut-off: another customer's viewer, another organization's, a driver of
another car, staff and anonymous callers change nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.ids import decode_id_of
from models import Appointment, Notification
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes, user_errors
from tests.messaging import portal_token
from tests.portal import make_car, make_contact, make_customer
from tests.test_appointments import CREATE, offset

CANCEL_MINE = """
mutation C($input: CancelMyAppointmentInput!) {
  cancelMyAppointment(input: $input) { appointment { id status } userErrors { field code } }
}
"""
MOVE_MINE = """
mutation M($input: RescheduleMyAppointmentInput!) {
  rescheduleMyAppointment(input: $input) {
    appointment { id startsAt endsAt status } userErrors { field code }
  }
}
"""
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) {
    portalSettings { allowAppointmentChanges appointmentChangeCutoffHours }
    userErrors { field code }
  }
}
"""


async def _allow(gql: GraphQLClient, tenant: Tenant, allowed: bool = True, hours: int = 24) -> None:
    data = await gql.data(
        SETTINGS,
        {"input": {"allowAppointmentChanges": allowed, "appointmentChangeCutoffHours": hours}},
        token=tenant.owner_token,
    )
    assert data["updatePortalSettings"]["userErrors"] == []


async def _appointment(
    gql: GraphQLClient, tenant: Tenant, customer_id: str, hours: float = 72, **fields: Any
) -> str:
    data = await gql.data(
        CREATE,
        {
            "input": {
                "customerId": customer_id,
                "title": "Service",
                "startsAt": offset(hours),
                "endsAt": offset(hours + 2),
                "notifyCustomer": False,
                **fields,
            }
        },
        token=tenant.staff_token,
    )
    assert data["createAppointment"]["userErrors"] == []
    return str(data["createAppointment"]["appointment"]["id"])


async def _row(db: Database, gid: str) -> tuple[Any, ...]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(Appointment.status, Appointment.starts_at).where(  # type: ignore[call-overload]
                Appointment.id == decode_id_of("Appointment", gid)
            )
        )
        return tuple(found.one())


def _move(gid: str) -> dict[str, Any]:
    return {"input": {"id": gid, "startsAt": offset(120), "endsAt": offset(121)}}


async def _both(gql: GraphQLClient, gid: str, token: str | None) -> list[dict[str, Any]]:
    cancel = await gql(CANCEL_MINE, {"input": {"id": gid}}, token=token)
    move = await gql(MOVE_MINE, _move(gid), token=token)
    return [cancel, move]


async def test_other_viewers_staff_and_anonymous_change_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    await _allow(gql, tenant)
    await _allow(gql, other_tenant)
    customer_id, _ = await make_customer(gql, tenant)
    car = await make_car(gql, tenant, customer_id, "911")
    other_car = await make_car(gql, tenant, customer_id, "356")
    gid = await _appointment(gql, tenant, customer_id, carId=car)
    before = await _row(db, gid)

    neighbour, _ = await make_customer(gql, tenant)
    stranger, _ = await make_customer(gql, other_tenant)
    driver, _ = await make_contact(gql, tenant, customer_id, portalScope="CARS", carIds=[other_car])
    refused_in_payload = [
        await portal_token(db, tenant, neighbour),
        await portal_token(db, other_tenant, stranger),
        await portal_token(db, tenant, customer_id, driver),
    ]
    for token in refused_in_payload:
        for result in await _both(gql, gid, token):
            (payload,) = result["data"].values()
            assert user_errors(payload) == [(["input", "id"], "NOT_FOUND")]
    for token in (tenant.staff_token, tenant.owner_token, None):
        for result in await _both(gql, gid, token):
            assert result.get("errors") and not (result.get("data") or {}).get(
                "cancelMyAppointment"
            )
    assert await _row(db, gid) == before


async def test_not_allowed_unless_the_business_says_so(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    gid = await _appointment(gql, tenant, customer_id)
    token = await portal_token(db, tenant, customer_id)
    for result in await _both(gql, gid, token):
        (payload,) = result["data"].values()
        assert user_errors(payload) == [(None, "NOT_ALLOWED")]
    await _allow(gql, tenant, allowed=False)
    for result in await _both(gql, gid, token):
        (payload,) = result["data"].values()
        assert user_errors(payload) == [(None, "NOT_ALLOWED")]


async def test_the_cut_off_is_enforced(gql: GraphQLClient, db: Database, tenant: Tenant):
    await _allow(gql, tenant, hours=24)
    customer_id, _ = await make_customer(gql, tenant)
    soon = await _appointment(gql, tenant, customer_id, hours=23)  # inside the 24 hours
    later = await _appointment(gql, tenant, customer_id, hours=25)
    token = await portal_token(db, tenant, customer_id)
    for result in await _both(gql, soon, token):
        (payload,) = result["data"].values()
        assert user_errors(payload) == [(["input", "id"], "TOO_LATE")]
    moved = await gql.data(MOVE_MINE, _move(later), token=token)
    assert moved["rescheduleMyAppointment"]["userErrors"] == []
    await _allow(gql, tenant, hours=0)  # no cut-off: until the start
    done = await gql.data(CANCEL_MINE, {"input": {"id": soon}}, token=token)
    assert done["cancelMyAppointment"]["appointment"]["status"] == "CANCELLED"


async def test_cancel_and_move_your_own_and_staff_are_told(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    await _allow(gql, tenant)
    customer_id, _ = await make_customer(gql, tenant, "Mo Mover")
    car = await make_car(gql, tenant, customer_id, "911")
    first = await _appointment(gql, tenant, customer_id, carId=car)
    second = await _appointment(gql, tenant, customer_id, carId=car)
    driver, _ = await make_contact(gql, tenant, customer_id, portalScope="CARS", carIds=[car])
    token = await portal_token(db, tenant, customer_id, driver)  # a driver of that car may

    past = await gql.data(
        MOVE_MINE,
        {"input": {"id": first, "startsAt": offset(-5), "endsAt": offset(-4)}},
        token=token,
    )
    assert user_errors(past["rescheduleMyAppointment"]) == [(["input", "startsAt"], "IN_THE_PAST")]
    moved = await gql.data(MOVE_MINE, _move(first), token=token)
    assert moved["rescheduleMyAppointment"]["userErrors"] == []
    assert moved["rescheduleMyAppointment"]["appointment"]["startsAt"] is not None
    cancelled = await gql.data(
        CANCEL_MINE, {"input": {"id": second, "reason": "Away that week."}}, token=token
    )
    assert cancelled["cancelMyAppointment"]["appointment"]["status"] == "CANCELLED"
    again = await gql.data(CANCEL_MINE, {"input": {"id": second}}, token=token)
    assert user_errors(again["cancelMyAppointment"]) == [(["input", "id"], "INVALID_STATUS")]

    async with db.connect() as conn:
        titles = (
            await conn.execute(
                sa.select(Notification.title).where(  # type: ignore[call-overload]
                    Notification.organization_id == tenant.organization_id,
                    Notification.kind == "APPOINTMENT_CHANGED",
                )
            )
        ).scalars()
        told = set(titles)
    assert told == {"Mo Mover moved: Service", "Mo Mover cancelled: Service"}


async def test_a_closed_schedule_section_refuses_changes_before_anything(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    await _allow(gql, tenant)
    customer_id, _ = await make_customer(gql, tenant)
    gid = await _appointment(gql, tenant, customer_id)
    token = await portal_token(db, tenant, customer_id)
    closed = await gql.data(
        SETTINGS, {"input": {"showAppointments": False}}, token=tenant.owner_token
    )
    assert closed["updatePortalSettings"]["userErrors"] == []
    for result in await _both(gql, gid, token):
        assert error_codes(result) == ["SECTION_DISABLED"]
    assert (await _row(db, gid))[0] == "SCHEDULED"
