"""Texts (SMS): delivered through the outbox by Twilio's Messages API, spoken over HTTP to a
stub Twilio on loopback (tests/twilio_stub.py); retried on outages and 5xx, dead on 4xx, sent
once however many workers run; opt-outs from Twilio's signed inbound webhook; per-person
preferences; phone numbers as E.164. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from core.ids import decode_id_of
from mail.outbox import enqueue_text
from mail.texts import TwilioTexter
from mail.worker import MailServerUnavailable, deliver_due
from models.db import Database
from models.enums import Channel, MailKind
from models.tables import audit_events, contacts, customers, outbox_emails, sms_opt_outs
from portico.app import create_app
from portico.twilio_webhook import twilio_signature
from tests.billing import open_invoice
from tests.helpers import GraphQLClient, Tenant, user_errors
from tests.payments import Paying
from tests.portal import make_car, make_contact, make_customer, sign_in_by_invite
from tests.smtp import SmtpServer
from tests.test_jobs import COMPLETE, CREATE_JOB
from tests.test_reminders import _appointment, _remind
from tests.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub

FROM = "+15005550006"
START = datetime(2027, 6, 10, 12, tzinfo=UTC)  # the appointments' start
REMIND_AT = datetime(2027, 6, 9, 10, tzinfo=UTC)  # after the reminder is due (09:00 the day before)


def a_number() -> str:
    """A valid US mobile number of this test's own (Chicago, 312)."""
    return f"+1312{random.randint(200, 999)}{random.randint(1000, 9999)}"


def texter(stub: TwilioStub, **kwargs: Any) -> TwilioTexter:
    options: dict[str, Any] = {"from_number": FROM, "base_url": stub.url, **kwargs}
    return TwilioTexter(ACCOUNT_SID, AUTH_TOKEN, **options)


async def deliver_texts(db: Database, sender: TwilioTexter) -> int:
    """Deliver every due text (other tests' texts may be queued too)."""
    total = 0
    while sent := await deliver_due(db, sender, channel=Channel.SMS, batch=200):
        total += sent
    return total


async def queue_text(db: Database, tenant: Tenant, to: str, body: str = "Hello") -> str:
    async with db.write() as session:
        row = await enqueue_text(
            session,
            kind=MailKind.SCHEDULING,
            to=to,
            label="A test text",
            text=body,
            organization_id=tenant.organization_id,
        )
    return str(row.id)


async def outbox_rows(db: Database, to: str) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(outbox_emails)
            .where(outbox_emails.c.to_address == to)
            .order_by(outbox_emails.c.created_at)
        )
        return [dict(row) for row in found.mappings()]


async def make_due(db: Database, to: str) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(outbox_emails)
            .where(outbox_emails.c.to_address == to)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


# --- the transport and the outbox --------------------------------------------------------


async def test_a_text_goes_to_twilio_as_a_form_with_basic_auth(
    db: Database, tenant: Tenant, twilio_stub: TwilioStub
):
    to = a_number()
    await queue_text(db, tenant, to, "Your car is ready")
    assert await deliver_texts(db, texter(twilio_stub)) >= 1
    [request] = twilio_stub.sent_to(to)
    assert (request.username, request.password) == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.form == {"To": to, "From": FROM, "Body": "Your car is ready"}
    [row] = await outbox_rows(db, to)
    assert row["status"] == "SENT" and row["attempts"] == 1
    assert row["provider_id"].startswith("SM") and row["channel"] == Channel.SMS

    # A messaging service instead of a number.
    other = a_number()
    await queue_text(db, tenant, other)
    service = TwilioTexter(
        ACCOUNT_SID, AUTH_TOKEN, messaging_service_sid="MG" + "2" * 32, base_url=twilio_stub.url
    )
    await deliver_texts(db, service)
    [request] = twilio_stub.sent_to(other)
    assert request.form["MessagingServiceSid"] == "MG" + "2" * 32 and "From" not in request.form


