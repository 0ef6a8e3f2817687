"""Appointments: staff scheduling, validation, portal visibility and portal requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from core.ids import decode_id
from models import Appointment, Notification
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes, user_errors
from tests.portal import make_car, make_contact, make_customer, sign_in_by_invite
from tests.smtp import SmtpServer

FIELDS = "id title kind status startsAt endsAt notes requestedAt cancelledAt car { id }"
CREATE = f"""
mutation C($input: CreateAppointmentInput!) {{
  createAppointment(input: $input) {{
    appointment {{ {FIELDS} internalNotes customer {{ id }} }} userErrors {{ field message code }}
  }}
}}
"""
UPDATE = f"""
mutation U($input: UpdateAppointmentInput!) {{
  updateAppointment(input: $input) {{
    appointment {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
CANCEL = f"""
mutation X($input: CancelAppointmentInput!) {{
  cancelAppointment(input: $input) {{ appointment {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
CONFIRM = f"""
mutation F($input: ConfirmAppointmentInput!) {{
  confirmAppointment(input: $input) {{ appointment {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
REQUEST = f"""
mutation R($input: RequestAppointmentInput!) {{
  requestAppointment(input: $input) {{ appointment {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { portalSettings { allowAppointmentRequests } }
}
"""
PORTAL_SCHEDULE = """
{ viewer { customer {
    upcomingAppointments { nodes { id title status } }
    pastAppointments { nodes { id title status } }
    appointments { totalCount nodes { id } } } } }
"""


def offset(hours: float, tz_hours: int = -5) -> str:
    """A time `hours` from now, written with an explicit offset (-05:00 by default)."""
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return moment.astimezone(timezone(timedelta(hours=tz_hours))).replace(microsecond=0).isoformat()


async def _create(gql: GraphQLClient, tenant: Tenant, customer_id: str, **fields: Any) -> Any:
    payload = {
        "customerId": customer_id,
        "title": "Spring detailing",
        "kind": "DETAILING",
        "startsAt": offset(48),
        "endsAt": offset(50),
        "notes": "Bring the spare keys.",
        "internalNotes": "Customer is picky about the wheels.",
        **fields,
    }
    data = await gql.data(CREATE, {"input": payload}, token=tenant.staff_token)
    return data["createAppointment"]


async def _appointment_rows(db: Database, customer_gid: str) -> int:
    _, customer_id = decode_id(customer_gid)
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(sa.func.count())
            .select_from(Appointment)
            .where(Appointment.customer_id == customer_id)
        )
        return found.scalar_one()


async def test_staff_create_update_confirm_and_cancel(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "911")
    starts = offset(48)
    created = await _create(gql, tenant, customer_id, carId=car_id, startsAt=starts)
    assert created["userErrors"] == []
    appointment = created["appointment"]
    assert appointment["status"] == "SCHEDULED"
    assert appointment["car"] == {"id": car_id}
    assert appointment["internalNotes"] == "Customer is picky about the wheels."
    # Stored in UTC whatever offset it came with.
    assert appointment["startsAt"].endswith("+00:00")
    assert datetime.fromisoformat(appointment["startsAt"]) == datetime.fromisoformat(starts)

    moved = await gql.data(
        UPDATE,
        {"input": {"id": appointment["id"], "startsAt": offset(72), "endsAt": offset(73)}},
        token=tenant.staff_token,
    )
    assert moved["updateAppointment"]["userErrors"] == []
    assert moved["updateAppointment"]["appointment"]["title"] == "Spring detailing"

    confirmed = await gql.data(
        CONFIRM, {"input": {"id": appointment["id"]}}, token=tenant.staff_token
    )
    assert confirmed["confirmAppointment"]["appointment"]["status"] == "CONFIRMED"
    again = await gql.data(CONFIRM, {"input": {"id": appointment["id"]}}, token=tenant.staff_token)
    assert user_errors(again["confirmAppointment"]) == [(["input", "id"], "INVALID_STATUS")]

    cancelled = await gql.data(
        CANCEL,
        {"input": {"id": appointment["id"], "reason": "The shop is closed that day."}},
        token=tenant.staff_token,
    )
    done = cancelled["cancelAppointment"]["appointment"]
    assert done["status"] == "CANCELLED" and done["cancelledAt"]
    audit = await gql.data(
        '{ auditEvents(action: "appointment.cancelled") { nodes { data } } }',
        token=tenant.owner_token,
    )
    assert audit["auditEvents"]["nodes"][0]["data"]["reason"] == "The shop is closed that day."
    late = await gql.data(
        UPDATE, {"input": {"id": appointment["id"], "title": "x"}}, token=tenant.staff_token
    )
    assert user_errors(late["updateAppointment"]) == [(["input", "id"], "CANCELLED")]


async def test_invalid_times_write_nothing(gql: GraphQLClient, db: Database, tenant: Tenant):
    customer_id, _ = await make_customer(gql, tenant)
    backwards = await _create(gql, tenant, customer_id, startsAt=offset(50), endsAt=offset(48))
    assert backwards["appointment"] is None
    assert user_errors(backwards) == [(["input", "endsAt"], "ENDS_BEFORE_START")]
    naive = await _create(gql, tenant, customer_id, startsAt="2030-06-03T09:00:00")
    assert user_errors(naive) == [(["input", "startsAt"], "INVALID")]
    too_long = await _create(gql, tenant, customer_id, title="x" * 201, notes=None)
    assert user_errors(too_long) == [(["input", "title"], "TOO_LONG")]
    missing = await gql.data(
        CREATE,
        {"input": {"customerId": customer_id, "title": "No time"}},
        token=tenant.staff_token,
    )
    assert sorted(user_errors(missing["createAppointment"])) == [
        (["input", "endsAt"], "REQUIRED"),
        (["input", "startsAt"], "REQUIRED"),
    ]
    other_customer, _ = await make_customer(gql, tenant, "Someone Else")
    their_car = await make_car(gql, tenant, other_customer, "356")
    wrong_car = await _create(gql, tenant, customer_id, carId=their_car)
    assert user_errors(wrong_car) == [(["input", "carId"], "INVALID")]
    assert await _appointment_rows(db, customer_id) == 0

    # A reschedule that would end before it starts changes nothing either.
    created = (await _create(gql, tenant, customer_id))["appointment"]
    refused = await gql.data(
        UPDATE,
        {"input": {"id": created["id"], "endsAt": offset(47), "title": "Changed"}},
        token=tenant.staff_token,
    )
    assert user_errors(refused["updateAppointment"]) == [(["input", "endsAt"], "ENDS_BEFORE_START")]
    again = await gql.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on Appointment {{ {FIELDS} }} }} }}",
        {"id": created["id"]},
        token=tenant.staff_token,
    )
    assert again["node"]["title"] == "Spring detailing"
    assert again["node"]["endsAt"] == created["endsAt"]


async def test_portal_viewers_see_their_own_schedule_without_internal_notes(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant)
    upcoming = (await _create(gql, tenant, customer_id, notifyCustomer=False))["appointment"]
    past = (
        await _create(
            gql,
            tenant,
            customer_id,
            title="Last winter",
            startsAt=offset(-100),
            endsAt=offset(-98),
            notifyCustomer=False,
        )
    )["appointment"]
    other_id, _ = await make_customer(gql, tenant, "Other Customer")
    theirs = (await _create(gql, tenant, other_id, title="Not yours"))["appointment"]

    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    data = await gql.data(PORTAL_SCHEDULE, token=session)
    customer = data["viewer"]["customer"]
    assert [a["id"] for a in customer["upcomingAppointments"]["nodes"]] == [upcoming["id"]]
    assert [a["id"] for a in customer["pastAppointments"]["nodes"]] == [past["id"]]
    assert customer["appointments"]["totalCount"] == 2

    hidden = await gql(
        "query($id: ID!) { node(id: $id) { ... on Appointment { title internalNotes } } }",
        {"id": upcoming["id"]},
        token=session,
    )
    assert error_codes(hidden) == ["FORBIDDEN"]
    assert hidden["data"]["node"] is None or hidden["data"]["node"].get("internalNotes") is None
    other = await gql(
        "query($id: ID!) { node(id: $id) { ... on Appointment { title } } }",
        {"id": theirs["id"]},
        token=session,
    )
    assert error_codes(other) == ["NOT_FOUND"]
    # Staff mutations are not theirs to run.
    refused = await gql(CANCEL, {"input": {"id": upcoming["id"]}}, token=session)
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_requests_need_the_setting_and_staff_confirm_them(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    customer_id, _ = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "Carrera")
    contact_id, contact_email = await make_contact(gql, tenant, customer_id, name="Robin Driver")
    session = await sign_in_by_invite(gql, db, smtp, tenant, contact_email, contactId=contact_id)
    asked = {
        "startsAt": offset(24 * 7),
        "endsAt": offset(24 * 7 + 1),
        "kind": "SERVICE",
        "carId": car_id,
        "notes": "The brakes squeal.",
    }
    refused = await gql.data(REQUEST, {"input": asked}, token=session)
    assert user_errors(refused["requestAppointment"]) == [(None, "NOT_ALLOWED")]
    assert await _appointment_rows(db, customer_id) == 0

    await gql.data(
        SETTINGS, {"input": {"allowAppointmentRequests": True}}, token=tenant.owner_token
    )
    past = await gql.data(
        REQUEST, {"input": {**asked, "startsAt": offset(-2), "endsAt": offset(-1)}}, token=session
    )
    assert user_errors(past["requestAppointment"]) == [(["input", "startsAt"], "IN_THE_PAST")]
    done = await gql.data(REQUEST, {"input": asked}, token=session)
    requested = done["requestAppointment"]["appointment"]
    assert requested["status"] == "REQUESTED" and requested["title"] == "Service"
    assert requested["requestedAt"] and requested["car"] == {"id": car_id}

    _, appointment_id = decode_id(requested["id"])
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(Notification.kind, Notification.recipient_staff_id).where(
                Notification.subject_id == appointment_id
            )
        )
        told = found.all()
    assert len(told) == 2  # the owner and the staff member
    assert {kind for kind, _ in told} == {"APPOINTMENT_REQUESTED"}

    who = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Appointment { requestedBy { id } } } }",
        {"id": requested["id"]},
        token=tenant.staff_token,
    )
    assert who["node"]["requestedBy"] == {"id": contact_id}
    bad = await gql.data(
        CONFIRM, {"input": {"id": requested["id"], "status": "COMPLETED"}}, token=tenant.staff_token
    )
    assert user_errors(bad["confirmAppointment"]) == [(["input", "status"], "INVALID_STATUS")]
    confirmed = await gql.data(
        CONFIRM,
        {
            "input": {
                "id": requested["id"],
                "status": "SCHEDULED",
                "startsAt": offset(24 * 8),
                "endsAt": offset(24 * 8 + 2),
            }
        },
        token=tenant.staff_token,
    )
    appointment = confirmed["confirmAppointment"]["appointment"]
    assert appointment["status"] == "SCHEDULED"
    seen = await gql.data(PORTAL_SCHEDULE, token=session)
    assert [a["status"] for a in seen["viewer"]["customer"]["upcomingAppointments"]["nodes"]] == [
        "SCHEDULED"
    ]


