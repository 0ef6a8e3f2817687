"""The organization's own details and branding (OWNER only; audited)."""

from __future__ import annotations

import uuid
from typing import Any

from strawberry import Info

from core.errors import NotFound
from domain.audit import audit
from models import Organization
from models.writes import apply
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, changes


@mutation_outcome
async def update(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=False)
    values = changes(
        name=checks.text("name", data.name, 200, required=True),
        email=checks.email("email", data.email),
        phone=checks.phone("phone", data.phone),
        address=checks.text("address", data.address, 500),
        logo_url=checks.url("logoUrl", data.logo_url),
        brand_color=checks.color("brandColor", data.brand_color),
        accent_color=checks.color("accentColor", data.accent_color),
        timezone=checks.timezone("timezone", data.timezone),
        currency=checks.currency("currency", data.currency),
    )
    checks.done()
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        org = await session.get(Organization, org_id, with_for_update=True)
        if org is None:
            raise NotFound()
        changed = sorted(k for k, v in values.items() if getattr(org, k) != v)
        apply(org, values)
        if changed:
            session.add(audit(ctx, "settings.organization_updated", data={"changed": changed}))
    return org.id