async def test_texts_and_emails_have_their_own_workers(
    db: Database, tenant: Tenant, twilio_stub: TwilioStub
):
    to = a_number()
    await queue_text(db, tenant, to)
    # The email worker never picks up a text.
    [row] = await outbox_rows(db, to)
    assert row["status"] == "PENDING"
    assert twilio_stub.sent_to(to) == []
    await deliver_texts(db, texter(twilio_stub))
    assert len(twilio_stub.sent_to(to)) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_provider_down_keeps_the_text_untried_until_it_is_back(
    db: Database, tenant: Tenant, twilio_stub: TwilioStub
):
    to = a_number()
    await queue_text(db, tenant, to)
    down = texter(twilio_stub, base_url=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(MailServerUnavailable, match="TextProviderUnreachable"):
        await deliver_due(db, down, channel=Channel.SMS, batch=200)
    [row] = await outbox_rows(db, to)
    assert (row["status"], row["attempts"]) == ("PENDING", 0)  # no attempt counted
    await deliver_texts(db, texter(twilio_stub))
    [row] = await outbox_rows(db, to)
    assert row["status"] == "SENT" and len(twilio_stub.sent_to(to)) == 1


async def test_a_500_is_retried_with_backoff_then_sent(
    db: Database, tenant: Tenant, twilio_stub: TwilioStub
):
    to = a_number()
    await queue_text(db, tenant, to)
    # Only this test's text is due: other tests' texts went out before the fault is set.
    await deliver_texts(db, texter(twilio_stub))
    await queue_text(db, tenant, to, "second")
    twilio_stub.fail_next(500)
    await deliver_texts(db, texter(twilio_stub))
    [_, row] = await outbox_rows(db, to)
    assert (row["status"], row["attempts"]) == ("PENDING", 1)
    assert "Twilio 500" in row["last_error"] and "20500" in row["last_error"]
    assert row["next_attempt_at"] > datetime.now(UTC) + timedelta(seconds=20)  # backoff
    await make_due(db, to)
    await deliver_texts(db, texter(twilio_stub))
    [_, row] = await outbox_rows(db, to)
    assert (row["status"], row["attempts"]) == ("SENT", 2)
    assert [r.form["Body"] for r in twilio_stub.sent_to(to)] == ["Hello", "second", "second"]


async def test_an_invalid_number_is_dead_with_the_reason_and_never_retried(
    db: Database, tenant: Tenant, twilio_stub: TwilioStub
):
    to = a_number()
    twilio_stub.invalid_numbers.add(to)
    await queue_text(db, tenant, to)
    await deliver_texts(db, texter(twilio_stub))
    [row] = await outbox_rows(db, to)
    assert (row["status"], row["attempts"]) == ("DEAD", 1)
    assert "Twilio 400 (error 21211)" in row["last_error"]
    await make_due(db, to)
    await deliver_texts(db, texter(twilio_stub))
    assert len(twilio_stub.sent_to(to)) == 1


async def test_a_number_the_provider_says_unsubscribed_is_opted_out_here_too(
    db: Database, tenant: Tenant, twilio_stub: TwilioStub
):
    """Twilio refuses a number that answered STOP to our sender (21610) even when Portico
    never heard the STOP (it came before this organization texted it): the text is DEAD with
    the reason, and the organization records the opt-out, so nothing more is queued."""
    to = a_number()
    twilio_stub.unsubscribed_numbers.add(to)
    await queue_text(db, tenant, to)
    await deliver_texts(db, texter(twilio_stub))
    [row] = await outbox_rows(db, to)
    assert (row["status"], row["attempts"]) == ("DEAD", 1)
    assert "21610" in row["last_error"]
    async with db.connect() as conn:
        stopped = await conn.execute(
            sa.select(sms_opt_outs.c.organization_id).where(sms_opt_outs.c.phone == to)
        )
        assert list(stopped.scalars()) == [tenant.organization_id]


async def test_two_workers_at_once_send_each_text_once(
    db: Database, tenant: Tenant, twilio_stub: TwilioStub
):
    numbers = [a_number() for _ in range(6)]
    for number in numbers:
        await queue_text(db, tenant, number)
    sender = texter(twilio_stub)
    await asyncio.gather(deliver_texts(db, sender), deliver_texts(db, texter(twilio_stub)))
    await deliver_texts(db, sender)  # a third run afterwards: nothing left for it
    for number in numbers:
        assert len(twilio_stub.sent_to(number)) == 1
        [row] = await outbox_rows(db, number)
        assert (row["status"], row["attempts"]) == ("SENT", 1)


# --- the inbound webhook: signatures and opt-outs ----------------------------------------


@pytest.fixture
async def twilio_http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Twilio configured (its auth token signs the inbound webhook)."""
    settings = dataclasses.replace(
        db.settings, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_from=FROM
    )
    app = create_app(settings, db=db, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        client.headers["x-test-public-url"] = settings.public_url
        yield client


async def inbound(
    client: httpx.AsyncClient, sender: str, body: str, *, signature: str | None = "sign"
) -> httpx.Response:
    form = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": FROM,
        "Body": body,
        "NumMedia": "0",
    }
    headers = {}
    if signature == "sign":
        url = client.headers["x-test-public-url"] + "/webhooks/twilio"
        headers["X-Twilio-Signature"] = twilio_signature(AUTH_TOKEN, url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await client.post("/webhooks/twilio", data=form, headers=headers)


async def opted_out(db: Database, org: Any, number: str) -> bool:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(sms_opt_outs.c.phone).where(
                sms_opt_outs.c.organization_id == org, sms_opt_outs.c.phone == number
            )
        )
        return found.first() is not None


async def opt_out_audits(db: Database, org: Any) -> list[str]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(audit_events.c.action)
            .where(audit_events.c.organization_id == org, audit_events.c.action.like("sms.opted_%"))
            .order_by(audit_events.c.created_at)
        )
        return list(found.scalars())


async def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(
    db: Database, tenant: Tenant, twilio_http: httpx.AsyncClient
):
    number = a_number()
    await queue_text(db, tenant, number)  # the organization has texted this number
    missing = await inbound(twilio_http, number, "STOP", signature=None)
    forged = await inbound(twilio_http, number, "STOP", signature="bm90IGEgc2lnbmF0dXJl")
    # Signed with another token, or over another URL: refused the same way.
    form_url = "http://evil.test/webhooks/twilio"
    other = twilio_signature("another-token", form_url, {"From": number, "Body": "STOP"})
    wrong = await inbound(twilio_http, number, "STOP", signature=other)
    assert [r.status_code for r in (missing, forged, wrong)] == [403, 403, 403]
    assert not await opted_out(db, tenant.organization_id, number)
    assert await opt_out_audits(db, tenant.organization_id) == []


async def test_stop_start_and_a_replay(
    db: Database, tenant: Tenant, twilio_http: httpx.AsyncClient
):
    number = a_number()
    await queue_text(db, tenant, number)
    answer = await inbound(twilio_http, number, " stop ")
    assert answer.status_code == 200 and "<Response>" in answer.text
    assert await opted_out(db, tenant.organization_id, number)
    again = await inbound(twilio_http, number, "STOP")  # Twilio retried: nothing more happens
    assert again.status_code == 200
    assert await opt_out_audits(db, tenant.organization_id) == ["sms.opted_out"]
    assert (await inbound(twilio_http, number, "Thanks, see you Tuesday")).status_code == 200
    assert await opted_out(db, tenant.organization_id, number)
    assert (await inbound(twilio_http, number, "START")).status_code == 200
    assert not await opted_out(db, tenant.organization_id, number)
    assert await opt_out_audits(db, tenant.organization_id) == ["sms.opted_out", "sms.opted_in"]


async def test_webhook_without_twilio_configured_is_unavailable(http: httpx.AsyncClient):
    answer = await http.post("/webhooks/twilio", data={"From": "+13125550100", "Body": "STOP"})
    assert answer.status_code == 503


# --- preferences, and STOP before a reminder -----------------------------------------------

SET_TEXTS = """
mutation T($input: TextPreferencesInput!) {
  updateMyTextPreferences(input: $input) {
    textPreferences { signIn payLinks appointmentReminders carReady number optedOut }
    userErrors { field code }
  }
}
"""
MY_TEXTS = "{ viewer { textPreferences { appointmentReminders number optedOut } } }"


async def choose_reminder_texts(
    db: Database, tenant: Tenant, customer_id: str, number: str
) -> None:
    """What a portal viewer's `updateMyTextPreferences` does, written directly."""
    async with db.write() as session:
        await session.execute(
            sa.update(customers)
            .where(customers.c.id == decode_id_of("Customer", customer_id))
            .values(phone=number, sms_reminders=True, sms_number=number)
        )


async def reminder_texts(db: Database, tenant: Tenant, number: str) -> list[str]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(outbox_emails.c.body_text).where(
                outbox_emails.c.organization_id == tenant.organization_id,
                outbox_emails.c.channel == Channel.SMS,
                outbox_emails.c.to_address == number,
                outbox_emails.c.subject.like("Reminder:%"),
            )
        )
        return list(found.scalars())


