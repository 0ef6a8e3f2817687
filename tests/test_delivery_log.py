"""The delivery log: each email's recipient, kind, state and last error as staff see them,
filtered; resending; and the business's name and address on every email, checked on a real
SMTP server."""

from __future__ import annotations

import email.utils

from mail.outbox import enqueue
from mail.sender import SmtpMailer
from mail.worker import deliver_due
from models import Organization
from models.db import Database
from models.enums import MailKind
from tests.helpers import GraphQLClient, Tenant, user_errors
from tests.security.test_delivery_log import RESEND
from tests.smtp import SmtpServer

LOG = """
query L($state: DeliveryState, $kind: MailKind, $recipient: String) {
  emailDeliveries(state: $state, kind: $kind, recipient: $recipient) {
    totalCount
    nodes { id toAddress kind subject state attempts lastError sentAt }
  }
}
"""


async def _queue(db: Database, tenant: Tenant, to: str, kind: MailKind = MailKind.INVOICES) -> None:
    async with db.write() as session:
        await enqueue(
            session,
            kind=kind,
            to=to,
            subject=f"About {to}",
            text="Hello",
            organization_id=tenant.organization_id,
        )


async def _deliver(db: Database, smtp: SmtpServer) -> None:
    while await deliver_due(db, SmtpMailer(smtp.url), batch=200):
        pass


async def _log(gql: GraphQLClient, tenant: Tenant, **filters: object) -> list[dict[str, object]]:
    data = await gql.data(LOG, filters, token=tenant.staff_token)
    return data["emailDeliveries"]["nodes"]


async def test_states_filters_and_resend(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    slug = tenant.slug
    good, bad, later = f"good@{slug}.test", f"bad@{slug}.test", f"later@{slug}.test"
    await _queue(db, tenant, good)
    await _queue(db, tenant, later, MailKind.SCHEDULING)
    [queued] = await _log(gql, tenant, recipient=later.upper())
    assert (queued["state"], queued["kind"], queued["attempts"]) == ("QUEUED", "SCHEDULING", 0)
    await _deliver(db, smtp)

    smtp.handler.refuse = 550
    try:
        await _queue(db, tenant, bad)
        await _deliver(db, smtp)
    finally:
        smtp.handler.refuse = None
    [dead] = await _log(gql, tenant, recipient=bad)
    assert dead["state"] == "DEAD" and "550" in str(dead["lastError"])
    [sent] = await _log(gql, tenant, recipient=good)
    assert sent["state"] == "SENT" and sent["sentAt"] and sent["toAddress"] == good
    assert [n["toAddress"] for n in await _log(gql, tenant, state="DEAD")] == [bad]
    scheduling = await _log(gql, tenant, kind="SCHEDULING")
    assert [n["toAddress"] for n in scheduling] == [later]

    again = await gql.data(RESEND, {"input": {"id": dead["id"]}}, token=tenant.staff_token)
    assert again["resendEmail"]["userErrors"] == []
    assert again["resendEmail"]["emailDelivery"]["state"] == "QUEUED"
    await _deliver(db, smtp)
    states = sorted(n["state"] for n in await _log(gql, tenant, recipient=bad))
    assert states == ["DEAD", "SENT"]  # the original stays as it was
    audit = await gql.data(
        '{ auditEvents(action: "email.resent") { nodes { data } } }', token=tenant.owner_token
    )
    assert audit["auditEvents"]["nodes"][0]["data"]["to"] == bad


async def test_an_email_still_queued_is_not_resent(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    await _queue(db, tenant, f"waiting@{tenant.slug}.test")
    [queued] = await _log(gql, tenant, recipient=f"waiting@{tenant.slug}.test")
    again = await gql.data(RESEND, {"input": {"id": queued["id"]}}, token=tenant.staff_token)
    assert user_errors(again["resendEmail"]) == [(["input", "id"], "NOT_RESENDABLE")]


async def test_from_names_the_business_and_replies_reach_it(
    db: Database, tenant: Tenant, smtp: SmtpServer
):
    async with db.write() as session:
        org = await session.get(Organization, tenant.organization_id)
        assert org is not None
        org.name = 'Hartwell "Classic" Storage'
        org.email = f"desk@{tenant.slug}.test"
    to = f"reader@{tenant.slug}.test"
    await _queue(db, tenant, to)
    await _deliver(db, smtp)
    [message] = [m for m in smtp.messages if str(m["To"]) == to]
    name, address = email.utils.parseaddr(str(message["From"]))
    assert name == 'Hartwell "Classic" Storage'
    assert address == email.utils.parseaddr(db.settings.mail_from)[1]  # the address stays
    assert str(message["Reply-To"]) == f"desk@{tenant.slug}.test"
