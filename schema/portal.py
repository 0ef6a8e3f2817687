"""Portal access: invite previews, accounts a viewer may switch between."""

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.portal.codes import PortalCode
from schema.common import UserError
from schema.enums import ContactRole, PortalScope, PortalStatus
from schema.error_codes import code_field, error_codes

if TYPE_CHECKING:
    from schema.onboarding import Onboarding


PortalErrorCode = error_codes(
    "PortalErrorCode", PortalCode, "Why a portal access or sign-in request was refused."
)


@strawberry.type(description="A problem with a portal access or sign-in request.")
class PortalError(UserError):
    code: Enum = code_field(PortalErrorCode)


@strawberry.type(description="What the staff invite dialog shows before sending.")
class PortalInvitePreview:
    name: str = strawberry.field(description="Who will be invited.")
    email: str | None = strawberry.field(description="Where the sign-in link will go.")
    has_cars: bool = strawberry.field(description="The customer has cars linked.")
    payments_enabled: bool = strawberry.field(description="Online payment is set up.")
    last_invited_at: datetime | None = strawberry.field(
        description="When the last invite was sent; sending again is a resend."
    )
    portal_status: PortalStatus = strawberry.field(description="Portal access state now.")
    can_send: bool = strawberry.field(description="An invite can be sent as things stand.")
    onboarding: Annotated["Onboarding", strawberry.lazy("schema.onboarding")] = strawberry.field(
        description="Where the customer stands with the onboarding checklist."
    )
    problems: list[PortalError] = strawberry.field(
        description="What stops the invite (missing email, access off, ...)."
    )


@strawberry.type(description="A customer account the signed-in address may act for.")
class PortalAccount:
    id: strawberry.ID = strawberry.field(
        description="Global ID of the customer or contact record; pass it to switch."
    )
    organization_name: str = strawberry.field(description="The business.")
    customer_name: str = strawberry.field(description="The customer account.")
    role: ContactRole | None = strawberry.field(
        description="Your role on the account; null when the account is your own."
    )
    current: bool = strawberry.field(description="The account this session acts for now.")


@strawberry.type(
    description="A contact of the account that the portal viewer may change or remove with "
    "`updateMyContact` and `removeMyContact`."
)
class ManagedContact:
    id: strawberry.ID = strawberry.field(description="The contact's global ID.")
    name: str = strawberry.field(description="Full name.")
    email: str | None = strawberry.field(description="Email address.")
    phone: str | None = strawberry.field(description="Phone number.")
    role: ContactRole = strawberry.field(description="Their role on the account.")
    can_access_portal: bool = strawberry.field(description="Whether they may use the portal.")
    portal_scope: PortalScope = strawberry.field(description="What they see in the portal.")
    car_ids: list[strawberry.ID] = strawberry.field(
        description="The cars they see, for the CARS scope (global IDs)."
    )


@strawberry.enum(description="The outcome of using a sign-in or reset link.")
class LinkOutcome(Enum):
    SIGNED_IN = "SIGNED_IN"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"