async def test_stop_then_a_reminder_is_not_texted_and_start_texts_again(
    db: Database,
    gql: GraphQLClient,
    tenant: Tenant,
    other_tenant: Tenant,
    twilio_http: httpx.AsyncClient,
):
    number = a_number()
    customer_id, _ = await make_customer(gql, tenant, phone=number)
    await choose_reminder_texts(db, tenant, customer_id, number)
    # The same number is another business's customer's too, who also chose reminder texts.
    theirs, _ = await make_customer(gql, other_tenant, phone=number)
    await choose_reminder_texts(db, other_tenant, theirs, number)

    await _appointment(gql, tenant, customer_id, START)
    assert await _remind(db, tenant, REMIND_AT) == 1
    [text] = await reminder_texts(db, tenant, number)
    assert "Spring service" in text and "Reply STOP" in text

    assert (await inbound(twilio_http, number, "STOP")).status_code == 200
    await _appointment(gql, tenant, customer_id, START + timedelta(days=1))
    await _remind(db, tenant, REMIND_AT + timedelta(days=1))
    assert len(await reminder_texts(db, tenant, number)) == 1  # no second text

    # The other business never texted this number: its customer is untouched.
    assert not await opted_out(db, other_tenant.organization_id, number)
    await _appointment(gql, other_tenant, theirs, START)
    await _remind(db, other_tenant, REMIND_AT)
    assert len(await reminder_texts(db, other_tenant, number)) == 1

    assert (await inbound(twilio_http, number, "START")).status_code == 200
    await _appointment(gql, tenant, customer_id, START + timedelta(days=2))
    await _remind(db, tenant, REMIND_AT + timedelta(days=2))
    assert len(await reminder_texts(db, tenant, number)) == 2


