"""Idempotency keys: a mutation's answer kept under the key its client sent, for 24 hours.

A key is written in the transaction of the mutation's effect (portico/idempotency.py), so
it exists exactly when the effect does: a retry either finds the stored answer or finds
nothing and does the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

from models.base import table_of
from models.clock import db_now
from models.types import UTCDateTime

KEEP_SECONDS = 24 * 3600  # how long an answer is replayed (Stripe's convention)


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    # Whose key: the same key from another viewer is another key.
    viewer: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)  # SHA-256 of the operation, variables, files
    status_code: int | None = Field(default=None)
    content_type: str | None = Field(default=None, max_length=100)
    body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


idempotency_keys = table_of(IdempotencyKey)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    content_type: str
    body: bytes


def _live(viewer: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        idempotency_keys.c.viewer == viewer,
        idempotency_keys.c.key == key,
        idempotency_keys.c.created_at > db_now(-KEEP_SECONDS),
    )


async def stored_answer(conn: AsyncConnection, viewer: str, key: str) -> StoredAnswer | None:
    """The committed answer kept under the key, unless it is older than 24 hours."""
    stmt = sa.select(
        idempotency_keys.c.request_hash,
        idempotency_keys.c.status_code,
        idempotency_keys.c.content_type,
        idempotency_keys.c.body,
    ).where(_live(viewer, key), idempotency_keys.c.status_code.is_not(None))
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return StoredAnswer(row.request_hash, row.status_code, row.content_type, bytes(row.body))


async def claim(conn: AsyncConnection, viewer: str, key: str, request_hash: str) -> None:
    """Take the key inside the caller's transaction. A concurrent request holding the same
    key makes this wait for its transaction (the primary key), then fail with an
    IntegrityError once that one committed."""
    await conn.execute(
        sa.delete(idempotency_keys).where(
            idempotency_keys.c.viewer == viewer,
            idempotency_keys.c.key == key,
            idempotency_keys.c.created_at <= db_now(-KEEP_SECONDS),
        )
    )
    await conn.execute(
        sa.insert(idempotency_keys).values(
            viewer=viewer, key=key, request_hash=request_hash, created_at=db_now()
        )
    )


async def keep_answer(
    conn: AsyncConnection,
    viewer: str,
    key: str,
    status_code: int,
    content_type: str,
    body: bytes,
) -> None:
    """Store the answer in the same transaction as the claim and the effect."""
    await conn.execute(
        sa.update(idempotency_keys)
        .where(idempotency_keys.c.viewer == viewer, idempotency_keys.c.key == key)
        .values(status_code=status_code, content_type=content_type, body=body)
    )


async def expire(conn: AsyncConnection) -> int:
    """Delete keys older than 24 hours; how many went."""
    result = await conn.execute(
        sa.delete(idempotency_keys).where(idempotency_keys.c.created_at <= db_now(-KEEP_SECONDS))
    )
    return result.rowcount or 0
