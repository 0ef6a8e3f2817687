"""Writing emails to the outbox, inside the transaction of the change that causes them.

An email is a row first: if the transaction rolls back, no email exists; if it commits, the
worker will deliver it (or mark it DEAD where staff can see it), whatever the SMTP server does.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxEmail
from models.enums import MailKind


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
) -> OutboxEmail:
    """Add one email to the caller's transaction; nothing is sent here."""
    for name, value in (("to", to), ("subject", subject)):
        # A line break in a header would let the value write headers of its own.
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name} must be a single line")
    if not to.strip():
        raise ValueError("to must not be empty")
    row = OutboxEmail(
        organization_id=organization_id,
        kind=kind,
        to_address=to.strip(),
        subject=subject,
        body_text=text,
        body_html=html,
        magic_link_id=magic_link_id,
    )
    # The tables have no ORM relationships, so the unit of work cannot order a new
    # MagicLink before the outbox row that points at it: insert pending parents first.
    await session.flush()
    session.add(row)
    return row