async def test_a_changed_number_gets_no_texts_until_chosen_again(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    number, new = a_number(), a_number()
    customer_id, _ = await make_customer(gql, tenant, phone=number)
    await choose_reminder_texts(db, tenant, customer_id, number)
    update = """
    mutation U($input: UpdateCustomerInput!) {
      updateCustomer(input: $input) { userErrors { code } }
    }
    """
    data = await gql.data(
        update, {"input": {"id": customer_id, "phone": new}}, token=tenant.staff_token
    )
    assert data["updateCustomer"]["userErrors"] == []
    await _appointment(gql, tenant, customer_id, START)
    await _remind(db, tenant, REMIND_AT)
    assert await reminder_texts(db, tenant, new) == []
    assert await reminder_texts(db, tenant, number) == []


async def test_the_portal_viewer_chooses_their_own_texts(
    db: Database, gql: GraphQLClient, tenant: Tenant, smtp: SmtpServer
):
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    # Off by default; no number yet.
    mine = await gql.data(MY_TEXTS, token=session)
    assert mine["viewer"]["textPreferences"] == {
        "appointmentReminders": False,
        "number": None,
        "optedOut": False,
    }
    refused = await gql.data(SET_TEXTS, {"input": {"signIn": True}}, token=session)
    payload = refused["updateMyTextPreferences"]
    assert user_errors(payload) == [(["input", "phone"], "NO_PHONE")]
    assert payload["textPreferences"] is None

    number = a_number()
    profile = """
    mutation P($input: UpdateMyProfileInput!) {
      updateMyProfile(input: $input) { userErrors { code } }
    }
    """
    local = f"({number[2:5]}) {number[5:8]}-{number[8:]}"  # as people write it
    assert (await gql.data(profile, {"input": {"phone": local}}, token=session))["updateMyProfile"][
        "userErrors"
    ] == []
    chosen = await gql.data(
        SET_TEXTS, {"input": {"signIn": True, "appointmentReminders": True}}, token=session
    )
    assert chosen["updateMyTextPreferences"]["textPreferences"] == {
        "signIn": True,
        "payLinks": False,
        "appointmentReminders": True,
        "carReady": False,
        "number": number,
        "optedOut": False,
    }

    # Staff cannot choose texts for anyone; anonymous callers neither.
    as_staff = await gql(SET_TEXTS, {"input": {"signIn": True}}, token=tenant.staff_token)
    assert as_staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await gql(SET_TEXTS, {"input": {"signIn": True}})
    assert anonymous["errors"][0]["extensions"]["code"] in {"UNAUTHENTICATED", "FORBIDDEN"}

    # A sign-in link now goes by text as well as by email: one link, two copies.
    request = """
    mutation R($email: String!, $org: String!) {
      requestPortalLink(input: {email: $email, organization: $org}) { message }
    }
    """
    await gql.data(request, {"email": email, "org": tenant.slug})
    [row] = [r for r in await outbox_rows(db, number) if r["kind"] == MailKind.SIGN_IN]
    assert row["channel"] == Channel.SMS and "/portal/sign-in?token=" in row["body_text"]
    assert row["magic_link_id"] is not None
    async with db.connect() as conn:
        emailed = await conn.execute(
            sa.select(outbox_emails.c.magic_link_id).where(
                outbox_emails.c.to_address == email, outbox_emails.c.kind == MailKind.SIGN_IN
            )
        )
        assert row["magic_link_id"] in set(emailed.scalars())


# --- phone numbers ---------------------------------------------------------------------------


async def test_phone_numbers_are_checked_and_stored_as_e164(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    create = """
    mutation C($input: CreateCustomerInput!) {
      createCustomer(input: $input) { customer { id phone } userErrors { field code } }
    }
    """
    made = await gql.data(
        create, {"input": {"name": "Ann", "phone": "(312) 555-0142"}}, token=tenant.staff_token
    )
    assert made["createCustomer"]["customer"]["phone"] == "+13125550142"
    abroad = await gql.data(
        create, {"input": {"name": "Bo", "phone": "+44 20 7946 0958"}}, token=tenant.staff_token
    )
    assert abroad["createCustomer"]["customer"]["phone"] == "+442079460958"
    for bad in ("12", "555-CALL-NOW", "+1 000 000 0000"):
        refused = await gql.data(
            create, {"input": {"name": "Cy", "phone": bad}}, token=tenant.staff_token
        )
        payload = refused["createCustomer"]
        assert payload["customer"] is None
        assert user_errors(payload) == [(["input", "phone"], "INVALID_PHONE")]
    customer_id = made["createCustomer"]["customer"]["id"]
    _, _ = await make_contact(gql, tenant, customer_id, phone="312.555.0143")
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(contacts.c.phone).where(
                contacts.c.customer_id == decode_id_of("Customer", customer_id)
            )
        )
        assert list(found.scalars()) == ["+13125550143"]


# --- the delivery log ------------------------------------------------------------------------

LOG = """
query L($channel: Channel, $recipient: String) {
  emailDeliveries(channel: $channel, recipient: $recipient) {
    nodes { id channel toAddress kind subject state attempts lastError }
  }
}
"""
RESEND = """
mutation R($input: ResendEmailInput!) {
  resendEmail(input: $input) { emailDelivery { id channel state } userErrors { field code } }
}
"""


async def test_the_delivery_log_shows_texts_and_resends_them(
    db: Database,
    gql: GraphQLClient,
    tenant: Tenant,
    other_tenant: Tenant,
    twilio_stub: TwilioStub,
    twilio_http: httpx.AsyncClient,
):
    to = a_number()
    twilio_stub.invalid_numbers.add(to)
    await queue_text(db, tenant, to)
    await deliver_texts(db, texter(twilio_stub))
    data = await gql.data(LOG, {"channel": "SMS", "recipient": to}, token=tenant.staff_token)
    [dead] = data["emailDeliveries"]["nodes"]
    assert (dead["channel"], dead["state"], dead["subject"]) == ("SMS", "DEAD", "A test text")
    assert "21211" in dead["lastError"]
    emails = await gql.data(LOG, {"channel": "EMAIL", "recipient": to}, token=tenant.staff_token)
    assert emails["emailDeliveries"]["nodes"] == []

    # Another business's staff cannot see or resend it.
    theirs = await gql.data(LOG, {"recipient": to}, token=other_tenant.staff_token)
    assert theirs["emailDeliveries"]["nodes"] == []
    foreign = await gql.data(RESEND, {"input": {"id": dead["id"]}}, token=other_tenant.staff_token)
    assert user_errors(foreign["resendEmail"]) == [(["input", "id"], "NOT_FOUND")]

    twilio_stub.invalid_numbers.discard(to)
    again = await gql.data(RESEND, {"input": {"id": dead["id"]}}, token=tenant.staff_token)
    assert again["resendEmail"]["emailDelivery"]["channel"] == "SMS"
    await deliver_texts(db, texter(twilio_stub))
    assert len(twilio_stub.sent_to(to)) == 2

    # A number that answered STOP is not texted again by a resend.
    assert (await inbound(twilio_http, to, "STOP")).status_code == 200
    refused = await gql.data(RESEND, {"input": {"id": dead["id"]}}, token=tenant.staff_token)
    assert user_errors(refused["resendEmail"]) == [(["input", "id"], "OPTED_OUT")]


# --- pay links and car ready, by text where chosen -------------------------------------------


async def choose_texts(db: Database, customer_id: str, number: str, **kinds: bool) -> None:
    async with db.write() as session:
        await session.execute(
            sa.update(customers)
            .where(customers.c.id == decode_id_of("Customer", customer_id))
            .values(phone=number, sms_number=number, **kinds)
        )


async def texts_to(db: Database, number: str) -> list[tuple[str, str]]:
    """(subject, body) of the texts queued to `number`."""
    return [(r["subject"], r["body_text"]) for r in await outbox_rows(db, number)]


async def test_an_invoice_texts_its_pay_link_to_whom_chose_it(paying: Paying):
    number = a_number()
    await choose_texts(paying.db, paying.customer_id, number, sms_pay_links=True)
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    [(subject, body)] = await texts_to(paying.db, number)
    assert subject == f"Pay link for invoice #{invoice['number']}"
    assert f"invoice #{invoice['number']} for USD 250.00" in body and "/portal/pay/" in body


async def test_a_finished_job_texts_car_ready_to_whom_chose_it(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    number, quiet = a_number(), a_number()
    customer_id, _ = await make_customer(gql, tenant)
    await choose_texts(db, customer_id, number, sms_car_ready=True)
    other_id, _ = await make_customer(gql, tenant)
    await choose_texts(db, other_id, quiet, sms_reminders=True)  # not car-ready texts
    for owner in (customer_id, other_id):
        car = await make_car(gql, tenant, owner, "911")
        made = await gql.data(
            CREATE_JOB,
            {"input": {"customerId": owner, "carId": car, "title": "Detailing"}},
            token=tenant.staff_token,
        )
        job = made["createJob"]["job"]["id"]
        done = await gql.data(COMPLETE, {"input": {"id": job}}, token=tenant.staff_token)
        assert done["completeJob"]["userErrors"] == []
    [(subject, body)] = await texts_to(db, number)
    assert subject == "Car ready: Porsche 911"
    assert body.startswith(f"Tenant {tenant.slug.split('-')[0][1:]}: Porsche 911 is ready")
    assert await texts_to(db, quiet) == []


# --- settings and the development transport -------------------------------------------------


def test_twilio_settings_and_the_file_texter(tmp_path: Any):
    from core.settings import ConfigurationError, settings_from_env
    from mail.texts import FileTexter, texter_from_settings

    production = {
        "PORTICO_ENV": "production",
        "SECRET_KEYS": "Kq8-rT1_xY0pLm3nB7vC2wE5uI9oA4sD6fG0hJzW3tR7yU2iO5pA",
        "SMTP_URL": "smtp://mail.test:25",
        "DATABASE_URL": "postgresql+asyncpg://x@db.test/portico",
    }
    plain = settings_from_env(production)
    assert not plain.texts_enabled  # production without Twilio queues no texts
    missing_sender = settings_from_env(
        {**production, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    )
    with pytest.raises(ConfigurationError, match="TWILIO_FROM"):
        missing_sender.check()
    configured = settings_from_env(
        {
            **production,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": FROM,
            "TWILIO_BASE_URL": "http://127.0.0.1:9/",
        }
    )
    sender = texter_from_settings(configured)
    assert isinstance(sender, TwilioTexter) and configured.texts_enabled
    assert sender.url == f"http://127.0.0.1:9/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert AUTH_TOKEN not in repr(sender)
    development = texter_from_settings(settings_from_env({"MAIL_DIR": str(tmp_path)}))
    assert isinstance(development, FileTexter) and development.directory == tmp_path / "texts"


async def test_the_file_texter_writes_each_text(tmp_path: Any):
    from mail.texts import FileTexter, Text

    await FileTexter(tmp_path).send(Text(to="+13125550100", body="Hi", reference="abc/../x"))
    [written] = list(tmp_path.iterdir())
    assert written.name.endswith("-abc..x.txt")
    assert written.read_text() == "To: +13125550100\n\nHi\n"