async def test_preview_sessions_cannot_request(gql: GraphQLClient, db: Database, tenant: Tenant):
    from auth.sessions import start_session
    from models.enums import SessionKind

    customer_id, _ = await make_customer(gql, tenant)
    await gql.data(
        SETTINGS, {"input": {"allowAppointmentRequests": True}}, token=tenant.owner_token
    )
    _, customer_uuid = decode_id(customer_id)
    async with db.write() as session:
        issued = await start_session(
            session,
            kind=SessionKind.PREVIEW,
            organization_id=tenant.organization_id,
            customer_id=customer_uuid,
        )
    asked = {"startsAt": offset(30), "endsAt": offset(31)}
    refused = await gql(REQUEST, {"input": asked}, token=issued.token)
    assert error_codes(refused) == ["PREVIEW_READ_ONLY"]
    for mutation in (
        "mutation { updateMyPreferences(input: {marketing: true}) { userErrors { code } } }",
        'mutation { updateMyProfile(input: {name: "Previewed"}) { userErrors { code } } }',
        'mutation { requestEmailChange(input: {newEmail: "p@example.test"}) { sent } }',
    ):
        assert error_codes(await gql(mutation, token=issued.token)) == ["PREVIEW_READ_ONLY"]
    assert await _appointment_rows(db, customer_id) == 0
