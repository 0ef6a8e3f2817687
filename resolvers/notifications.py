"""Telling staff what happened: a Notification each, and an email for those who want one;
and each staff member's own list of them, read or not."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from strawberry import Info

from core.errors import Forbidden
from core.ids import decode_id_of
from models import relations as rel
from models.clock import db_now
from resolvers.outcome import input_ids
from resolvers.relations import root_connection
from resolvers.validation import Problem, Rejected
from schema.connections import Connection

# --- a staff member's own in-app notifications --------------------------------------------


def _mine(info: Info, unread_only: bool) -> list[sa.ColumnElement[bool]]:
    viewer = info.context.viewer
    if not viewer.is_staff or viewer.staff_user_id is None:
        raise Forbidden()
    table = rel.notifications
    conditions = [table.c.recipient_staff_id == viewer.staff_user_id]
    if unread_only:
        conditions.append(table.c.read_at.is_(None))
    return conditions


async def staff_notifications(
    info: Info, make: Any, unread_only: bool, first: int, after: str | None
) -> Connection[Any]:
    """The signed-in staff member's notifications, newest first."""
    conditions = _mine(info, unread_only)
    ordering = rel.NOTIFICATIONS_NEWEST
    return await root_connection(info, rel.notifications, ordering, conditions, make, first, after)


async def unread_count(info: Info) -> int:
    return await info.context.loaders.root_count(rel.notifications, _mine(info, True))


MARK_WHICH = Problem("ids", "Give the notifications' ids, or all: true.", "INVALID")


@input_ids
async def mark_read(info: Info, ids: list[str] | None, everything: bool) -> int:
    """Mark some (or all) of the staff member's own notifications read; how many were."""
    if bool(ids) == everything:
        raise Rejected(MARK_WHICH)
    table = rel.notifications
    conditions = [
        *_mine(info, True),
        table.c.organization_id == info.context.viewer.organization_id,
    ]
    if ids:
        conditions.append(table.c.id.in_({decode_id_of("Notification", gid) for gid in ids}))
    async with info.context.write() as session:
        done = await session.execute(
            sa.update(table).where(*conditions).values(read_at=db_now(), updated_at=db_now())
        )
    return done.rowcount
