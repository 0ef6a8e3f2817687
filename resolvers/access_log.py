"""Links handed out by the executor's fields, and the VIEW each leaves in the access log
(the rule: domain/access_log.py)."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader
from strawberry import Info

from domain.access_log import Subject, record_access, signed_link
from models.enums import AccessAction


async def link(info: Info, kind: str, row_id: uuid.UUID, detail: str | None = None) -> str:
    """The signed link to the file of `kind` made from `row_id`; a portal viewer given one
    of a logged kind leaves a VIEW, batched per request (a list of links costs one insert,
    and a subject seen twice in one request is counted once)."""
    context = info.context
    url, seen = signed_link(context.settings, context.viewer, kind, row_id, detail)
    if seen is not None:
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
        await views.load(seen)
    return url
