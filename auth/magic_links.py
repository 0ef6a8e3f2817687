"""Single-use sign-in links: 256 random bits, stored only as a SHA-256 hash.

A link's 15 minutes start when its email actually leaves (`start_link_clock`, called by
the mail worker), are measured by the database's clock, and end at first use, at
revocation of the person's access, or when a newer link is issued for them.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import db_now
from models.tables import magic_links as links


async def start_link_clock(session: AsyncSession, link_id: uuid.UUID, minutes: int) -> None:
    """The email carrying this link has been sent: its lifetime starts now."""
    await session.execute(
        sa.update(links)
        .where(links.c.id == link_id, links.c.sent_at.is_(None))
        .values(sent_at=db_now(), expires_at=db_now(minutes * 60))
    )
