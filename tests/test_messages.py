"""Conversations: sending, read state and unread counts on both sides, who is told, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from models import Message, Notification, OutboxEmail
from models.db import Database
from models.enums import MailKind, NotificationKind
from tests.helpers import GraphQLClient, Tenant, error_codes, not_found_at, user_errors
from tests.messaging import drain_outbox, portal_token
from tests.portal import make_contact, make_customer
from tests.smtp import SmtpServer

SEND = """
mutation S($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id body authorKind readByStaffAt readByCustomerAt customer { id } }
    userErrors { field message code }
  }
}
"""
SEND_MINE = """
mutation S($input: SendMyMessageInput!) {
  sendMyMessage(input: $input) {
    message { id body authorKind authorContact { id } customer { id } }
    userErrors { field message code }
  }
}
"""
MARK = """
mutation M($input: MarkConversationReadInput!) {
  markConversationRead(input: $input) {
    customer { id unreadMessageCountForStaff } userErrors { field code }
  }
}
"""
MARK_MINE = """
mutation M($input: MarkMyMessagesReadInput!) {
  markMyMessagesRead(input: $input) {
    customer { id unreadMessages { totalCount } } userErrors { field code }
  }
}
"""
PORTAL_VIEW = """
{ viewer { customer {
  unreadMessages { totalCount nodes { body } }
  messages { nodes { body authorKind readByCustomerAt readByStaffAt } }
} } }
"""
STAFF_COUNT = """
query C($id: ID!) { node(id: $id) { ... on Customer { unreadMessageCountForStaff } } }
"""
CONVERSATIONS = """
query C($unreadOnly: Boolean!, $first: Int!, $after: String) {
  conversations(unreadOnly: $unreadOnly, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { customer { id name } latestMessage { body authorKind } unreadCount }
  }
}
"""


@pytest.fixture(autouse=True)
async def _deliver_our_mail(db: Database, smtp: SmtpServer) -> AsyncIterator[None]:
    yield
    await drain_outbox(db, smtp)


async def send(gql: GraphQLClient, tenant: Tenant, customer: str, body: str) -> dict[str, Any]:
    variables = {"input": {"customerId": customer, "body": body}}
    data = await gql.data(SEND, variables, tenant.staff_token)
    return data["sendMessage"]


async def send_mine(gql: GraphQLClient, token: str, body: str) -> dict[str, Any]:
    data = await gql.data(SEND_MINE, {"input": {"body": body}}, token)
    return data["sendMyMessage"]


async def staff_unread(gql: GraphQLClient, tenant: Tenant, customer: str) -> int:
    data = await gql.data(STAFF_COUNT, {"id": customer}, tenant.staff_token)
    return data["node"]["unreadMessageCountForStaff"]


async def conversations(
    gql: GraphQLClient, token: str, *, unread_only: bool = False, first: int = 20, after=None
) -> dict[str, Any]:
    variables = {"unreadOnly": unread_only, "first": first, "after": after}
    return (await gql.data(CONVERSATIONS, variables, token))["conversations"]


async def message_count(db: Database, tenant: Tenant) -> int:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).where(Message.organization_id == tenant.organization_id)
        )
        return found.scalar_one()


async def test_both_sides_converse_with_read_state_and_unread_counts(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant, "Dana Wells")
    token = await portal_token(db, tenant, customer)

    first = await send(gql, tenant, customer, "  Your car is ready.  ")
    assert first["userErrors"] == []
    assert first["message"]["body"] == "Your car is ready."  # trimmed
    assert first["message"]["authorKind"] == "STAFF"
    assert first["message"]["customer"] == {"id": customer}
    await send(gql, tenant, customer, "Pick-up is from 9 am.")

    seen = (await gql.data(PORTAL_VIEW, token=token))["viewer"]["customer"]
    assert seen["unreadMessages"]["totalCount"] == 2
    assert [m["body"] for m in seen["messages"]["nodes"]] == [
        "Pick-up is from 9 am.",
        "Your car is ready.",
    ]
    assert await staff_unread(gql, tenant, customer) == 0  # staff's own messages

    reply = await send_mine(gql, token, "Thanks, see you at 10.")
    assert reply["userErrors"] == []
    assert reply["message"]["authorKind"] == "CUSTOMER"
    assert reply["message"]["customer"] == {"id": customer}
    assert await staff_unread(gql, tenant, customer) == 1

    listed = await conversations(gql, tenant.staff_token)
    assert listed["totalCount"] == 1
    assert listed["nodes"] == [
        {
            "customer": {"id": customer, "name": "Dana Wells"},
            "latestMessage": {"body": "Thanks, see you at 10.", "authorKind": "CUSTOMER"},
            "unreadCount": 1,
        }
    ]
    assert len((await conversations(gql, tenant.staff_token, unread_only=True))["nodes"]) == 1

    marked = await gql.data(MARK, {"input": {"customerId": customer}}, tenant.staff_token)
    assert marked["markConversationRead"] == {
        "customer": {"id": customer, "unreadMessageCountForStaff": 0},
        "userErrors": [],
    }
    assert (await conversations(gql, tenant.staff_token, unread_only=True))["nodes"] == []

    mine = await gql.data(MARK_MINE, {"input": {}}, token)
    assert mine["markMyMessagesRead"] == {
        "customer": {"id": customer, "unreadMessages": {"totalCount": 0}},
        "userErrors": [],
    }
    seen = (await gql.data(PORTAL_VIEW, token=token))["viewer"]["customer"]
    by_body = {m["body"]: m for m in seen["messages"]["nodes"]}
    assert by_body["Your car is ready."]["readByCustomerAt"] is not None
    assert by_body["Thanks, see you at 10."]["readByStaffAt"] is not None
    assert by_body["Thanks, see you at 10."]["readByCustomerAt"] is None  # their own


async def test_marking_read_up_to_a_message_leaves_later_ones_unread(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    token = await portal_token(db, tenant, customer)
    shown = await send(gql, tenant, customer, "One")
    await send(gql, tenant, customer, "Two")
    up_to = shown["message"]["id"]
    marked = await gql.data(MARK_MINE, {"input": {"upToMessageId": up_to}}, token)
    assert marked["markMyMessagesRead"]["customer"]["unreadMessages"] == {"totalCount": 1}

    other, _ = await make_customer(gql, tenant)
    elsewhere = await send(gql, tenant, other, "Not yours")
    refused = await gql.data(
        MARK_MINE, {"input": {"upToMessageId": elsewhere["message"]["id"]}}, token
    )
    assert user_errors(refused["markMyMessagesRead"]) == [
        (["input", "upToMessageId"], "NOT_IN_CONVERSATION")
    ]

    await send_mine(gql, token, "Question one")
    first_reply = await send_mine(gql, token, "Question two")
    await send_mine(gql, token, "Question three")
    marked = await gql.data(
        MARK,
        {"input": {"customerId": customer, "upToMessageId": first_reply["message"]["id"]}},
        tenant.staff_token,
    )
    assert marked["markConversationRead"]["customer"]["unreadMessageCountForStaff"] == 1


async def test_conversations_are_newest_first_and_paged(gql, db, tenant):
    older, _ = await make_customer(gql, tenant, "Older")
    newer, _ = await make_customer(gql, tenant, "Newer")
    await send(gql, tenant, older, "first")
    await send(gql, tenant, newer, "second")
    await send(gql, tenant, newer, "third")
    page = await conversations(gql, tenant.owner_token, first=1)
    assert page["totalCount"] == 2
    assert [n["customer"]["name"] for n in page["nodes"]] == ["Newer"]
    assert page["nodes"][0]["latestMessage"]["body"] == "third"
    assert page["pageInfo"]["hasNextPage"] is True
    cursor = page["pageInfo"]["endCursor"]
    rest = await conversations(gql, tenant.owner_token, first=1, after=cursor)
    assert [n["customer"]["name"] for n in rest["nodes"]] == ["Older"]
    assert rest["pageInfo"]["hasNextPage"] is False

    await send(gql, tenant, older, "fourth")  # a new message moves its conversation up
    page = await conversations(gql, tenant.owner_token)
    assert [n["customer"]["name"] for n in page["nodes"]] == ["Older", "Newer"]


async def test_bad_input_is_refused_and_nothing_is_written(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    token = await portal_token(db, tenant, customer)
    before = await message_count(db, tenant)
    for body, code in (("", "REQUIRED"), ("   \n ", "REQUIRED"), ("x" * 10_001, "TOO_LONG")):
        staff = await send(gql, tenant, customer, body)
        assert staff["message"] is None
        assert user_errors(staff) == [(["input", "body"], code)]
        mine = await send_mine(gql, token, body)
        assert user_errors(mine) == [(["input", "body"], code)]
    assert await message_count(db, tenant) == before
    longest = await send(gql, tenant, customer, " " + "y" * 10_000 + " ")
    assert longest["userErrors"] == []
    assert len(longest["message"]["body"]) == 10_000


async def test_another_organization_can_neither_read_nor_post(gql, db, tenant, other_tenant):
    customer, _ = await make_customer(gql, tenant)
    token = await portal_token(db, tenant, customer)
    sent = await send(gql, tenant, customer, "Private")
    await send_mine(gql, token, "Also private")

    posted = await gql(
        SEND, {"input": {"customerId": customer, "body": "Hi"}}, other_tenant.staff_token
    )
    not_found_at(posted, "customerId")
    marked = await gql(MARK, {"input": {"customerId": customer}}, other_tenant.staff_token)
    not_found_at(marked, "customerId")
    looked = await gql(
        "query N($id: ID!) { node(id: $id) { id } }",
        {"id": sent["message"]["id"]},
        other_tenant.staff_token,
    )
    assert error_codes(looked) == ["NOT_FOUND"]
    counted = await gql(STAFF_COUNT, {"id": customer}, other_tenant.staff_token)
    assert error_codes(counted) == ["NOT_FOUND"]
    assert (await conversations(gql, other_tenant.staff_token))["nodes"] == []


async def test_portal_viewers_write_only_to_their_own_conversation(gql, db, tenant):
    mine, _ = await make_customer(gql, tenant)
    theirs, _ = await make_customer(gql, tenant)
    token = await portal_token(db, tenant, mine)
    private = await send(gql, tenant, theirs, "For the other customer")

    posted = await gql(SEND, {"input": {"customerId": theirs, "body": "Hi"}}, token)
    assert error_codes(posted) == ["FORBIDDEN"]
    marked = await gql(MARK, {"input": {"customerId": theirs}}, token)
    assert error_codes(marked) == ["FORBIDDEN"]
    listed = await gql(CONVERSATIONS, {"unreadOnly": False, "first": 5}, token)
    assert error_codes(listed) == ["FORBIDDEN"]
    looked = await gql(
        "query N($id: ID!) { node(id: $id) { id } }", {"id": private["message"]["id"]}, token
    )
    assert error_codes(looked) == ["NOT_FOUND"]
    counted = await gql("{ viewer { customer { unreadMessageCountForStaff } } }", token=token)
    assert error_codes(counted) == ["FORBIDDEN"]

    # Mine is mine: the message lands in my conversation, whatever else is sent.
    sent = await send_mine(gql, token, "Hello")
    assert sent["message"]["customer"] == {"id": mine}
    assert await staff_unread(gql, tenant, theirs) == 0

    staff = await gql(SEND_MINE, {"input": {"body": "Hi"}}, tenant.staff_token)
    assert error_codes(staff) == ["FORBIDDEN"]  # a portal mutation


async def test_previews_narrow_scopes_and_a_closed_section_cannot_write(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant)
    preview = await portal_token(db, tenant, customer, preview=True)
    refused = ["PREVIEW_READ_ONLY"]
    assert error_codes(await gql(SEND_MINE, {"input": {"body": "Hi"}}, preview)) == refused
    assert error_codes(await gql(MARK_MINE, {"input": {}}, preview)) == refused

    bookkeeper, _ = await make_contact(gql, tenant, customer, portalScope="BILLING")
    billing = await portal_token(db, tenant, customer, bookkeeper)
    # A scope that does not cover messages refuses as a switched-off section does: one code.
    assert error_codes(await gql(SEND_MINE, {"input": {"body": "Hi"}}, billing)) == [
        "SECTION_DISABLED"
    ]

    spouse, _ = await make_contact(gql, tenant, customer)
    everything = await portal_token(db, tenant, customer, spouse)
    sent = await send_mine(gql, everything, "From the spouse")
    assert sent["message"]["authorKind"] == "CONTACT"
    assert sent["message"]["authorContact"] == {"id": spouse}

    await gql.data(
        "mutation { updatePortalSettings(input: {showMessages: false}) { userErrors { code } } }",
        token=tenant.owner_token,
    )
    closed = await gql(SEND_MINE, {"input": {"body": "Hi"}}, everything)
    assert error_codes(closed) == ["SECTION_DISABLED"]
    assert await message_count(db, tenant) == 1


async def _notifications(db: Database, tenant: Tenant) -> list[Any]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(Notification.kind, Notification.recipient_staff_id, Notification.title)
            .where(Notification.organization_id == tenant.organization_id)
            .order_by(Notification.created_at)
        )
        return list(found.all())


async def _emails(db: Database, tenant: Tenant, kind: MailKind) -> list[Any]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body_text).where(
                OutboxEmail.organization_id == tenant.organization_id, OutboxEmail.kind == kind
            )
        )
        return list(found.all())


async def test_staff_are_notified_once_per_unread_run(gql, db, tenant):
    customer, _ = await make_customer(gql, tenant, "Rowan Field")
    token = await portal_token(db, tenant, customer)
    await send_mine(gql, token, "Is my car ready?")
    await send_mine(gql, token, "Also, could you check the tyres?")
    notes = await _notifications(db, tenant)
    assert len(notes) == 2  # the owner and the staff member, for the first message only
    assert {n.kind for n in notes} == {NotificationKind.MESSAGE_NEW}
    assert {n.title for n in notes} == {"New message from Rowan Field"}
    staff_mail = await _emails(db, tenant, MailKind.STAFF)
    assert sorted(m.to_address for m in staff_mail) == sorted(
        [tenant.owner_email, tenant.staff_email]
    )
    assert all("Is my car ready?" in m.body_text for m in staff_mail)

    await gql.data(MARK, {"input": {"customerId": customer}}, tenant.staff_token)
    await send_mine(gql, token, "Thanks!")
    assert len(await _notifications(db, tenant)) == 4


async def test_the_customer_side_gets_a_short_email_without_the_text(gql, db, tenant):
    customer, customer_email = await make_customer(gql, tenant)
    _, spouse_email = await make_contact(gql, tenant, customer)
    await make_contact(gql, tenant, customer, portalScope="BILLING")  # cannot read messages
    await make_contact(gql, tenant, customer, canAccessPortal=False)
    token = await portal_token(db, tenant, customer)

    await send(gql, tenant, customer, "The secret gate code is 4321.")
    await send(gql, tenant, customer, "And bring the spare key.")
    sent = await _emails(db, tenant, MailKind.MESSAGES)
    assert sorted(m.to_address for m in sent) == sorted([customer_email, spouse_email])
    for mail in sent:
        assert mail.subject.startswith("New message from ")
        assert "4321" not in mail.body_text and "spare key" not in mail.body_text
        assert "/messages" in mail.body_text

    await gql.data(MARK_MINE, {"input": {}}, token)
    await send(gql, tenant, customer, "One more thing.")
    assert len(await _emails(db, tenant, MailKind.MESSAGES)) == 4

    await gql.data(
        "mutation { updatePortalSettings(input: {showMessages: false}) { userErrors { code } } }",
        token=tenant.owner_token,
    )
    quiet, _ = await make_customer(gql, tenant)
    await send(gql, tenant, quiet, "Nobody can read this in the portal.")
    assert len(await _emails(db, tenant, MailKind.MESSAGES)) == 4


SEND_WITH_FILES = """
mutation S($input: SendMyMessageInput!) {
  sendMyMessage(input: $input) {
    message { id attachments { filename contentType sizeBytes url } }
    userErrors { field code }
  }
}
"""


async def test_messages_carry_attachments_both_sides_can_open(gql, http, db, tenant):
    from tests.test_files import EXE_BYTES, PNG_BYTES, upload

    customer, _ = await make_customer(gql, tenant)
    token = await portal_token(db, tenant, customer)
    sent = await upload(
        http,
        token,
        SEND_WITH_FILES,
        {"body": "Photo of the scratch", "attachments": [None]},
        PNG_BYTES,
        filename="scratch.png",
        content_type="image/png",
        path="attachments.0",
    )
    assert sent.status_code == 200, sent.text
    message = sent.json()["data"]["sendMyMessage"]["message"]
    files = message["attachments"]
    assert [(f["filename"], f["contentType"], f["sizeBytes"]) for f in files] == [
        ("scratch.png", "image/png", len(PNG_BYTES))
    ]
    staff_view = await gql(
        "query M($id: ID!) { node(id: $id) { ... on Message { attachments { url } } } }",
        {"id": message["id"]},
        token=tenant.staff_token,
    )
    url = staff_view["data"]["node"]["attachments"][0]["url"]
    opened = await http.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert opened.status_code == 200 and opened.content == PNG_BYTES
    refused = await upload(
        http,
        token,
        SEND_WITH_FILES,
        {"body": "x", "attachments": [None]},
        EXE_BYTES,
        filename="x.pdf",
        content_type="application/pdf",
        path="attachments.0",
    )
    payload = refused.json()["data"]["sendMyMessage"]
    assert payload["userErrors"] == [
        {"field": ["input", "attachments"], "code": "UNSUPPORTED_TYPE"}
    ]
