"""Preferences decide who gets which email, checked on a real SMTP server; staff notifications."""

from __future__ import annotations

from typing import Any

import pytest

from core.ids import decode_id
from domain.billing_mail import send_receipt
from mail.recipients import Recipient, recipients, wants
from models import Organization
from models.db import Database
from models.enums import MailKind
from tests.billing import open_invoice
from tests.helpers import GraphQLClient, Tenant, error_codes, user_errors
from tests.portal import deliver, invite, make_car, make_contact, make_customer, sign_in_by_invite
from tests.smtp import SmtpServer
from tests.test_appointments import CANCEL, CREATE, REQUEST, SETTINGS, UPDATE, offset

NO_EMAIL = {
    "invoices": False,
    "estimates": False,
    "scheduling": False,
    "carUpdates": False,
    "contracts": False,
}
UPDATE_CONTACT = """
mutation U($input: UpdateContactInput!) { updateContact(input: $input) { userErrors { code } } }
"""
MY_PREFERENCES = """
mutation P($input: CommunicationPreferencesInput!) {
  updateMyPreferences(input: $input) {
    communicationPreferences { invoices scheduling marketing } userErrors { code }
  }
}
"""


def inbox(smtp: SmtpServer, *addresses: str) -> dict[str, list[str]]:
    """Subjects received per address, for the addresses asked about."""
    found: dict[str, list[str]] = {a: [] for a in addresses}
    for message in smtp.messages:
        to = str(message["To"]).lower()
        if to in found:
            found[to].append(str(message["Subject"]))
    return found


