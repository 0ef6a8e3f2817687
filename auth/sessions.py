"""Server-side sessions: created at sign-in, checked on every request, ended at once.

A session ends 7 days after its last use, 30 days after sign-in in any case, at sign-out,
or when the person's access is revoked. There is no cache: every request reads the row,
and every deadline is measured by the database's clock. (The planner's prepared path reads the
row in the same statement as the answer: planner/prepared.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from auth.tokens import new_token, token_hash
from auth.viewer import ANONYMOUS, Viewer, ViewerKind
from models.clock import db_now
from models.enums import PortalScope, PortalStatus, SessionKind, StaffRole
from models.tables import auth_sessions as sessions
from models.tables import contact_cars, contacts, customers
from models.tables import portal_settings as settings_table
from models.tables import staff_users as staff

IDLE_TIMEOUT = timedelta(days=7)
ABSOLUTE_TIMEOUT = timedelta(days=30)
# Writing last_used_at on every request would make every read a write; a minute's
# precision on a seven-day window is plenty.
TOUCH_INTERVAL = timedelta(minutes=1)


SECTIONS: tuple[str, ...] = (
    *("cars", "invoices", "estimates", "documents", "appointments", "messages", "profile"),
    "telematics",  # shown where the organization connected a telematics provider
)


@dataclass(frozen=True)
class IssuedSession:
    token: str
    session_id: uuid.UUID
    expires_at: datetime


async def start_session(
    db: AsyncSession,
    *,
    kind: SessionKind,
    organization_id: uuid.UUID,
    staff_user_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    email: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    previewed_by_staff_id: uuid.UUID | None = None,
    lifetime: timedelta = ABSOLUTE_TIMEOUT,
) -> IssuedSession:
    """A new session with a new random token (never reused across sign-ins)."""
    token = new_token()
    session_id = uuid.uuid4()
    result = await db.execute(
        sa.insert(sessions)
        .values(
            id=session_id,
            organization_id=organization_id,
            token_hash=token_hash(token),
            kind=kind,
            staff_user_id=staff_user_id,
            customer_id=customer_id,
            contact_id=contact_id,
            email=email,
            created_at=db_now(),
            updated_at=db_now(),
            last_used_at=db_now(),
            expires_at=db_now(int(min(lifetime, ABSOLUTE_TIMEOUT).total_seconds())),
            previewed_by_staff_id=previewed_by_staff_id,
            ip=ip,
            user_agent=(user_agent or "")[:500] or None,
        )
        .returning(sessions.c.expires_at)
    )
    return IssuedSession(token=token, session_id=session_id, expires_at=result.scalar_one())


async def end_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(sa.delete(sessions).where(sessions.c.id == session_id))


async def end_sessions_of(
    db: AsyncSession, customer_id: uuid.UUID, contact_id: uuid.UUID | None
) -> None:
    """End every portal session of one person: a customer, or one of its contacts."""
    person = (
        sessions.c.contact_id == contact_id
        if contact_id is not None
        else sa.and_(sessions.c.customer_id == customer_id, sessions.c.contact_id.is_(None))
    )
    await db.execute(sa.delete(sessions).where(sessions.c.kind != SessionKind.STAFF, person))


async def end_portal_sessions(db: AsyncSession, organization_id: uuid.UUID) -> None:
    """End every portal session (and preview) of one organization."""
    await db.execute(
        sa.delete(sessions).where(
            sessions.c.organization_id == organization_id, sessions.c.kind != SessionKind.STAFF
        )
    )


def _lookup(which: sa.ColumnElement[bool]) -> sa.Select[tuple[object, ...]]:
    """The live session with its person, in one statement."""
    return (
        sa.select(
            sessions.c.id,
            sessions.c.organization_id,
            sessions.c.kind,
            sessions.c.last_used_at,
            sessions.c.staff_user_id,
            sessions.c.customer_id,
            sessions.c.contact_id,
            sessions.c.email,
            db_now().label("now"),
            staff.c.role,
            staff.c.is_active,
            customers.c.portal_status.label("customer_status"),
            customers.c.archived_at.label("customer_archived_at"),
            contacts.c.portal_status.label("contact_status"),
            contacts.c.can_access_portal,
            contacts.c.portal_scope,
            contacts.c.archived_at.label("contact_archived_at"),
            *[settings_table.c[c] for c in ("enabled", *(f"show_{s}" for s in SECTIONS))],
        )
        .select_from(sessions)
        .outerjoin(staff, staff.c.id == sessions.c.staff_user_id)
        .outerjoin(customers, customers.c.id == sessions.c.customer_id)
        .outerjoin(contacts, contacts.c.id == sessions.c.contact_id)
        .outerjoin(settings_table, settings_table.c.organization_id == sessions.c.organization_id)
        .where(
            which,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > db_now(),
            sessions.c.last_used_at > db_now(-int(IDLE_TIMEOUT.total_seconds())),
        )
    )


def portal_may_enter(row: Mapping[str, Any]) -> bool:
    """The person behind a portal session still has access, checked on every request."""
    if not row["enabled"] or row["customer_archived_at"] is not None:
        return False
    # Compared by value: rows read as SQL text carry the enums' names as plain strings.
    if row["contact_id"] is None:
        return row["customer_status"] != PortalStatus.REVOKED
    return (
        row["contact_status"] != PortalStatus.REVOKED
        and bool(row["can_access_portal"])
        and row["contact_archived_at"] is None
    )


# Built once: building a statement costs more than running it.
BY_TOKEN = _lookup(sessions.c.token_hash == sa.bindparam("token_hash"))
BY_ID = _lookup(sessions.c.id == sa.bindparam("session_id", type_=sa.Uuid()))
TOUCH = (
    sa.update(sessions)
    .where(sessions.c.id == sa.bindparam("touched", type_=sa.Uuid()))
    .values(last_used_at=db_now())
)
SCOPED_CARS = sa.select(contact_cars.c.car_id).where(
    contact_cars.c.contact_id == sa.bindparam("contact", type_=sa.Uuid())
)


class Reads(Protocol):
    """Where statements run: the request's read scope (autocommit, models/db.py)."""

    async def rows(
        self, statement: sa.Executable, params: dict[str, Any] | None = None
    ) -> Sequence[RowMapping]: ...


