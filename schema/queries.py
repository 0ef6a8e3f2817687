"""Root query fields."""

import asyncio
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import staff_only
from core.ids import decode_id_of
from models import tables
from models.pagination import InvalidPageSize
from resolvers import events, lists, portal_access
from resolvers.onboarding import customers_filter
from schema.billing import Estimate, Invoice
from schema.cars import Car
from schema.connections import Connection, connection
from schema.customers import Customer
from schema.documents import Contract
from schema.enums import (
    AppointmentStatus,
    CarStatus,
    ContractStatus,
    EstimateStatus,
    InvoiceStatus,
    StaffStatus,
)
from schema.events import CommunityEvent
from schema.fields import AFTER, FIRST
from schema.node import Node, find_node, load_row, resolve_node
from schema.onboarding import OnboardingFilter, onboarding_of
from schema.organization import AuditEvent, Organization, StaffUser
from schema.portal import PortalError, PortalErrorCode, PortalInvitePreview
from schema.schedule import Appointment
from schema.viewer import Viewer

SEARCH = strawberry.argument(description="Words to look for; every word must match.")
ARCHIVED = strawberry.argument(description="Include archived records.")
MAX_NODES = 100


@strawberry.type(description="Everything that can be read.")
class Query:
    @strawberry.field(description="Whoever is signed in (anonymous when nobody is).")
    def viewer(self, info: Info) -> Viewer:
        return Viewer(kind=info.context.viewer.kind)

    @strawberry.field(description="Fetch any object by its global ID.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global ID.")],
    ) -> Node:
        return await resolve_node(info, id)

    @strawberry.field(
        description="Fetch up to 100 objects by global ID, in the order given; null where an "
        "ID names nothing you may see."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs.")],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidPageSize(f"At most {MAX_NODES} IDs per request.")
        return list(await asyncio.gather(*(find_node(info, global_id) for global_id in ids)))

    @strawberry.field(description="The signed-in viewer's organization.")
    async def organization(self, info: Info) -> Organization | None:
        return await load_row(info, "Organization", info.context.viewer.organization_id)

    @strawberry.field(
        description="Customers, by name; search matches name, email, phone, company.",
        extensions=staff_only(),
    )
    async def customers(
        self,
        info: Info,
        search: Annotated[str | None, SEARCH] = None,
        include_archived: Annotated[bool, ARCHIVED] = False,
        onboarding: Annotated[
            OnboardingFilter | None,
            strawberry.argument(description="Only customers who finished onboarding, or not."),
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Customer]:
        complete = None if onboarding is None else onboarding is OnboardingFilter.COMPLETE
        extra = customers_filter(complete)
        return connection(
            await lists.customers(
                info, Customer.from_row, search, include_archived, first, after, extra
            )
        )

    @strawberry.field(
        description="Cars, by make and model; search matches make, model, year, VIN, plate.",
        extensions=staff_only(),
    )
    async def cars(
        self,
        info: Info,
        search: Annotated[str | None, SEARCH] = None,
        status: Annotated[
            CarStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
        include_archived: Annotated[bool, ARCHIVED] = False,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Car]:
        return connection(
            await lists.cars(info, Car.from_row, search, status, include_archived, first, after)
        )

    @strawberry.field(description="Invoices, newest first.", extensions=staff_only())
    async def invoices(
        self,
        info: Info,
        status: Annotated[
            list[InvoiceStatus] | None, strawberry.argument(description="Only these statuses.")
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Invoice]:
        return connection(
            await lists.by_status(info, tables.invoices, Invoice.from_row, status, first, after)
        )

    @strawberry.field(description="Estimates, newest first.", extensions=staff_only())
    async def estimates(
        self,
        info: Info,
        status: Annotated[
            list[EstimateStatus] | None, strawberry.argument(description="Only these statuses.")
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Estimate]:
        return connection(
            await lists.by_status(info, tables.estimates, Estimate.from_row, status, first, after)
        )

    @strawberry.field(
        description="Contracts, newest first; `status: [SENT]` lists those waiting for a "
        "signature.",
        extensions=staff_only(),
    )
    async def contracts(
        self,
        info: Info,
        status: Annotated[
            list[ContractStatus] | None, strawberry.argument(description="Only these statuses.")
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Contract]:
        return connection(
            await lists.by_status(info, tables.contracts, Contract.from_row, status, first, after)
        )

    @strawberry.field(description="Appointments, earliest first.", extensions=staff_only())
    async def appointments(
        self,
        info: Info,
        starts_after: Annotated[
            datetime | None, strawberry.argument(description="Starting at or after (UTC).")
        ] = None,
        starts_before: Annotated[
            datetime | None, strawberry.argument(description="Starting before (UTC).")
        ] = None,
        status: Annotated[
            list[AppointmentStatus] | None, strawberry.argument(description="Only these.")
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Appointment]:
        return connection(
            await lists.appointments(
                info, Appointment.from_row, starts_after, starts_before, status, first, after
            )
        )

    @strawberry.field(
        description="Community events, drafts and cancelled ones included, earliest first.",
        extensions=staff_only(),
    )
    async def events(
        self,
        info: Info,
        upcoming_only: Annotated[
            bool, strawberry.argument(description="Only events not yet over.")
        ] = False,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[CommunityEvent]:
        return connection(
            await events.staff_list(info, CommunityEvent.from_row, upcoming_only, first, after)
        )


@strawberry.type(description="Staff views of portal access and the audit log.")
class AccessQueries:
    @strawberry.field(
        description="What the invite dialog shows: name, email, cars, payments, last invite.",
        extensions=staff_only(),
    )
    async def portal_invite_preview(
        self,
        info: Info,
        customer_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="A customer's global ID.")
        ] = None,
        contact_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="A contact's global ID.")
        ] = None,
    ) -> PortalInvitePreview:
        preview = await portal_access.invite_preview(info, customer_id, contact_id)
        problems = [
            PortalError(
                field=_argument(p.field), message=p.message, code=PortalErrorCode(str(p.code))
            )
            for p in preview.problems
        ]
        return PortalInvitePreview(
            name=preview.name,
            email=preview.email,
            has_cars=preview.has_cars,
            payments_enabled=preview.payments_enabled,
            last_invited_at=preview.last_invited_at,
            portal_status=preview.status,
            can_send=not problems,
            problems=problems,
            onboarding=onboarding_of(preview.customer_id),
        )

    @strawberry.field(
        description="The organization's staff by name, with their role and status (staff only).",
        extensions=staff_only(),
    )
    async def staff_users(
        self,
        info: Info,
        status: Annotated[
            StaffStatus | None, strawberry.argument(description="Only staff in this status.")
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[StaffUser]:
        return connection(await lists.staff_users(info, StaffUser.from_row, status, first, after))

    @strawberry.field(
        description="Who did what, when and from where, newest first.", extensions=staff_only()
    )
    async def audit_events(
        self,
        info: Info,
        action: Annotated[
            str | None, strawberry.argument(description="Only this action, e.g. portal.sign_in.")
        ] = None,
        customer_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only about this customer.")
        ] = None,
        first: Annotated[int, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[AuditEvent]:
        customer = decode_id_of("Customer", customer_id) if customer_id else None
        return connection(
            await lists.audit_events(info, AuditEvent.from_row, action, customer, first, after)
        )


def _argument(name: str | None) -> list[str] | None:
    """The path of the argument a problem is about (a field's arguments have no `input`)."""
    return None if name is None else [name]
