"""Which rows a viewer may see, as SQL. The single home of row-level visibility.

Every read statement of a request (see models/loaders.py) is narrowed by `row_scope`:
staff see their organization; portal viewers see their own customer's released rows,
cut down further by their contact scope. A row outside the scope is never loaded, so
asking for it by ID is answered exactly like asking for one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa

from auth.exports import may_import
from auth.viewer import Viewer
from core.errors import SectionClosed
from models.enums import ContractStatus, EstimateStatus, InvoiceStatus, PortalScope
from models.loaders import Scope

# Tables a portal viewer may read, each through the column naming its customer.
CUSTOMER_COLUMN: dict[str, str] = {
    "customers": "id",
    "contacts": "customer_id",
    "cars": "customer_id",
    "documents": "customer_id",
    "contracts": "customer_id",
    "invoices": "customer_id",
    "estimates": "customer_id",
    "payments": "customer_id",
    "appointments": "customer_id",
    "messages": "customer_id",
    "jobs": "customer_id",
    "payment_methods": "customer_id",
    "event_rsvps": "customer_id",
    "subscriptions": "customer_id",
}
# Tables of the whole organization that portal viewers may read (what it published).
ORGANIZATION_WIDE = {"community_events"}
# Tables reached only through a parent the viewer may already see.
THROUGH_PARENT: dict[str, tuple[str, str]] = {
    "invoice_lines": ("invoice_id", "invoices"),
    "credit_notes": ("invoice_id", "invoices"),
    "credit_note_lines": ("credit_note_id", "credit_notes"),
    "estimate_lines": ("estimate_id", "estimates"),
    "estimate_decisions": ("estimate_id", "estimates"),
    "car_events": ("car_id", "cars"),
    "condition_reports": ("car_id", "cars"),
    "car_photos": ("car_id", "cars"),
    "maintenance_schedules": ("car_id", "cars"),
    "telematics_readings": ("car_id", "cars"),
    "job_photos": ("job_id", "jobs"),
    "message_attachments": ("message_id", "messages"),
}
# Tables a portal viewer reaches only as what a row they may see points at: the plans of
# their own subscriptions (never the business's other plans).
THROUGH_CHILD: dict[str, tuple[str, str]] = {
    "billing_plans": ("plan_id", "subscriptions"),
}
BILLING_TABLES = {"customers", "contacts", "invoices", "estimates", "payments"}
BILLING_TABLES |= {"invoice_lines", "estimate_lines", "estimate_decisions", "payment_methods"}
BILLING_TABLES |= {"subscriptions", "billing_plans", "credit_notes", "credit_note_lines"}
CAR_SCOPED = {"cars": "id", "documents": "car_id", "appointments": "car_id", "jobs": "car_id"}
# A contact scoped to some cars (a driver) sees those cars and what hangs off them.
CARS_TABLES = {"customers", "contacts", "cars", "car_events", "condition_reports"}
CARS_TABLES |= {"documents", "appointments", "jobs", "car_photos", "maintenance_schedules"}
CARS_TABLES |= {"telematics_readings", "job_photos"}
# A contact's own answers to events, whatever their scope.
ANY_SCOPE = {"event_rsvps"}
# Portal sections (organization settings) and the tables each one opens.
SECTION_OF = {
    "cars": "cars",
    "car_events": "cars",
    "condition_reports": "cars",
    "car_photos": "cars",
    "maintenance_schedules": "cars",
    "jobs": "cars",
    "job_photos": "cars",
    "telematics_readings": "telematics",
    "invoices": "invoices",
    "invoice_lines": "invoices",
    "credit_notes": "invoices",
    "credit_note_lines": "invoices",
    "payments": "invoices",
    "estimates": "estimates",
    "estimate_lines": "estimates",
    "estimate_decisions": "estimates",
    "documents": "documents",
    "contracts": "documents",
    "appointments": "appointments",
    "messages": "messages",
    "message_attachments": "messages",
    "payment_methods": "invoices",
    "subscriptions": "invoices",
    "billing_plans": "invoices",
}


@dataclass(frozen=True)
class RowScope:
    """A viewer's visibility: SQL conditions shaped by the kind of viewer, filled with the
    viewer's ids as bound parameters. Statements built from a shape are reused for every
    viewer of that shape (only the parameters differ), so they are built once."""

    shape: tuple[object, ...]
    params: dict[str, object] = field(hash=False, compare=False)

    def conditions(self, table: sa.Table) -> tuple[sa.ColumnElement[bool], ...]:
        return _conditions(self.shape, table)


def sees_whole_tenant(scope: Scope, table: sa.Table) -> bool:
    """Staff who see every row of `table` in their organization: no condition but the
    tenant's narrows what they read of it."""
    return scope.shape[0] == "staff" and len(scope.conditions(table)) == 1


