"""`viewer`: whoever is signed in, and from there what they may see."""

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import Info

from auth.viewer import ViewerKind as ViewerKindValue
from schema.node import load_row

if TYPE_CHECKING:
    from schema.customers import Contact, Customer
    from schema.organization import Organization, StaffUser

ViewerKind = strawberry.enum(
    ViewerKindValue, description="Anonymous, staff of the business, or a portal viewer."
)


@strawberry.type(description="The signed-in person and the records they act for.")
class Viewer:
    kind: ViewerKind = strawberry.field(description="Who is asking.")

    @strawberry.field(description="The business the viewer belongs to or is a customer of.")
    async def organization(
        self, info: Info
    ) -> Annotated["Organization", strawberry.lazy("schema.organization")] | None:
        return await load_row(info, "Organization", info.context.viewer.organization_id)

    @strawberry.field(description="The staff member signed in, for staff.")
    async def staff_user(
        self, info: Info
    ) -> Annotated["StaffUser", strawberry.lazy("schema.organization")] | None:
        return await load_row(info, "StaffUser", info.context.viewer.staff_user_id)

    @strawberry.field(description="The customer account a portal viewer sees.")
    async def customer(
        self, info: Info
    ) -> Annotated["Customer", strawberry.lazy("schema.customers")] | None:
        return await load_row(info, "Customer", info.context.viewer.customer_id)

    @strawberry.field(description="The contact signed in, when a portal viewer is a contact.")
    async def contact(
        self, info: Info
    ) -> Annotated["Contact", strawberry.lazy("schema.customers")] | None:
        return await load_row(info, "Contact", info.context.viewer.contact_id)
