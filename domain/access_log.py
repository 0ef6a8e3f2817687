"""Who in the portal looked at what: VIEW when a portal viewer is given a file's link,
DOWNLOAD when they open it. Staff, and staff previewing the portal, are never counted.

One rule for every path that hands out a link: the executor's fields (resolvers/
access_log.py), the planner's filled-in links (planner/filled.py) and the download endpoint
(portico/downloads.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from auth.downloads import LOGGED_AS, download_url
from auth.viewer import Viewer
from core.settings import Settings
from models.access_log import access_row
from models.db import Database
from models.enums import AccessAction

Subject = tuple[str, uuid.UUID]  # ("Document", row id)


def counted(viewer: Viewer) -> bool:
    return viewer.is_portal and not viewer.preview and viewer.customer_id is not None


def signed_link(
    settings: Settings, viewer: Viewer, kind: str, row_id: uuid.UUID, detail: str | None = None
) -> tuple[str, Subject | None]:
    """The link to the file of `kind` made from row `row_id`, and what handing it to
    `viewer` records as a VIEW (None: nothing)."""
    subject_type = LOGGED_AS.get(kind)
    seen = (subject_type, row_id) if subject_type is not None and counted(viewer) else None
    return download_url(settings, viewer, kind, row_id, detail), seen


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