async def viewer_for_token(reads: Reads, token: str | None) -> Viewer:
    """The viewer a session token stands for, or ANONYMOUS; slides the idle window."""
    if not token:
        return ANONYMOUS
    return await _viewer(reads, BY_TOKEN, {"token_hash": token_hash(token)})


async def viewer_for_session(reads: Reads, session_id: uuid.UUID) -> Viewer:
    """The same decision for a session this request already holds (after it changed)."""
    return await _viewer(reads, BY_ID, {"session_id": session_id})


async def _viewer(reads: Reads, statement: sa.Select[Any], params: dict[str, Any]) -> Viewer:
    found = await reads.rows(statement, params)
    if not found:
        return ANONYMOUS
    row = found[0]
    viewer = viewer_from_row(row)
    if viewer.kind is ViewerKind.ANONYMOUS:
        return ANONYMOUS
    if viewer.scope is PortalScope.CARS:
        cars = await reads.rows(SCOPED_CARS, {"contact": viewer.contact_id})
        viewer = replace(viewer, car_ids=frozenset(r["car_id"] for r in cars))
    await touch_if_due(reads, row)
    return viewer


def viewer_from_row(row: Mapping[Any, Any]) -> Viewer:
    """The viewer a live session row (`_lookup`) stands for, ANONYMOUS when its person lost
    access. A contact limited to chosen cars still needs their cars read (`_viewer`)."""
    kind = SessionKind(row["kind"])
    if kind is SessionKind.STAFF:
        if not row["is_active"]:
            return ANONYMOUS
        return Viewer(
            kind=ViewerKind.STAFF,
            organization_id=row["organization_id"],
            session_id=row["id"],
            staff_user_id=row["staff_user_id"],
            role=StaffRole(row["role"]),
        )
    if not portal_may_enter(row):
        return ANONYMOUS
    contact_scope = row["portal_scope"]
    has_contact = row["contact_id"] is not None
    return Viewer(
        kind=ViewerKind.PORTAL,
        organization_id=row["organization_id"],
        session_id=row["id"],
        customer_id=row["customer_id"],
        contact_id=row["contact_id"],
        scope=PortalScope(contact_scope) if has_contact else PortalScope.EVERYTHING,
        sections=frozenset(s for s in SECTIONS if row[f"show_{s}"]),
        email=row["email"],
        preview=kind is SessionKind.PREVIEW,
    )


async def touch_if_due(reads: Reads, row: Mapping[Any, Any]) -> None:
    """Slide the idle window, at most once a minute (TOUCH_INTERVAL)."""
    if row["now"] - row["last_used_at"] > TOUCH_INTERVAL:
        await reads.rows(TOUCH, {"touched": row["id"]})
