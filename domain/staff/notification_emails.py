"""Which in-app notifications a staff member also gets by email: their own choice, kept as
the kinds not emailed so that a kind added later is emailed until they say otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from core.errors import Forbidden, NotFound
from domain.audit import audit
from domain.work import Work
from models import StaffUser
from models.enums import NotificationKind
from models.writes import get_for_update


def emailed_kinds(email_notifications: bool, quiet: Iterable[str]) -> list[NotificationKind]:
    """The kinds a staff member gets by email, in the enum's order."""
    if not email_notifications:
        return []
    muted = set(quiet)
    return [kind for kind in NotificationKind if kind.value not in muted]


async def set_emailed_kinds(work: Work, kinds: Iterable[NotificationKind]) -> uuid.UUID:
    """The signed-in staff member's own choice; none at all turns the emails off."""
    viewer = work.viewer
    if not viewer.is_staff or viewer.staff_user_id is None:
        raise Forbidden()
    wanted = set(kinds)
    async with work.write() as session:
        me = await get_for_update(session, StaffUser, viewer.organization_id, viewer.staff_user_id)
        if me is None:
            raise NotFound()
        me.email_notifications = bool(wanted)
        me.quiet_email_kinds = sorted(k.value for k in NotificationKind if k not in wanted)
        session.add(
            audit(
                work,
                "staff.notification_emails_updated",
                subject_type="StaffUser",
                subject_id=me.id,
                data={"emailed": sorted(k.value for k in wanted)},
            )
        )
    return me.id
