"""Community events: staff plan and publish them, invitations and reminders go only to those
who want social-event emails, portal viewers answer within the capacity."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from core.ids import decode_id, encode_id
from domain.events.announcements import remind_event_attendees
from models import CommunityEvent
from models.db import Database
from tests.helpers import GraphQLClient, Tenant, error_codes, make_tenant, not_found_at, user_errors
from tests.portal import deliver, make_contact, make_customer, sign_in_by_invite
from tests.smtp import SmtpServer

EVENT_FIELDS = """
id title place startsAt endsAt capacity publishedAt cancelledAt spotsLeft
myRsvp { status guests }
"""
CREATE = f"""
mutation C($input: CreateEventInput!) {{
  createEvent(input: $input) {{ event {{ {EVENT_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
UPDATE = f"""
mutation U($input: UpdateEventInput!) {{
  updateEvent(input: $input) {{ event {{ {EVENT_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
PUBLISH = f"""
mutation P($id: ID!) {{
  publishEvent(input: {{id: $id}}) {{ event {{ {EVENT_FIELDS} }} userErrors {{ field code }} }}
}}
"""
CANCEL = f"""
mutation X($id: ID!) {{
  cancelEvent(input: {{id: $id}}) {{ event {{ {EVENT_FIELDS} }} userErrors {{ field code }} }}
}}
"""
RSVP = f"""
mutation R($input: RsvpEventInput!) {{
  rsvpEvent(input: $input) {{ event {{ {EVENT_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
UPCOMING = (
    f"{{ viewer {{ upcomingEvents(first: 50) {{ totalCount nodes {{ {EVENT_FIELDS} }} }} }} }}"
)
STAFF_EVENTS = """
query E($upcoming: Boolean!) {
  events(upcomingOnly: $upcoming, first: 100) { totalCount nodes { id title } }
}
"""
ATTENDEES = """
query A($id: ID!) {
  node(id: $id) {
    ... on CommunityEvent {
      goingCount guestCount notGoingCount spotsLeft
      attendees(first: 50) {
        totalCount nodes { name status guests customer { id } contact { id } }
      }
    }
  }
}
"""
ARCHIVE_CUSTOMER = """
mutation A($id: ID!) { archiveCustomer(input: {id: $id}) { userErrors { code } } }
"""
ARCHIVE_CONTACT = """
mutation A($id: ID!) { archiveContact(input: {id: $id}) { userErrors { code } } }
"""
SOCIAL = {"communicationPreferences": {"socialEvents": True}}
NO_SOCIAL = {"communicationPreferences": {"socialEvents": False}}


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def _create(gql: GraphQLClient, tenant: Tenant, **fields) -> dict:
    title = fields.pop("title", f"Cars and coffee {uuid.uuid4().hex[:8]}")
    values = {"title": title, "place": "North lot", "startsAt": _at(72), "endsAt": _at(75)}
    data = await gql.data(CREATE, {"input": {**values, **fields}}, token=tenant.staff_token)
    payload = data["createEvent"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["event"]


async def _published(gql: GraphQLClient, tenant: Tenant, **fields) -> dict:
    event = await _create(gql, tenant, **fields)
    data = await gql.data(PUBLISH, {"id": event["id"]}, token=tenant.staff_token)
    assert data["publishEvent"]["userErrors"] == []
    return data["publishEvent"]["event"]


async def _rsvp(gql: GraphQLClient, token: str, event_id: str, status: str, guests: int = 0):
    variables = {"input": {"eventId": event_id, "status": status, "guests": guests}}
    return (await gql.data(RSVP, variables, token=token))["rsvpEvent"]


def _recipients(smtp: SmtpServer, subject: str) -> list[str]:
    return sorted(str(m["To"]).lower() for m in smtp.messages if str(m["Subject"]) == subject)


async def test_bad_input_writes_nothing(gql, tenant):
    bad = {
        "title": "x" * 201,
        "startsAt": _at(10),
        "endsAt": _at(9),
        "capacity": 0,
    }
    data = await gql.data(CREATE, {"input": bad}, token=tenant.staff_token)
    assert sorted(user_errors(data["createEvent"])) == [
        (["input", "capacity"], "INVALID"),
        (["input", "endsAt"], "INVALID"),
        (["input", "title"], "TOO_LONG"),
    ]
    naive = {"title": "Open day", "startsAt": "2030-05-01T09:00:00", "endsAt": _at(9)}
    data = await gql.data(CREATE, {"input": naive}, token=tenant.staff_token)
    assert user_errors(data["createEvent"]) == [(["input", "startsAt"], "INVALID")]
    missing = await gql.data(CREATE, {"input": {"title": "Open day"}}, token=tenant.staff_token)
    assert sorted(user_errors(missing["createEvent"])) == [
        (["input", "endsAt"], "REQUIRED"),
        (["input", "startsAt"], "REQUIRED"),
    ]
    listed = await gql.data(STAFF_EVENTS, {"upcoming": False}, token=tenant.staff_token)
    assert listed["events"]["totalCount"] == 0

    event = await _create(gql, tenant, capacity=10)
    moved = {"id": event["id"], "endsAt": _at(1), "description": "y" * 5001}
    data = await gql.data(UPDATE, {"input": moved}, token=tenant.staff_token)
    assert sorted(user_errors(data["updateEvent"])) == [
        (["input", "description"], "TOO_LONG"),
        (["input", "endsAt"], "INVALID"),
    ]
    later = {"id": event["id"], "place": "South lot", "capacity": None, "endsAt": _at(80)}
    data = await gql.data(UPDATE, {"input": later}, token=tenant.staff_token)
    changed = data["updateEvent"]["event"]
    assert (changed["place"], changed["capacity"], changed["spotsLeft"]) == (
        "South lot",
        None,
        None,
    )
    assert changed["title"] == event["title"]  # omitted fields keep their value


async def test_invitations_go_only_to_those_who_want_social_events(
    gql, db: Database, smtp: SmtpServer, tenant, other_tenant
):
    keen, keen_email = await make_customer(gql, tenant, "Keen Customer", **SOCIAL)
    _, keen_contact = await make_contact(gql, tenant, keen, **SOCIAL)
    await make_contact(gql, tenant, keen, **NO_SOCIAL)
    _, driver_email = await make_contact(gql, tenant, keen, portalScope="CARS", **SOCIAL)
    quiet, _ = await make_customer(gql, tenant, "Quiet Customer", **NO_SOCIAL)
    _, quiet_contact = await make_contact(gql, tenant, quiet, **SOCIAL)
    await make_customer(gql, tenant, "Default Customer")  # social events are off by default
    gone, _ = await make_customer(gql, tenant, "Gone Customer", **SOCIAL)
    await make_contact(gql, tenant, gone, **SOCIAL)  # of an archived customer
    await gql.data(ARCHIVE_CUSTOMER, {"id": gone}, token=tenant.staff_token)
    archived, _ = await make_contact(gql, tenant, quiet, **SOCIAL)
    await gql.data(ARCHIVE_CONTACT, {"id": archived}, token=tenant.staff_token)
    await make_customer(gql, other_tenant, "Elsewhere", **SOCIAL)

    event = await _create(gql, tenant, capacity=40)
    await deliver(db, smtp)
    subject = f"You are invited: {event['title']}"
    assert _recipients(smtp, subject) == []  # a draft invites nobody

    await gql.data(PUBLISH, {"id": event["id"]}, token=tenant.staff_token)
    await deliver(db, smtp)
    expected = sorted(e.lower() for e in (keen_email, keen_contact, driver_email, quiet_contact))
    assert _recipients(smtp, subject) == expected
    message = next(m for m in smtp.messages if str(m["Subject"]) == subject)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "North lot" in text and "limited to 40" in text and "/events" in text

    again = await gql.data(PUBLISH, {"id": event["id"]}, token=tenant.staff_token)
    assert user_errors(again["publishEvent"]) == [(["input", "id"], "NOT_EDITABLE")]
    await deliver(db, smtp)
    assert _recipients(smtp, subject) == expected  # published once, invited once


async def test_portal_sees_only_published_uncancelled_upcoming_events_of_its_business(
    gql, db: Database, smtp: SmtpServer, tenant, other_tenant
):
    customer_id, email = await make_customer(gql, tenant)
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    shown = await _published(gql, tenant, capacity=5)
    draft = await _create(gql, tenant)
    cancelled = await _published(gql, tenant)
    await gql.data(CANCEL, {"id": cancelled["id"]}, token=tenant.staff_token)
    elsewhere = await _published(gql, other_tenant)
    async with db.write() as session:  # over already (publishing refuses events that are over)
        over = CommunityEvent(
            organization_id=tenant.organization_id,
            title="Last week's open day",
            starts_at=datetime.now(UTC) - timedelta(days=7),
            ends_at=datetime.now(UTC) - timedelta(days=7, hours=-3),
            published_at=datetime.now(UTC) - timedelta(days=14),
        )
        session.add(over)
    over_id = encode_id("CommunityEvent", over.id)

    data = await gql.data(UPCOMING, token=token)
    events = data["viewer"]["upcomingEvents"]
    assert [e["id"] for e in events["nodes"]] == [shown["id"]] and events["totalCount"] == 1
    assert events["nodes"][0]["spotsLeft"] == 5 and events["nodes"][0]["myRsvp"] is None

    for hidden in (draft["id"], cancelled["id"], elsewhere["id"]):
        found = await gql(f'{{ node(id: "{hidden}") {{ id }} }}', token=token)
        assert error_codes(found) == ["NOT_FOUND"]
        answer = await gql(RSVP, {"input": {"eventId": hidden, "status": "GOING"}}, token=token)
        not_found_at(answer, "eventId")
    late = await _rsvp(gql, token, over_id, "GOING")
    assert user_errors(late) == [(["input", "eventId"], "EVENT_OVER")]

    staff_all = await gql.data(STAFF_EVENTS, {"upcoming": False}, token=tenant.staff_token)
    titles = {e["title"] for e in staff_all["events"]["nodes"]}
    assert {shown["title"], draft["title"], cancelled["title"], over.title} == titles
    staff_upcoming = await gql.data(STAFF_EVENTS, {"upcoming": True}, token=tenant.staff_token)
    assert staff_upcoming["events"]["totalCount"] == 3
    refused = await gql(STAFF_EVENTS, {"upcoming": False}, token=token)
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_answers_count_against_capacity_and_can_change(
    gql, db: Database, smtp: SmtpServer, tenant
):
    customer_id, email = await make_customer(gql, tenant, "Alex Morgan")
    contact_id, contact_email = await make_contact(gql, tenant, customer_id, portalScope="BILLING")
    customer = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    contact = await sign_in_by_invite(gql, db, smtp, tenant, contact_email, contactId=contact_id)
    event = await _published(gql, tenant, capacity=6)

    going = await _rsvp(gql, customer, event["id"], "GOING", 2)
    assert going["userErrors"] == []
    assert going["event"]["myRsvp"] == {"status": "GOING", "guests": 2}
    assert going["event"]["spotsLeft"] == 3
    too_many = await _rsvp(gql, contact, event["id"], "GOING", 3)
    assert user_errors(too_many) == [(["input", "guests"], "FULL")]
    assert "Only 3 places" in too_many["userErrors"][0]["message"]
    mine = await _rsvp(gql, contact, event["id"], "GOING", 2)  # a contact answers for themselves
    assert mine["event"]["myRsvp"] == {"status": "GOING", "guests": 2}
    assert mine["event"]["spotsLeft"] == 0
    invalid = await _rsvp(gql, contact, event["id"], "GOING", 21)
    assert user_errors(invalid) == [(["input", "guests"], "INVALID")]

    fewer = await _rsvp(gql, customer, event["id"], "GOING", 0)  # within its own places
    assert fewer["event"]["spotsLeft"] == 2
    declined = await _rsvp(gql, customer, event["id"], "NOT_GOING", 5)
    assert declined["event"]["myRsvp"] == {"status": "NOT_GOING", "guests": 0}
    assert declined["event"]["spotsLeft"] == 3
    seen = await gql.data(UPCOMING, token=contact)
    assert seen["viewer"]["upcomingEvents"]["nodes"][0]["myRsvp"]["guests"] == 2

    staff = await gql.data(ATTENDEES, {"id": event["id"]}, token=tenant.staff_token)
    node = staff["node"]
    assert (node["goingCount"], node["guestCount"], node["notGoingCount"]) == (1, 2, 1)
    people = {(a["name"], a["status"], a["guests"]) for a in node["attendees"]["nodes"]}
    assert people == {("Alex Morgan", "NOT_GOING", 0), ("Robin", "GOING", 2)}
    assert node["attendees"]["totalCount"] == 2
    by_contact = [a for a in node["attendees"]["nodes"] if a["contact"]]
    assert by_contact[0]["contact"]["id"] == contact_id
    assert by_contact[0]["customer"]["id"] == customer_id

    for token in (customer, contact):
        refused = await gql(ATTENDEES, {"id": event["id"]}, token=token)
        assert set(error_codes(refused)) == {"FORBIDDEN"}
    shrink = {"id": event["id"], "capacity": 2}
    data = await gql.data(UPDATE, {"input": shrink}, token=tenant.staff_token)
    assert user_errors(data["updateEvent"]) == [(["input", "capacity"], "INVALID")]


async def test_concurrent_answers_never_exceed_capacity(gql, db: Database, smtp: SmtpServer):
    tenant = await make_tenant(db, gql)
    customer_id, _ = await make_customer(gql, tenant)
    tokens = []
    for _ in range(6):
        contact_id, email = await make_contact(gql, tenant, customer_id)
        tokens.append(await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id))
    event = await _published(gql, tenant, capacity=5)

    # Six people bringing one guest each: two places per answer, five places in all.
    results = await asyncio.gather(*(_rsvp(gql, t, event["id"], "GOING", 1) for t in tokens))
    accepted = [r for r in results if not r["userErrors"]]
    assert len(accepted) == 2
    assert all(
        user_errors(r) == [(["input", "guests"], "FULL")] for r in results if r not in accepted
    )
    staff = await gql.data(ATTENDEES, {"id": event["id"]}, token=tenant.staff_token)
    assert (staff["node"]["goingCount"], staff["node"]["guestCount"]) == (2, 2)
    assert staff["node"]["spotsLeft"] == 1

    # The last place, wanted by all the others at once, goes to exactly one of them.
    others = [t for t, r in zip(tokens, results, strict=True) if r["userErrors"]]
    results = await asyncio.gather(*(_rsvp(gql, t, event["id"], "GOING", 0) for t in others))
    assert len([r for r in results if not r["userErrors"]]) == 1
    staff = await gql.data(ATTENDEES, {"id": event["id"]}, token=tenant.staff_token)
    assert staff["node"]["goingCount"] + staff["node"]["guestCount"] == 5
    assert staff["node"]["spotsLeft"] == 0


async def test_cancelling_tells_those_going_who_want_social_events(
    gql, db: Database, smtp: SmtpServer, tenant
):
    keen_id, keen_email = await make_customer(gql, tenant, **SOCIAL)
    quiet_id, quiet_email = await make_customer(gql, tenant, **NO_SOCIAL)
    away_id, away_email = await make_customer(gql, tenant, **SOCIAL)
    event = await _published(gql, tenant)
    for customer_id, email, status in (
        (keen_id, keen_email, "GOING"),
        (quiet_id, quiet_email, "GOING"),
        (away_id, away_email, "NOT_GOING"),
    ):
        token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
        assert (await _rsvp(gql, token, event["id"], status))["userErrors"] == []

    data = await gql.data(CANCEL, {"id": event["id"]}, token=tenant.staff_token)
    assert data["cancelEvent"]["event"]["cancelledAt"] is not None
    again = await gql.data(CANCEL, {"id": event["id"]}, token=tenant.staff_token)
    assert user_errors(again["cancelEvent"]) == [(["input", "id"], "NOT_EDITABLE")]
    await deliver(db, smtp)
    assert _recipients(smtp, f"Cancelled: {event['title']}") == [keen_email.lower()]


async def test_attendees_are_reminded_once_a_day_ahead(gql, db: Database, smtp: SmtpServer, tenant):
    keen_id, keen_email = await make_customer(gql, tenant, **SOCIAL)
    quiet_id, quiet_email = await make_customer(gql, tenant, **NO_SOCIAL)
    contact_id, contact_email = await make_contact(gql, tenant, quiet_id, **SOCIAL)
    soon = await _published(gql, tenant, startsAt=_at(30), endsAt=_at(33))
    later = await _published(gql, tenant, startsAt=_at(60), endsAt=_at(63))
    people = (
        (keen_email, {"customerId": keen_id}, "GOING"),
        (quiet_email, {"customerId": quiet_id}, "GOING"),
        (contact_email, {"contactId": contact_id}, "NOT_GOING"),
    )
    for email, person, status in people:
        token = await sign_in_by_invite(gql, db, smtp, tenant, email, **person)
        for event in (soon, later):
            assert (await _rsvp(gql, token, event["id"], status))["userErrors"] == []

    early = datetime.now(UTC) + timedelta(hours=2)  # more than a day before either
    await remind_event_attendees(db, early)
    in_window = datetime.now(UTC) + timedelta(hours=8)  # 22 hours before `soon`
    assert await remind_event_attendees(db, in_window) >= 1
    assert await remind_event_attendees(db, in_window) == 0
    await remind_event_attendees(db, in_window + timedelta(hours=1))
    await deliver(db, smtp)
    assert _recipients(smtp, f"Reminder: {soon['title']}") == [keen_email.lower()]
    assert _recipients(smtp, f"Reminder: {later['title']}") == []

    _, row_id = decode_id(soon["id"])
    async with db.connect() as conn:
        reminded_at = await conn.scalar(
            sa.select(CommunityEvent.reminded_at).where(CommunityEvent.id == row_id)
        )
    assert reminded_at is not None
