"""The delivery log's one action: staff send an email again, as a new email of the outbox
(the log keeps both). Sign-in links are never sent again (the person asks for a new one:
an old link may be spent, and a copy would be a second key), nor is an email still waiting
to go. A text goes again the same way, unless its number has answered STOP since."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain.audit import audit
from domain.messaging.codes import DeliveryCode
from domain.problems import Problem, Rejected
from domain.rows import organization_of
from domain.work import Work
from models import OutboxEmail
from models.enums import Channel, MailKind, OutboxStatus
from models.tables import sms_opt_outs
from models.writes import get_for_update

STILL_QUEUED = Problem(
    "id", "This email has not been sent yet; it is still queued.", DeliveryCode.NOT_RESENDABLE
)
A_LINK = Problem(
    "id",
    "Sign-in links are not sent again: send a new portal invite or link instead.",
    DeliveryCode.NOT_RESENDABLE,
)


OPTED_OUT = Problem(
    "id",
    "This number answered STOP: no texts go to it until it answers START.",
    DeliveryCode.OPTED_OUT,
)


async def _opted_out(session: AsyncSession, org_id: uuid.UUID, text: OutboxEmail) -> bool:
    found = await session.execute(
        sa.select(sms_opt_outs.c.phone).where(
            sms_opt_outs.c.organization_id == org_id, sms_opt_outs.c.phone == text.to_address
        )
    )
    return found.first() is not None


async def resend_email(work: Work, email_id: uuid.UUID) -> uuid.UUID:
    """Queue a copy of a sent or dead email (or text) of the organization; the copy's ID."""
    org_id = organization_of(work)
    async with work.write() as session:
        original = await get_for_update(session, OutboxEmail, org_id, email_id)
        if original is None:
            raise NotFound(row=("EmailDelivery", email_id))
        if original.kind is MailKind.SIGN_IN or original.magic_link_id is not None:
            raise Rejected(A_LINK)
        if original.status is OutboxStatus.PENDING:
            raise Rejected(STILL_QUEUED)
        if original.channel is Channel.SMS and await _opted_out(session, org_id, original):
            raise Rejected(OPTED_OUT)
        copy = OutboxEmail(
            organization_id=org_id,
            channel=original.channel,
            kind=original.kind,
            to_address=original.to_address,
            subject=original.subject,
            body_text=original.body_text,
            body_html=original.body_html,
            attachment_key=original.attachment_key,
            attachment_filename=original.attachment_filename,
            attachment_type=original.attachment_type,
            from_name=original.from_name,
            reply_to=original.reply_to,
            resent_from_id=original.id,
        )
        session.add(copy)
        await session.flush()
        session.add(
            audit(
                work,
                "email.resent",
                subject_type="EmailDelivery",
                subject_id=copy.id,
                data={"resentFrom": str(original.id), "to": original.to_address},
            )
        )
    return copy.id
