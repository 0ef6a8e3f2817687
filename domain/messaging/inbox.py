"""A staff member's own in-app notifications (domain/notifications.py writes them): marking
them read. Nobody touches another's."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from core.errors import Forbidden
from domain.problems import Problem, Rejected
from domain.work import Work
from models.clock import db_now
from models.tables import notifications

MARK_WHICH = Problem("ids", "Give the notifications' ids, or all: true.")


def which_problems(ids: list[object], everything: bool) -> list[Problem]:
    """Some notifications, or all of them: one or the other."""
    return [MARK_WHICH] if bool(ids) == everything else []


async def mark_notifications_read(work: Work, ids: list[uuid.UUID], *, everything: bool) -> int:
    """Mark some (or all) of the staff member's own unread notifications read; how many
    were."""
    if problems := which_problems(list(ids), everything):
        raise Rejected(*problems)
    viewer = work.viewer
    if not viewer.is_staff or viewer.staff_user_id is None:
        raise Forbidden()
    table = notifications
    conditions = [
        table.c.recipient_staff_id == viewer.staff_user_id,
        table.c.read_at.is_(None),
        table.c.organization_id == viewer.organization_id,
    ]
    if ids:
        conditions.append(table.c.id.in_(set(ids)))
    async with work.write() as session:
        done = await session.execute(
            sa.update(table).where(*conditions).values(read_at=db_now(), updated_at=db_now())
        )
    return int(done.rowcount)  # type: ignore[attr-defined]