def row_scope(viewer: Viewer) -> RowScope:
    if viewer.organization_id is None or not (viewer.is_staff or viewer.is_portal):
        return RowScope(("nobody",), {})
    params: dict[str, object] = {"scope_org": viewer.organization_id}
    if viewer.is_staff:
        params["scope_staff"] = viewer.staff_user_id
        return RowScope(("staff", viewer.is_owner, may_import(viewer)), params)
    params |= {
        "scope_customer": viewer.customer_id,
        "scope_contact": viewer.contact_id,
        "scope_cars": sorted(viewer.car_ids),
    }
    shape = ("portal", viewer.scope, viewer.sections, viewer.contact_id is not None)
    return RowScope(shape, params)


@lru_cache(maxsize=512)
def _conditions(shape: tuple[object, ...], table: sa.Table) -> tuple[sa.ColumnElement[bool], ...]:
    if shape[0] == "nobody":
        return (sa.false(),)
    tenant = _tenant(table)
    if shape[0] == "staff":
        return (tenant, *_staff(table, is_owner=bool(shape[1]), moves_data=bool(shape[2])))
    _, scope, sections, has_contact = shape
    assert isinstance(scope, PortalScope) and isinstance(sections, frozenset)
    return (tenant, *_portal(table, scope, sections, bool(has_contact)))


def _tenant(table: sa.Table) -> sa.ColumnElement[bool]:
    column = table.c.id if table.name == "organizations" else table.c.organization_id
    return column == sa.bindparam("scope_org", type_=sa.Uuid())


def _staff(table: sa.Table, *, is_owner: bool, moves_data: bool) -> list[sa.ColumnElement[bool]]:
    """Staff see their organization, but the same roles as the root fields hold for rows
    reached by ID (`node`): notifications are their recipient's, integration keys and
    webhooks OWNER's, imports and bulk invites OWNER's and ADMIN's."""
    match table.name:
        case "notifications":
            return [table.c.recipient_staff_id == sa.bindparam("scope_staff", type_=sa.Uuid())]
        case "integration_keys" | "webhook_endpoints" | "webhook_deliveries" if not is_owner:
            return [sa.false()]
        case "data_imports" | "bulk_invites" | "bulk_invite_items" if not moves_data:
            return [sa.false()]
    return []


