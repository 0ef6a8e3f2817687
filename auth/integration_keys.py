"""API keys of an organization's integrations. A key is `ptk_<prefix>_<secret>`; only its
sha256 is stored, the prefix tells keys apart in lists, and each key has one scope."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.tokens import token_hash
from models.tables import integration_keys as keys
from models.types import utcnow

PREFIX = "ptk_"


@dataclass(frozen=True, slots=True)
class Integration:
    """Who is calling: the organization and the key, with what the key may do."""

    organization_id: uuid.UUID
    key_id: uuid.UUID
    scope: str


def new_key() -> tuple[str, str]:
    """(the full key to show once, its short prefix)."""
    prefix = secrets.token_hex(4)
    return f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


async def integration_for(session: AsyncSession, presented: str | None) -> Integration | None:
    """The live key behind an `Authorization: Bearer ptk_...` value; its use is stamped."""
    if not presented or not presented.startswith(PREFIX):
        return None
    stmt = (
        sa.update(keys)
        .where(keys.c.key_hash == token_hash(presented), keys.c.revoked_at.is_(None))
        .values(last_used_at=utcnow())
        .returning(keys.c.organization_id, keys.c.id, keys.c.scope)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else Integration(row[0], row[1], row[2])
