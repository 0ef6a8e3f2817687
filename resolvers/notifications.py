"""Each staff member's own list of notifications, read or not; marking them read from the
API (domain/messaging/inbox.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from strawberry import Info

from core.errors import Forbidden
from core.ids import decode_id_of
from domain.messaging import inbox
from models import relations as rel
from models import tables
from models.pagination import Listing
from resolvers.outcome import input_ids
from resolvers.relations import root_connection
from resolvers.validation import Rejected

# --- a staff member's own in-app notifications --------------------------------------------


def _mine(info: Info, unread_only: bool) -> list[sa.ColumnElement[bool]]:
    viewer = info.context.viewer
    if not viewer.is_staff or viewer.staff_user_id is None:
        raise Forbidden()
    table = tables.notifications
    conditions = [table.c.recipient_staff_id == viewer.staff_user_id]
    if unread_only:
        conditions.append(table.c.read_at.is_(None))
    return conditions


async def staff_notifications(
    info: Info, make: Any, unread_only: bool, first: int, after: str | None
) -> Listing[Any]:
    """The signed-in staff member's notifications, newest first."""
    conditions = _mine(info, unread_only)
    ordering = rel.NOTIFICATIONS_NEWEST
    return await root_connection(
        info, tables.notifications, ordering, conditions, make, first, after
    )


async def unread_count(info: Info) -> int:
    return await info.context.loaders.root_count(tables.notifications, _mine(info, True))


@input_ids
async def mark_read(info: Info, ids: list[str] | None, everything: bool) -> int:
    """Mark some (or all) of the staff member's own notifications read; how many were."""
    if problems := inbox.which_problems(list(ids or []), everything):
        raise Rejected(*problems)
    decoded = [decode_id_of("Notification", gid) for gid in ids or []]
    return await inbox.mark_notifications_read(info.context, decoded, everything=everything)
