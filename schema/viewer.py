"""`viewer`: whoever is signed in, and from there what they may see."""

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import Info

from auth.access import open_sections
from auth.permissions import staff_only
from auth.viewer import ViewerKind
from core.ids import encode_id
from resolvers import events, notifications, own_contacts, portal_sign_in, profile
from schema.connections import Connection, connection
from schema.enums import ContactRole, PortalScope
from schema.events import CommunityEvent
from schema.fields import AFTER, FIRST
from schema.messaging import Notification
from schema.node import load_row
from schema.portal import ManagedContact, PortalAccount

if TYPE_CHECKING:
    from schema.customers import Contact, Customer
    from schema.mutations.profile import TextPreferences
    from schema.organization import Organization, StaffUser


@strawberry.enum(description="A part of the customer portal the business can switch off.")
class PortalSection(Enum):
    APPOINTMENTS = "APPOINTMENTS"
    CARS = "CARS"
    DOCUMENTS = "DOCUMENTS"
    ESTIMATES = "ESTIMATES"
    INVOICES = "INVOICES"
    MESSAGES = "MESSAGES"
    PROFILE = "PROFILE"
    TELEMATICS = "TELEMATICS"


strawberry.enum(ViewerKind, description="Anonymous, staff of the business, or a portal viewer.")


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

    @strawberry.field(
        description="Portal sections this viewer can use: switched on by the business and "
        "open to the contact's scope (portal viewers). Build the portal's navigation from it."
    )
    def sections(self, info: Info) -> list[PortalSection]:
        return [PortalSection(s.upper()) for s in sorted(open_sections(info.context.viewer))]

    @strawberry.field(
        description="Every account the address this session proved may act for, across "
        "businesses (people invited at it or signed in from it); a staff preview lists the "
        "previewed account alone. Switch with `switchPortalAccount`."
    )
    async def accounts(self, info: Info) -> list[PortalAccount]:
        viewer = info.context.viewer
        return [
            PortalAccount(
                id=strawberry.ID(
                    encode_id(
                        "Contact" if a.person.contact_id else "Customer",
                        a.person.contact_id or a.person.customer_id,
                    )
                ),
                organization_name=a.organization_name,
                customer_name=a.customer_name,
                role=a.role,
                current=(a.person.customer_id, a.person.contact_id)
                == (viewer.customer_id, viewer.contact_id),
            )
            for a in await portal_sign_in.accounts(info)
        ]

    @strawberry.field(
        description="The account's contacts this portal viewer may change and remove, by name: "
        "every live contact for the customer; for a contact with `canManageContacts`, those "
        "within their own access who do not manage contacts themselves; none for anyone else."
    )
    async def manageable_contacts(self, info: Info) -> list[ManagedContact]:
        return [
            ManagedContact(
                id=strawberry.ID(encode_id("Contact", row["id"])),
                name=row["name"],
                email=row["email"],
                phone=row["phone"],
                role=ContactRole(row["role"]),
                can_access_portal=row["can_access_portal"],
                portal_scope=PortalScope(row["portal_scope"]),
                car_ids=[strawberry.ID(encode_id("Car", car)) for car in sorted(cars)],
            )
            for row, cars in await own_contacts.manageable_contacts(info)
        ]

    @strawberry.field(
        description="Which kinds of news you also get by text, and where (portal viewers; "
        "null for anyone else)."
    )
    async def text_preferences(
        self, info: Info
    ) -> Annotated["TextPreferences", strawberry.lazy("schema.mutations.profile")] | None:
        from schema.mutations.profile import TextPreferences

        chosen = await profile.my_text_settings(info)
        return TextPreferences.of(chosen) if chosen else None

    @strawberry.field(description="The contact signed in, when a portal viewer is a contact.")
    async def contact(
        self, info: Info
    ) -> Annotated["Contact", strawberry.lazy("schema.customers")] | None:
        return await load_row(info, "Contact", info.context.viewer.contact_id)

    @strawberry.field(
        description="The signed-in staff member's notifications, newest first (staff).",
        extensions=staff_only(),
    )
    async def notifications(
        self,
        info: Info,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only those not yet marked read.")
        ] = False,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Notification]:
        return connection(
            await notifications.staff_notifications(
                info, Notification.from_row, unread_only, first, after
            )
        )

    @strawberry.field(
        description="How many of the staff member's notifications are unread (staff).",
        extensions=staff_only(),
    )
    async def unread_notification_count(self, info: Info) -> int:
        return await notifications.unread_count(info)

    @strawberry.field(
        description="Community events the business has published, not cancelled and not yet "
        "over, earliest first."
    )
    async def upcoming_events(
        self,
        info: Info,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[CommunityEvent]:
        return connection(await events.upcoming(info, CommunityEvent.from_row, first, after))
