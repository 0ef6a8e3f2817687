"""What a portal viewer can reach: their own customer's released rows, nothing else.

A property-based test builds two organizations with customers, contacts of every scope,
cars, invoices and documents, and checks every viewer against every row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.sessions import start_session
from core.ids import encode_id
from models import (
    Car,
    CarEvent,
    Contact,
    ContactCar,
    Customer,
    Document,
    Invoice,
    Organization,
    PortalSettings,
    StaffUser,
)
from models.db import Database
from models.enums import (
    CarEventKind,
    InvoiceStatus,
    PortalScope,
    PortalStatus,
    SessionKind,
    StaffRole,
)
from models.types import utcnow
from models.writes import add_in_order
from tests.factories import seed_customers
from tests.helpers import GraphQLClient, error_codes

NODE = "query N($id: ID!) { node(id: $id) { id } }"
LISTS = """
{ viewer { customer { id
  cars(first: 100) { nodes { id events(first: 100) { nodes { id } } } }
  invoices(first: 100) { nodes { id } }
  documents(first: 100) { nodes { id } }
} } }
"""


@dataclass
class Row:
    type_name: str
    id: uuid.UUID
    org: uuid.UUID
    customer: uuid.UUID
    car: uuid.UUID | None = None
    released: bool = True  # non-draft invoice, portal-visible document, public event

    @property
    def gid(self) -> str:
        return encode_id(self.type_name, self.id)


@dataclass
class ViewerCase:
    token: str
    org: uuid.UUID
    staff: bool = False
    customer: uuid.UUID | None = None
    contact: uuid.UUID | None = None
    scope: PortalScope = PortalScope.EVERYTHING
    cars: frozenset[uuid.UUID] = frozenset()

    def may_see(self, row: Row) -> bool:
        """The rule, written independently of auth/access.py."""
        if row.org != self.org:
            return False
        if self.staff:
            return True
        if row.customer != self.customer or not row.released:
            return False
        if row.type_name == "Contact":
            return row.id == self.contact
        if self.scope is PortalScope.BILLING:
            return row.type_name in {"Customer", "Invoice"}
        if self.scope is PortalScope.CARS:
            if row.type_name == "Customer":
                return True
            if row.type_name == "Invoice":
                return False
            return row.car in self.cars
        return True


@dataclass
class World:
    rows: list[Row] = field(default_factory=list)
    viewers: list[ViewerCase] = field(default_factory=list)


async def _build_org(db: Database, world: World, name: str) -> None:
    now = utcnow()
    org = Organization(name=name, slug=f"{name}-{uuid.uuid4().hex[:8]}")
    staff = StaffUser(
        organization_id=org.id, name="Staff", email=f"staff@{org.slug}.test", role=StaffRole.STAFF
    )
    rows: list[Any] = [org, PortalSettings(organization_id=org.id), staff]
    people: list[tuple[ViewerCase, Customer, Contact | None]] = []
    for c in range(2):
        customer = Customer(
            organization_id=org.id,
            name=f"{name} customer {c}",
            email=f"c{c}@{org.slug}.test",
            portal_status=PortalStatus.ACTIVE,
        )
        rows.append(customer)
        world.rows.append(Row("Customer", customer.id, org.id, customer.id))
        cars = []
        for k in range(2):
            car = Car(organization_id=org.id, customer_id=customer.id, make="Alfa", model=f"{k}")
            cars.append(car)
            rows.append(car)
            world.rows.append(Row("Car", car.id, org.id, customer.id, car=car.id))
            for internal in (False, True):
                event = CarEvent(
                    organization_id=org.id,
                    car_id=car.id,
                    kind=CarEventKind.NOTE,
                    occurred_at=now - timedelta(hours=k),
                    internal=internal,
                )
                rows.append(event)
                world.rows.append(
                    Row("CarEvent", event.id, org.id, customer.id, car.id, not internal)
                )
            document = Document(
                organization_id=org.id,
                customer_id=customer.id,
                car_id=car.id,
                name="Agreement",
                content_type="application/pdf",
                visible_in_portal=k == 0,
            )
            rows.append(document)
            world.rows.append(Row("Document", document.id, org.id, customer.id, car.id, k == 0))
        for status in (InvoiceStatus.OPEN, InvoiceStatus.DRAFT):
            invoice = Invoice(
                organization_id=org.id, customer_id=customer.id, currency="USD", status=status
            )
            rows.append(invoice)
            world.rows.append(
                Row("Invoice", invoice.id, org.id, customer.id, None, status != InvoiceStatus.DRAFT)
            )
        for scope in PortalScope:
            contact = Contact(
                organization_id=org.id,
                customer_id=customer.id,
                name=f"{scope.value} contact",
                email=f"{scope.value.lower()}{c}@{org.slug}.test",
                can_access_portal=True,
                portal_scope=scope,
                portal_status=PortalStatus.ACTIVE,
            )
            rows.append(contact)
            world.rows.append(Row("Contact", contact.id, org.id, customer.id))
            scoped_cars: frozenset[uuid.UUID] = frozenset()
            if scope is PortalScope.CARS:
                rows.append(
                    ContactCar(organization_id=org.id, contact_id=contact.id, car_id=cars[0].id)
                )
                scoped_cars = frozenset({cars[0].id})
            people.append(
                (
                    ViewerCase(
                        "",
                        org.id,
                        customer=customer.id,
                        contact=contact.id,
                        scope=scope,
                        cars=scoped_cars,
                    ),
                    customer,
                    contact,
                )
            )
        people.append((ViewerCase("", org.id, customer=customer.id), customer, None))
    async with db.write() as session:
        await add_in_order(session, rows)
        issued = await start_session(
            session, kind=SessionKind.STAFF, organization_id=org.id, staff_user_id=staff.id
        )
        world.viewers.append(ViewerCase(issued.token, org.id, staff=True))
        for case, customer, contact in people:
            issued = await start_session(
                session,
                kind=SessionKind.PORTAL,
                organization_id=org.id,
                customer_id=customer.id,
                contact_id=contact.id if contact else None,
                email=(contact or customer).email,
            )
            case.token = issued.token
            world.viewers.append(case)


@pytest.fixture(scope="module")
async def world(db: Database) -> World:
    built = World()
    await _build_org(db, built, "north")
    await _build_org(db, built, "south")
    return built


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_node_lookups_reveal_only_what_the_viewer_may_see(
    gql: GraphQLClient, world: World, data: st.DataObject
):
    viewer = data.draw(st.sampled_from(world.viewers), label="viewer")
    row = data.draw(st.sampled_from(world.rows), label="row")
    result = await gql(NODE, {"id": row.gid}, token=viewer.token)
    if viewer.may_see(row):
        assert result["data"]["node"] == {"id": row.gid}
    else:
        assert result == {
            "data": None,
            "errors": [
                {
                    "message": "Not found.",
                    "locations": [{"line": 1, "column": 21}],
                    "path": ["node"],
                    "extensions": {"code": "NOT_FOUND"},
                }
            ],
        }


async def test_lists_hold_exactly_the_visible_rows(gql: GraphQLClient, world: World):
    for viewer in world.viewers:
        if viewer.staff:
            continue
        data = await gql.data(LISTS, token=viewer.token)
        customer = data["viewer"]["customer"]
        assert customer["id"] == encode_id("Customer", viewer.customer)
        seen = {
            n["id"]
            for part in ("cars", "invoices", "documents")
            for n in (customer[part]["nodes"] if customer[part] else [])
        }
        seen |= {e["id"] for car in customer["cars"]["nodes"] for e in car["events"]["nodes"]}
        expected = {
            r.gid
            for r in world.rows
            if r.type_name in {"Car", "Invoice", "Document", "CarEvent"} and viewer.may_see(r)
        }
        assert seen == expected, viewer.scope


async def test_staff_root_fields_and_staff_only_fields_are_refused(
    gql: GraphQLClient, world: World
):
    portal = next(v for v in world.viewers if not v.staff and v.contact is None)
    for root in ("customers", "cars", "invoices", "estimates", "appointments", "auditEvents"):
        refused = await gql(f"{{ {root} {{ totalCount }} }}", token=portal.token)
        assert error_codes(refused) == ["FORBIDDEN"], root
    for selection in (
        "internalNotes",
        "contacts { totalCount }",
        "cars { nodes { internalNotes } }",
        "invoices { nodes { internalNotes } }",
        "cars { nodes { events { nodes { internal } } } }",
    ):
        refused = await gql(f"{{ viewer {{ customer {{ {selection} }} }} }}", token=portal.token)
        assert refused.get("errors"), (selection, refused)
        assert {e["message"] for e in refused["errors"]} == {"Only staff can see this."}
        assert set(error_codes(refused)) == {"FORBIDDEN"}


async def test_line_costs_are_staff_only(gql: GraphQLClient, db: Database, tenant):
    (customer_id,) = await seed_customers(db, tenant.organization_id, 1)
    async with db.write() as session:
        issued = await start_session(
            session,
            kind=SessionKind.PORTAL,
            organization_id=tenant.organization_id,
            customer_id=customer_id,
        )
    query = "{ viewer { customer { invoices { nodes { lineItems { description %s } } } } } }"
    allowed = await gql.data(query % "total { amount }", token=issued.token)
    lines = allowed["viewer"]["customer"]["invoices"]["nodes"][0]["lineItems"]
    assert [line["description"] for line in lines] == ["Line 0", "Line 1", "Line 2"]
    refused = await gql(query % "unitCost { amount }", token=issued.token)
    assert set(error_codes(refused)) == {"FORBIDDEN"}
    staff = await gql.data(query % "unitCost { amount }", token=tenant.staff_token)
    assert staff["viewer"]["customer"] is None  # staff are not a customer
