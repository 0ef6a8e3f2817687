"""The organization's details from the API: the input cleaned, the domain's action called
(domain/organization/details.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import Info

from domain.organization.details import OrganizationDetails, update_organization
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.portal import OrganizationInput


@mutation_outcome
async def update(info: Info, data: OrganizationInput) -> uuid.UUID:
    checks = Checks(creating=False)
    details = OrganizationDetails(
        name=kept(checks.text("name", data.name, 200, required=True)),
        email=kept(checks.email("email", data.email)),
        phone=kept(checks.display_phone("phone", data.phone)),
        address=kept(checks.text("address", data.address, 500)),
        logo_url=kept(checks.url("logoUrl", data.logo_url)),
        brand_color=kept(checks.color("brandColor", data.brand_color)),
        accent_color=kept(checks.color("accentColor", data.accent_color)),
        timezone=kept(checks.timezone("timezone", data.timezone)),
        currency=kept(checks.currency("currency", data.currency)),
        check_out_ends_subscriptions=kept(given(data.check_out_ends_subscriptions)),
    )
    checks.done()
    return await update_organization(info.context, details)
