"""Writing emails to the outbox, inside the transaction of the change that causes them.

An email is a row first: if the transaction rolls back, no email exists; if it commits, the
worker will deliver it (or mark it DEAD where staff can see it), whatever the SMTP server does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mail.recipients import Recipient
from mail.templates import branded
from models import Organization, OutboxEmail
from models.enums import Channel, MailKind


@dataclass(frozen=True, slots=True)
class Attachment:
    """A stored file to send with an email."""

    storage_key: str
    filename: str
    content_type: str


async def enqueue(
    session: AsyncSession,
    *,
    kind: MailKind,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    organization_id: uuid.UUID | None = None,
    magic_link_id: uuid.UUID | None = None,
    attachment: Attachment | None = None,
) -> OutboxEmail:
    """Add one email to the caller's transaction; nothing is sent here."""
    for name, value in (("to", to), ("subject", subject)):
        # A line break in a header would let the value write headers of its own.
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name} must be a single line")
    if not to.strip():
        raise ValueError("to must not be empty")
    from_name, reply_to = await _sender_identity(session, organization_id)
    row = OutboxEmail(
        organization_id=organization_id,
        from_name=from_name,
        reply_to=reply_to,
        kind=kind,
        to_address=to.strip(),
        subject=subject,
        body_text=text,
        body_html=html,
        magic_link_id=magic_link_id,
        attachment_key=attachment.storage_key if attachment else None,
        attachment_filename=attachment.filename if attachment else None,
        attachment_type=attachment.content_type if attachment else None,
    )
    # The tables have no ORM relationships, so the unit of work cannot order a new
    # MagicLink before the outbox row that points at it: insert pending parents first.
    await session.flush()
    session.add(row)
    return row


async def _sender_identity(
    session: AsyncSession, organization_id: uuid.UUID | None
) -> tuple[str | None, str | None]:
    """The business's name for From and its address for Reply-To (single lines only)."""
    if organization_id is None:
        return None, None
    org = await session.get(Organization, organization_id)
    if org is None:
        return None, None
    name = one_line(org.name)[:200] or None
    reply_to = (org.email or "").strip()
    if not reply_to or "\r" in reply_to or "\n" in reply_to:
        return name, None
    return name, reply_to


def one_line(text: str) -> str:
    """Names go into subjects: no line breaks, which would break the header."""
    return " ".join(text.split())


async def enqueue_to(
    session: AsyncSession,
    org: Organization,
    kind: MailKind,
    people: Sequence[Recipient],
    subject: str,
    paragraphs: list[str],
    button: tuple[str, str] | None = None,
) -> None:
    """One branded email per person, greeting each by name. Choose `people` with
    `mail.recipients` so that preferences decide who gets it."""
    for person in people:
        text, html = branded(
            org.model_dump(),
            subject=subject,
            heading=subject,
            paragraphs=[f"Hello {one_line(person.name)},", *paragraphs],
            button=button,
        )
        await enqueue(
            session,
            kind=kind,
            to=person.email,
            subject=one_line(subject)[:300],
            text=text,
            html=html,
            organization_id=org.id,
        )


async def enqueue_text(
    session: AsyncSession,
    *,
    kind: MailKind,
    to: str,
    label: str,
    text: str,
    organization_id: uuid.UUID,
    magic_link_id: uuid.UUID | None = None,
) -> OutboxEmail:
    """Add one text (SMS) to the caller's transaction; `to` is an E.164 number (choose it
    with `mail.texts.text_recipients`), `label` what staff read in the delivery log."""
    if not to.startswith("+") or not to[1:].isdigit():
        raise ValueError("a text goes to an E.164 number")
    row = OutboxEmail(
        organization_id=organization_id,
        channel=Channel.SMS,
        kind=kind,
        to_address=to,
        subject=one_line(label)[:300],
        body_text=text,
        magic_link_id=magic_link_id,
    )
    await session.flush()  # pending parents (a new MagicLink) first, as `enqueue` does
    session.add(row)
    return row
