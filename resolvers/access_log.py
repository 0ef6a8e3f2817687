"""Who in the portal looked at what: VIEW when a portal viewer is given a file's link,
DOWNLOAD when they open it. Staff, and staff previewing the portal, are never counted."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from aiodataloader import DataLoader
from strawberry import Info

from auth.viewer import Viewer
from models.access_log import access_row
from models.db import Database
from models.enums import AccessAction

Subject = tuple[str, uuid.UUID]  # ("Document", row id)


def counted(viewer: Viewer) -> bool:
    return viewer.is_portal and not viewer.preview and viewer.customer_id is not None


async def record_access(
    db: Database,
    viewer: Viewer,
    action: AccessAction,
    subjects: Iterable[Subject],
    *,
    ip: str | None,
    user_agent: str | None,
) -> None:
    """One row per subject for a counted viewer, handed to the access log's writer (written
    within a second, in a batch with others); nothing otherwise."""
    if not counted(viewer) or viewer.organization_id is None or viewer.customer_id is None:
        return
    rows = [
        access_row(
            viewer.organization_id,
            viewer.customer_id,
            viewer.contact_id,
            subject,
            action,
            ip=ip,
            user_agent=user_agent,
        )
        for subject in subjects
    ]
    if rows:
        await db.access_log.add(rows)


async def record_view(info: Info, subject_type: str, subject_id: uuid.UUID) -> None:
    """A VIEW of a subject whose link a field just made; batched per request, so a list of
    links costs one insert, and a subject seen twice in one request is counted once."""
    context = info.context
    if not counted(context.viewer):
        return
    views: DataLoader[Subject, None] | None = context.extras.get("access_views")
    if views is None:

        async def batch(subjects: list[Subject]) -> list[None]:
            await record_access(
                context.db,
                context.viewer,
                AccessAction.VIEW,
                subjects,
                ip=context.client_ip,
                user_agent=context.user_agent,
            )
            return [None] * len(subjects)

        views = context.extras["access_views"] = DataLoader(batch)
    await views.load((subject_type, subject_id))
