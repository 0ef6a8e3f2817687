"""The organization's own details and branding (OWNER only; every change is audited)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.errors import NotFound
from domain.audit import audit
from domain.edits import KEEP, Edit, changes
from domain.work import Work
from models import Organization
from models.enums import CheckOutEnd
from models.writes import apply


@dataclass(frozen=True)
class OrganizationDetails:
    """Cleaned values (colours lower case, currency upper case); KEEP leaves one as it is."""

    name: Edit[str] = KEEP
    email: Edit[str | None] = KEEP
    phone: Edit[str | None] = KEEP
    address: Edit[str | None] = KEEP
    logo_url: Edit[str | None] = KEEP
    brand_color: Edit[str | None] = KEEP
    accent_color: Edit[str | None] = KEEP
    timezone: Edit[str] = KEEP
    currency: Edit[str] = KEEP
    check_out_ends_subscriptions: Edit[CheckOutEnd] = KEEP


async def update_organization(work: Work, details: OrganizationDetails) -> uuid.UUID:
    values = changes(
        name=details.name,
        email=details.email,
        phone=details.phone,
        address=details.address,
        logo_url=details.logo_url,
        brand_color=details.brand_color,
        accent_color=details.accent_color,
        timezone=details.timezone,
        currency=details.currency,
        check_out_ends_subscriptions=details.check_out_ends_subscriptions,
    )
    async with work.write() as session:
        org = await session.get(Organization, work.viewer.organization_id, with_for_update=True)
        if org is None:
            raise NotFound()
        changed = sorted(k for k, v in values.items() if getattr(org, k) != v)
        apply(org, values)
        if changed:
            session.add(audit(work, "settings.organization_updated", data={"changed": changed}))
    return org.id
