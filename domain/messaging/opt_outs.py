"""Opt-out keywords from the text provider's inbound webhook (portico/twilio_webhook.py).

STOP (or STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) from a number stops every text to it
from each organization that has texted it; START (or UNSTOP) lifts that. Only those
organizations: one that never texted the number is not touched, and neither is any other
number. The keyword is the whole message, in any case, as the provider itself reads it.
Repeats change nothing more (the webhook may be delivered twice).

The provider keeps its own block too: while a number is stopped it refuses texts to it
from our sender whatever Portico asks, so a text that slips through (an organization
that first texts the number after its STOP) ends DEAD with the provider's reason.
"""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import system_audit
from mail.texts import opt_out
from models.db import Database
from models.enums import Channel
from models.tables import outbox_emails, sms_opt_outs

log = logging.getLogger("portico.texts")

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})


class Keyword(StrEnum):
    STOPPED = "STOPPED"
    STARTED = "STARTED"
    IGNORED = "IGNORED"  # any other message: nobody reads texts sent to this number


def keyword_of(body: str) -> Keyword:
    word = " ".join(body.split()).upper()
    if word in STOP_WORDS:
        return Keyword.STOPPED
    if word in START_WORDS:
        return Keyword.STARTED
    return Keyword.IGNORED


async def answer_keyword(db: Database, phone: str, body: str) -> Keyword:
    """Apply an inbound text from `phone` (E.164, as the provider sends it)."""
    keyword = keyword_of(body)
    if keyword is Keyword.IGNORED:
        return keyword
    async with db.write() as session:
        orgs = await _texted_by(session, phone)
        if not orgs:
            return keyword
        if keyword is Keyword.STOPPED:
            changed = await opt_out(session, orgs, phone)
        else:
            lifted = await session.execute(
                sa.delete(sms_opt_outs)
                .where(sms_opt_outs.c.phone == phone, sms_opt_outs.c.organization_id.in_(orgs))
                .returning(sms_opt_outs.c.organization_id)
            )
            changed = list(lifted.scalars())
        action = "sms.opted_out" if keyword is Keyword.STOPPED else "sms.opted_in"
        for org in changed:  # a repeat changed nothing, and writes no second row
            session.add(system_audit(org, action, data={"phone": phone}))
    log.info("texts to a number %s for %d organization(s)", keyword.value.lower(), len(orgs))
    return keyword


async def _texted_by(session: AsyncSession, phone: str) -> list[uuid.UUID]:
    """The organizations that have queued a text to `phone`."""
    found = await session.execute(
        sa.select(outbox_emails.c.organization_id)
        .where(
            outbox_emails.c.channel == Channel.SMS,
            outbox_emails.c.to_address == phone,
            outbox_emails.c.organization_id.is_not(None),
        )
        .distinct()
    )
    return [org for org in found.scalars() if org is not None]
