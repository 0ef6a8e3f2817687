"""Which rows a viewer may see, as SQL. The single home of row-level visibility.

Every read statement of a request (see models/loaders.py) is narrowed by `row_scope`:
staff see their organization; portal viewers see their own customer's released rows,
cut down further by their contact scope. A row outside the scope is never loaded, so
asking for it by ID is answered exactly like asking for one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from auth.viewer import Viewer
from models.enums import EstimateStatus, InvoiceStatus, PortalScope

Scope = Callable[[sa.Table], Sequence[sa.ColumnElement[bool]]]

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
}
# Tables reached only through a parent the viewer may already see.
THROUGH_PARENT: dict[str, tuple[str, str]] = {
    "invoice_lines": ("invoice_id", "invoices"),
    "estimate_lines": ("estimate_id", "estimates"),
    "car_events": ("car_id", "cars"),
    "condition_reports": ("car_id", "cars"),
}
BILLING_TABLES = {"customers", "contacts", "invoices", "estimates", "payments"}
BILLING_TABLES |= {"invoice_lines", "estimate_lines"}
CAR_SCOPED = {"cars": "id", "documents": "car_id", "appointments": "car_id"}
# A contact scoped to some cars (a driver) sees those cars and what hangs off them.
CARS_TABLES = {"customers", "contacts", "cars", "car_events", "condition_reports"}
CARS_TABLES |= {"documents", "appointments"}
# Portal sections (organization settings) and the tables each one opens.
SECTION_OF = {
    "cars": "cars",
    "car_events": "cars",
    "condition_reports": "cars",
    "invoices": "invoices",
    "invoice_lines": "invoices",
    "payments": "invoices",
    "estimates": "estimates",
    "estimate_lines": "estimates",
    "documents": "documents",
    "contracts": "documents",
    "appointments": "appointments",
    "messages": "messages",
}


def row_scope(viewer: Viewer) -> Scope:
    """The conditions every statement on `table` gets for this viewer."""
    if viewer.organization_id is None:
        return lambda table: (sa.false(),)
    if viewer.is_staff:
        return lambda table: (_tenant(table, viewer),)
    if viewer.is_portal:
        return lambda table: (_tenant(table, viewer), *_portal(table, viewer))
    return lambda table: (sa.false(),)


def _tenant(table: sa.Table, viewer: Viewer) -> sa.ColumnElement[bool]:
    column = table.c.id if table.name == "organizations" else table.c.organization_id
    return column == viewer.organization_id


def _portal(table: sa.Table, viewer: Viewer) -> list[sa.ColumnElement[bool]]:
    name = table.name
    if name == "organizations":
        return []
    if name in SECTION_OF and SECTION_OF[name] not in viewer.sections:
        return [sa.false()]
    if name == "contacts":  # a viewer sees their own contact record, not the others
        return [table.c.id == viewer.contact_id] if viewer.contact_id else [sa.false()]
    if name in THROUGH_PARENT:
        column, parent_name = THROUGH_PARENT[name]
        parent = table.metadata.tables[parent_name]
        visible = sa.select(parent.c.id).where(*_tenant_and_portal(parent, viewer))
        return [table.c[column].in_(visible), *_released(table)]
    if name not in CUSTOMER_COLUMN:
        return [sa.false()]  # staff-only tables: staff users, audit, outbox, sessions, ...
    conditions = [table.c[CUSTOMER_COLUMN[name]] == viewer.customer_id, *_released(table)]
    if viewer.scope is PortalScope.BILLING and name not in BILLING_TABLES:
        conditions.append(sa.false())
    if viewer.scope is PortalScope.CARS:
        if name not in CARS_TABLES:
            conditions.append(sa.false())
        elif name in CAR_SCOPED:
            conditions.append(table.c[CAR_SCOPED[name]].in_(viewer.car_ids))
    return conditions


def _tenant_and_portal(table: sa.Table, viewer: Viewer) -> list[sa.ColumnElement[bool]]:
    return [_tenant(table, viewer), *_portal(table, viewer)]


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
        case "contacts" | "cars" | "customers":
            return [table.c.archived_at.is_(None)]
    return []
