"""Emailed staff links: 256 random bits, stored only as a SHA-256 hash.

A token is issued for one staff member and one purpose (an invite, a password reset),
works until `expires_at` (the database's clock), dies at first use, and dies when a newer
one of the same purpose is issued for the same person, or the invite is cancelled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.portal import Redemption  # one outcome for every emailed link
from auth.tokens import new_token, token_hash
from models.clock import db_now
from models.enums import StaffTokenPurpose
from models.tables import staff_tokens as tokens


async def revoke_tokens(
    session: AsyncSession, staff_user_id: uuid.UUID, purpose: StaffTokenPurpose | None = None
) -> None:
    """Kill every unused token of this person (of one purpose, or all)."""
    conditions = [
        tokens.c.staff_user_id == staff_user_id,
        tokens.c.used_at.is_(None),
        tokens.c.revoked_at.is_(None),
    ]
    if purpose is not None:
        conditions.append(tokens.c.purpose == purpose)
    await session.execute(
        sa.update(tokens).where(*conditions).values(revoked_at=db_now(), updated_at=db_now())
    )


@dataclass(frozen=True)
class IssuedToken:
    token_id: uuid.UUID
    token: str


async def issue_token(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    staff_user_id: uuid.UUID,
    email: str,
    purpose: StaffTokenPurpose,
    seconds: int,
) -> IssuedToken:
    """A new token for this person and purpose, alive for `seconds`; earlier ones die."""
    await revoke_tokens(session, staff_user_id, purpose)
    token = new_token()
    token_id = uuid.uuid4()
    await session.execute(
        sa.insert(tokens).values(
            id=token_id,
            organization_id=organization_id,
            token_hash=token_hash(token),
            purpose=purpose,
            staff_user_id=staff_user_id,
            email=email,
            expires_at=db_now(seconds),
            created_at=db_now(),
            updated_at=db_now(),
        )
    )
    return IssuedToken(token_id=token_id, token=token)


@dataclass(frozen=True)
class Redeemed:
    outcome: Redemption
    staff_user_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    email: str | None = None  # the address the token was sent to


async def redeem_token(session: AsyncSession, token: str, purpose: StaffTokenPurpose) -> Redeemed:
    """Use a token once. Two redemptions at the same moment: exactly one succeeds."""
    hashed = token_hash(token)
    used = await session.execute(
        sa.update(tokens)
        .where(
            tokens.c.token_hash == hashed,
            tokens.c.purpose == purpose,
            tokens.c.used_at.is_(None),
            tokens.c.revoked_at.is_(None),
            tokens.c.expires_at > db_now(),
        )
        .values(used_at=db_now(), updated_at=db_now())
        .returning(tokens.c.staff_user_id, tokens.c.organization_id, tokens.c.email)
    )
    row = used.mappings().first()
    if row is not None:
        return Redeemed(Redemption.OK, row["staff_user_id"], row["organization_id"], row["email"])
    # Told apart only when the token is otherwise good: an expired one may ask for another.
    found = await session.execute(
        sa.select(tokens.c.id).where(
            tokens.c.token_hash == hashed,
            tokens.c.purpose == purpose,
            tokens.c.used_at.is_(None),
            tokens.c.revoked_at.is_(None),
        )
    )
    return Redeemed(Redemption.EXPIRED if found.first() else Redemption.INVALID)
