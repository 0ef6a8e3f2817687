"""Server-side sessions: created at sign-in, checked on every request, ended at once.

A session ends 7 days after its last use, 30 days after sign-in in any case, at sign-out,
or when the person's access is revoked. There is no cache: each request reads the row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from auth.tokens import new_token, token_hash
from auth.viewer import ANONYMOUS, Viewer, ViewerKind
from models import AuthSession, StaffUser
from models.enums import SessionKind
from models.types import utcnow

IDLE_TIMEOUT = timedelta(days=7)
ABSOLUTE_TIMEOUT = timedelta(days=30)
# Writing last_used_at on every request costs a write per read; a minute's precision
# on a seven-day window is plenty.
TOUCH_INTERVAL = timedelta(minutes=1)

sessions: sa.Table = AuthSession.__table__  # type: ignore[attr-defined]
staff: sa.Table = StaffUser.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class IssuedSession:
    token: str
    session_id: uuid.UUID
    expires_at: datetime


async def start_staff_session(
    db: AsyncSession, user: StaffUser, ip: str | None, user_agent: str | None
) -> IssuedSession:
    token = new_token()
    now = utcnow()
    row = AuthSession(
        organization_id=user.organization_id,
        token_hash=token_hash(token),
        kind=SessionKind.STAFF,
        staff_user_id=user.id,
        last_used_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
        ip=ip,
        user_agent=(user_agent or "")[:500] or None,
    )
    db.add(row)
    return IssuedSession(token=token, session_id=row.id, expires_at=row.expires_at)


async def end_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(sa.delete(sessions).where(sessions.c.id == session_id))


async def viewer_for_token(conn: AsyncConnection, token: str | None) -> Viewer:
    """The viewer a bearer token stands for, or ANONYMOUS; slides the idle window."""
    if not token:
        return ANONYMOUS
    now = utcnow()
    stmt = (
        sa.select(
            sessions.c.id,
            sessions.c.organization_id,
            sessions.c.kind,
            sessions.c.last_used_at,
            staff.c.id.label("staff_user_id"),
            staff.c.role,
        )
        .join(staff, staff.c.id == sessions.c.staff_user_id)
        .where(
            sessions.c.token_hash == token_hash(token),
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
            sessions.c.last_used_at > now - IDLE_TIMEOUT,
            staff.c.is_active.is_(True),
        )
    )
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        return ANONYMOUS
    if now - row["last_used_at"] > TOUCH_INTERVAL:
        await conn.execute(
            sa.update(sessions).where(sessions.c.id == row["id"]).values(last_used_at=now)
        )
    return Viewer(
        kind=ViewerKind.STAFF,
        organization_id=row["organization_id"],
        session_id=row["id"],
        staff_user_id=row["staff_user_id"],
        role=row["role"],
    )