class Household:
    """A customer with contacts of every kind of scope and preference."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.people: dict[str, tuple[str, str]] = {}

    async def make(self, gql: GraphQLClient) -> Household:
        tenant = self.tenant
        self.customer_id, self.customer_email = await make_customer(gql, tenant, "Casey Owner")
        self.car_id = await make_car(gql, tenant, self.customer_id, "911")
        self.other_car_id = await make_car(gql, tenant, self.customer_id, "356")
        wanted = await make_contact(gql, tenant, self.customer_id, name="Wanda Wants")
        unwanted = await make_contact(
            gql, tenant, self.customer_id, name="Nadia Nope", communicationPreferences=NO_EMAIL
        )
        bookkeeper = await make_contact(
            gql, tenant, self.customer_id, name="Bo Books", portalScope="BILLING"
        )
        driver = await make_contact(
            gql,
            tenant,
            self.customer_id,
            name="Dee Driver",
            portalScope="CARS",
            carIds=[self.car_id],
        )
        self.people = {
            "wanted": wanted,
            "unwanted": unwanted,
            "bookkeeper": bookkeeper,
            "driver": driver,
        }
        return self

    def email(self, who: str) -> str:
        return self.customer_email if who == "customer" else self.people[who][1]

    def emails(self) -> list[str]:
        return [self.email(w) for w in ("customer", *self.people)]


async def _schedule(gql: GraphQLClient, tenant: Tenant, customer_id: str, **fields: Any) -> str:
    data = await gql.data(
        CREATE,
        {
            "input": {
                "customerId": customer_id,
                "title": "Detailing",
                "startsAt": offset(48),
                "endsAt": offset(50),
                **fields,
            }
        },
        token=tenant.staff_token,
    )
    assert data["createAppointment"]["userErrors"] == []
    return data["createAppointment"]["appointment"]["id"]


async def test_scheduling_emails_reach_only_those_who_want_them(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    house = await Household(tenant).make(gql)
    await _schedule(gql, tenant, house.customer_id, carId=house.car_id)
    await deliver(db, smtp)
    got = inbox(smtp, *house.emails())
    receivers = {who for who in ("customer", *house.people) if got[house.email(who)]}
    # Not the contact who said no, not the bookkeeper (no schedule in their portal).
    assert receivers == {"customer", "wanted", "driver"}
    subject = got[house.customer_email][0]
    assert subject.startswith("Appointment scheduled with")

    # About another car: the driver, who sees only theirs, hears nothing of it.
    await _schedule(gql, tenant, house.customer_id, carId=house.other_car_id)
    await deliver(db, smtp)
    got = inbox(smtp, *house.emails())
    assert [len(got[house.email(w)]) for w in ("customer", "wanted", "driver")] == [2, 2, 1]
    assert got[house.email("unwanted")] == [] and got[house.email("bookkeeper")] == []


async def test_invoices_follow_preferences_and_scope(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    house = await Household(tenant).make(gql)
    await open_invoice(gql, tenant, house.customer_id)
    await deliver(db, smtp)
    got = inbox(smtp, *house.emails())
    receivers = {who for who in ("customer", *house.people) if got[house.email(who)]}
    assert receivers == {"customer", "wanted", "bookkeeper"}  # drivers do not handle bills


async def test_sign_in_links_and_receipts_go_whatever_the_preferences(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    house = await Household(tenant).make(gql)
    contact_id, address = house.people["unwanted"]
    assert (await invite(gql, tenant, contactId=contact_id))["userErrors"] == []
    async with db.write() as session:
        org = await session.get(Organization, tenant.organization_id)
        assert org is not None
        await send_receipt(
            session, org, Recipient("Nadia Nope", address), 2500, "USD", "invoice #1"
        )
    await deliver(db, smtp)
    subjects = inbox(smtp, address)[address]
    assert len(subjects) == 2
    assert any("portal" in s for s in subjects) and any(s.startswith("Receipt") for s in subjects)


async def test_recipients_is_the_only_door_and_it_refuses_addressee_kinds(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    house = await Household(tenant).make(gql)
    _, customer_id = decode_id(house.customer_id)
    async with db.write() as session:
        for kind in (MailKind.SIGN_IN, MailKind.RECEIPT):
            with pytest.raises(ValueError):
                await recipients(session, customer_id, kind)
        marketing = await recipients(session, customer_id, MailKind.MARKETING)
        scheduling = await recipients(session, customer_id, MailKind.SCHEDULING)
    assert marketing == []  # nobody asked for it: off by default
    assert [r.name for r in scheduling] == ["Casey Owner", "Wanda Wants"]  # no car: no driver
    nobody = {f"wants_{k}": False for k in ("invoices", "scheduling", "marketing")}
    assert wants(nobody, MailKind.SIGN_IN) and wants(nobody, MailKind.RECEIPT)
    assert not wants(nobody, MailKind.SCHEDULING)


async def test_update_my_preferences_changes_later_emails(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    house = await Household(tenant).make(gql)
    contact_id, address = house.people["wanted"]
    session = await sign_in_by_invite(gql, db, smtp, tenant, address, contactId=contact_id)
    appointment_id = await _schedule(gql, tenant, house.customer_id)
    await deliver(db, smtp)
    before = len(inbox(smtp, address)[address])

    done = await gql.data(
        MY_PREFERENCES, {"input": {"scheduling": False, "marketing": True}}, token=session
    )
    assert done["updateMyPreferences"]["communicationPreferences"] == {
        "invoices": True,
        "scheduling": False,
        "marketing": True,
    }
    await gql.data(
        UPDATE,
        {"input": {"id": appointment_id, "startsAt": offset(96), "endsAt": offset(97)}},
        token=tenant.staff_token,
    )
    await gql.data(CANCEL, {"input": {"id": appointment_id}}, token=tenant.staff_token)
    await deliver(db, smtp)
    assert len(inbox(smtp, address)[address]) == before  # nothing more for them
    customer_subjects = inbox(smtp, house.customer_email)[house.customer_email]
    assert [s.split(":")[0] for s in customer_subjects[-2:]] == [
        "Appointment moved",
        "Appointment cancelled",
    ]

    # The customer's own preferences are theirs alone: the contact changed only their own.
    staff_view = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Customer { communicationPreferences "
        "{ scheduling } } } }",
        {"id": house.customer_id},
        token=tenant.staff_token,
    )
    assert staff_view["node"]["communicationPreferences"] == {"scheduling": True}
    staff_only = await gql(
        MY_PREFERENCES, {"input": {"scheduling": True}}, token=tenant.staff_token
    )
    assert error_codes(staff_only) == ["FORBIDDEN"]  # a portal mutation


NOTIFICATIONS = """
query($unread: Boolean!) { viewer {
  unreadNotificationCount
  notifications(first: 10, unreadOnly: $unread) { totalCount nodes { id kind title readAt } }
} }
"""
MARK = """
mutation M($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) {
    markedCount viewer { unreadNotificationCount } userErrors { field code }
  }
}
"""


async def test_staff_notifications_list_count_and_mark_read(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await gql.data(
        SETTINGS, {"input": {"allowAppointmentRequests": True}}, token=tenant.owner_token
    )
    for hours in (30, 40, 50):
        asked = {"startsAt": offset(hours), "endsAt": offset(hours + 1)}
        done = await gql.data(REQUEST, {"input": asked}, token=session)
        assert done["requestAppointment"]["userErrors"] == []

    mine = await gql.data(NOTIFICATIONS, {"unread": True}, token=tenant.staff_token)
    viewer = mine["viewer"]
    assert viewer["unreadNotificationCount"] == 3
    nodes = viewer["notifications"]["nodes"]
    assert [n["kind"] for n in nodes] == ["APPOINTMENT_REQUESTED"] * 3
    assert all(n["readAt"] is None for n in nodes)

    # Another business's staff see none of them, and cannot mark them.
    theirs = await gql.data(NOTIFICATIONS, {"unread": False}, token=other_tenant.staff_token)
    assert theirs["viewer"]["notifications"]["totalCount"] == 0
    foreign = await gql.data(
        MARK, {"input": {"ids": [nodes[0]["id"]]}}, token=other_tenant.staff_token
    )
    assert foreign["markNotificationsRead"]["markedCount"] == 0

    bad = await gql.data(MARK, {"input": {}}, token=tenant.staff_token)
    assert user_errors(bad["markNotificationsRead"]) == [(["input", "ids"], "INVALID")]
    one = await gql.data(MARK, {"input": {"ids": [nodes[0]["id"]]}}, token=tenant.staff_token)
    assert one["markNotificationsRead"]["markedCount"] == 1
    assert one["markNotificationsRead"]["viewer"]["unreadNotificationCount"] == 2
    # The owner's copies are the owner's: still unread.
    owner = await gql.data(NOTIFICATIONS, {"unread": True}, token=tenant.owner_token)
    assert owner["viewer"]["unreadNotificationCount"] == 3

    everything = await gql.data(MARK, {"input": {"all": True}}, token=tenant.staff_token)
    assert everything["markNotificationsRead"]["markedCount"] == 2
    after = await gql.data(NOTIFICATIONS, {"unread": False}, token=tenant.staff_token)
    assert after["viewer"]["unreadNotificationCount"] == 0
    assert after["viewer"]["notifications"]["totalCount"] == 3
    assert all(n["readAt"] for n in after["viewer"]["notifications"]["nodes"])

    portal = await gql("{ viewer { unreadNotificationCount } }", token=session)
    assert error_codes(portal) == ["FORBIDDEN"]