def _portal(
    table: sa.Table, scope: PortalScope, sections: frozenset[str], has_contact: bool
) -> list[sa.ColumnElement[bool]]:
    name = table.name
    if name == "organizations":
        return []
    if name in ORGANIZATION_WIDE:
        return _released(table)
    if name in SECTION_OF and SECTION_OF[name] not in sections:
        return [sa.false()]
    if name == "contacts":  # a viewer sees their own contact record, not the others
        if not has_contact:
            return [sa.false()]
        return [table.c.id == sa.bindparam("scope_contact", type_=sa.Uuid())]
    if name in THROUGH_PARENT:
        column, parent_name = THROUGH_PARENT[name]
        parent = table.metadata.tables[parent_name]
        visible = sa.select(parent.c.id).where(
            _tenant(parent), *_portal(parent, scope, sections, has_contact)
        )
        return [table.c[column].in_(visible), *_released(table)]
    if name in THROUGH_CHILD:
        column, child_name = THROUGH_CHILD[name]
        child = table.metadata.tables[child_name]
        pointed_at = sa.select(child.c[column]).where(
            _tenant(child), *_portal(child, scope, sections, has_contact)
        )
        return [table.c.id.in_(pointed_at)]
    if name not in CUSTOMER_COLUMN:
        return [sa.false()]  # staff-only tables: staff users, audit, outbox, sessions, ...
    customer = sa.bindparam("scope_customer", type_=sa.Uuid())
    conditions = [table.c[CUSTOMER_COLUMN[name]] == customer, *_released(table)]
    if name == "event_rsvps" and has_contact:  # a contact answers for themselves
        conditions.append(table.c.contact_id == sa.bindparam("scope_contact", type_=sa.Uuid()))
    if scope is PortalScope.BILLING and name not in BILLING_TABLES | ANY_SCOPE:
        conditions.append(sa.false())
    if scope is PortalScope.CARS:
        if name not in CARS_TABLES | ANY_SCOPE:
            conditions.append(sa.false())
        elif name in CAR_SCOPED:
            cars = sa.bindparam("scope_cars", expanding=True, type_=sa.Uuid())
            conditions.append(table.c[CAR_SCOPED[name]].in_(cars))
    return conditions


def _released(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """What the business has not released (drafts, internal files) stays staff-only."""
    match table.name:
        case "invoices":
            return [table.c.status != InvoiceStatus.DRAFT]
        case "estimates":
            return [table.c.status != EstimateStatus.DRAFT]
        case "documents":
            return [table.c.visible_in_portal.is_(True), table.c.archived_at.is_(None)]
        case "car_events":
            return [table.c.internal.is_(False)]
        case "car_photos":
            return [table.c.visible_in_portal.is_(True)]
        case "contracts":
            return [table.c.status != ContractStatus.DRAFT]
        case "payment_methods":
            return [table.c.removed_at.is_(None)]
        case "community_events":
            return [table.c.published_at.is_not(None), table.c.cancelled_at.is_(None)]
        case "contacts" | "cars" | "customers":
            return [table.c.archived_at.is_(None)]
    return []


def portal_opens(viewer: Viewer, table_name: str) -> bool:
    """Whether a portal viewer's sections and contact scope open a table at all (its rows
    are still narrowed by `row_scope`): what a viewer may write to, as to what they read."""
    if not viewer.is_portal:
        return False
    if table_name in SECTION_OF and SECTION_OF[table_name] not in viewer.sections:
        return False
    if viewer.scope is PortalScope.BILLING and table_name not in BILLING_TABLES:
        return False
    if viewer.scope is PortalScope.CARS and table_name not in CARS_TABLES:
        return False
    return table_name in CUSTOMER_COLUMN or table_name in THROUGH_PARENT


def may_write(viewer: Viewer, table_name: str) -> bool:
    """Whether the viewer may write rows of this table at all: staff always (fields only
    staff may use say so themselves), a portal viewer where their sections and contact scope
    open the table. Which rows: those `row_scope` shows them, as for reads, so a row they
    may not see answers NOT_FOUND like a missing one."""
    return viewer.is_staff or portal_opens(viewer, table_name)


def require_write(viewer: Viewer, table_name: str) -> None:
    """The one gate of portal writes: SECTION_DISABLED where `may_write` says no, as a read
    of the section answers."""
    if not may_write(viewer, table_name):
        section = SECTION_OF.get(table_name, table_name).replace("_", " ")
        raise SectionClosed(f"The portal's {section} section is not open to you.")


def open_sections(viewer: Viewer) -> frozenset[str]:
    """The portal sections a viewer can use: switched on by the business and opened by
    the contact's scope (a billing contact has no cars section). Profile has no tables of
    its own: it is open wherever the business shows it."""
    if not viewer.is_portal:
        return frozenset()
    opened = {SECTION_OF[name] for name in SECTION_OF if portal_opens(viewer, name)}
    return frozenset(s for s in viewer.sections if s in opened or s not in SECTION_OF.values())
