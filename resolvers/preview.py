"""Staff preview the portal as one person sees it: the person's ID decoded, the domain's
action called (domain/portal/preview.py)."""

from __future__ import annotations

from strawberry import Info

from domain.portal import preview
from domain.portal.preview import Preview
from resolvers.outcome import input_ids
from resolvers.portal_access import named


@input_ids
async def start_preview(info: Info, customer_gid: str | None, contact_gid: str | None) -> Preview:
    return await preview.start_preview(info.context, named(customer_gid, contact_gid))
