"""Portal users manage only their own account's contacts, and only if they may: another
customer's viewer, another organization's, a contact without the right, staff and anonymous
callers change nothing; no contact gets more than the acting viewer holds or the business
offers, nor a car the viewer does not see."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from auth.viewer import Viewer, ViewerKind
from core.ids import decode_id_of
from domain.customers.own_contacts import may_grant
from models import Contact
from models.db import Database
from models.enums import PortalScope
from tests.helpers import GraphQLClient, Tenant, user_errors
from tests.messaging import portal_token
from tests.portal import make_car, make_contact, make_customer

ADD = """
mutation A($input: AddMyContactInput!) {
  addMyContact(input: $input) { contactId userErrors { field code } }
}
"""
UPDATE = """
mutation U($input: UpdateMyContactInput!) {
  updateMyContact(input: $input) { contactId userErrors { field code } }
}
"""
REMOVE = """
mutation R($input: RemoveMyContactInput!) {
  removeMyContact(input: $input) { contactId userErrors { field code } }
}
"""
STAFF_UPDATE = """
mutation U($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { id canManageContacts } userErrors { field code } }
}
"""
SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { field code } }
}
"""


async def manager(gql: GraphQLClient, tenant: Tenant, customer_id: str, **fields: Any) -> str:
    """A contact staff allowed to manage the account's contacts."""
    contact, _ = await make_contact(gql, tenant, customer_id, **fields)
    data = await gql.data(
        STAFF_UPDATE,
        {"input": {"id": contact, "canManageContacts": True}},
        token=tenant.staff_token,
    )
    assert data["updateContact"]["contact"]["canManageContacts"] is True
    return contact


async def contacts_of(db: Database, customer_gid: str) -> list[tuple[Any, ...]]:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(  # type: ignore[call-overload]
                Contact.name, Contact.portal_scope, Contact.can_access_portal, Contact.archived_at
            )
            .where(Contact.customer_id == decode_id_of("Customer", customer_gid))
            .order_by(Contact.name)
        )
        return [tuple(row) for row in found.all()]


async def _all_three(gql: GraphQLClient, target: str, token: str | None) -> list[dict[str, Any]]:
    return [
        await gql(UPDATE, {"input": {"id": target, "name": "Taken over"}}, token=token),
        await gql(REMOVE, {"input": {"id": target}}, token=token),
    ]


async def test_other_customers_organizations_staff_and_anonymous_change_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    target, _ = await make_contact(gql, tenant, customer_id, name="Target")
    before = await contacts_of(db, customer_id)

    neighbour, _ = await make_customer(gql, tenant)
    neighbour_manager = await manager(gql, tenant, neighbour)
    stranger, _ = await make_customer(gql, other_tenant)
    as_not_found = [
        await portal_token(db, tenant, neighbour),
        await portal_token(db, tenant, neighbour, neighbour_manager),
        await portal_token(db, other_tenant, stranger),
    ]
    for token in as_not_found:
        for result in await _all_three(gql, target, token):
            (payload,) = result["data"].values()
            assert user_errors(payload) == [(["input", "id"], "NOT_FOUND")], result
    for token in (tenant.staff_token, tenant.owner_token, None):
        results = await _all_three(gql, target, token)
        results.append(await gql(ADD, {"input": {"name": "Intruder"}}, token=token))
        for result in results:
            assert result.get("errors") and not any((result.get("data") or {}).values())
    assert await contacts_of(db, customer_id) == before


async def test_a_contact_without_the_right_changes_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    plain, _ = await make_contact(gql, tenant, customer_id, name="Plain")
    target, _ = await make_contact(gql, tenant, customer_id, name="Target")
    before = await contacts_of(db, customer_id)
    token = await portal_token(db, tenant, customer_id, plain)
    results = await _all_three(gql, target, token)
    results.append(await gql(ADD, {"input": {"name": "New"}}, token=token))
    for result in results:
        (payload,) = result["data"].values()
        assert user_errors(payload) == [(None, "NOT_ALLOWED")], result
    assert await contacts_of(db, customer_id) == before


async def test_no_scope_beyond_the_viewers_or_the_business(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    car = await make_car(gql, tenant, customer_id, "911")
    billing = await manager(gql, tenant, customer_id, portalScope="BILLING", name="Bill")
    token = await portal_token(db, tenant, customer_id, billing)
    for scope in ("EVERYTHING", "CARS"):
        result = await gql.data(
            ADD, {"input": {"name": "Wider", "portalScope": scope, "carIds": [car]}}, token=token
        )
        assert user_errors(result["addMyContact"]) == [(["input", "portalScope"], "BEYOND_ACCESS")]
    # A wider contact is out of a narrower manager's reach; so is another manager.
    wide, _ = await make_contact(gql, tenant, customer_id, name="Wide")
    peer = await manager(gql, tenant, customer_id, portalScope="BILLING", name="Peer")
    for target in (wide, peer):
        for result in await _all_three(gql, target, token):
            (payload,) = result["data"].values()
            assert user_errors(payload) == [(["input", "id"], "NOT_ALLOWED")]
    # Nobody raises or removes themself here.
    for result in await _all_three(gql, billing, token):
        (payload,) = result["data"].values()
        assert user_errors(payload) == [(["input", "id"], "NOT_ALLOWED")]

    # The business's sections: with cars switched off, nobody is given CARS.
    off = await gql.data(SETTINGS, {"input": {"showCars": False}}, token=tenant.owner_token)
    assert off["updatePortalSettings"]["userErrors"] == []
    owner_token = await portal_token(db, tenant, customer_id)  # sections are read at sign-in
    result = await gql.data(
        ADD, {"input": {"name": "Driver", "portalScope": "CARS"}}, token=owner_token
    )
    assert user_errors(result["addMyContact"]) == [(["input", "portalScope"], "BEYOND_ACCESS")]
    names = [row[0] for row in await contacts_of(db, customer_id)]
    assert names == ["Bill", "Peer", "Wide"]


async def test_cars_only_among_those_the_viewer_sees(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant)
    mine = await make_car(gql, tenant, customer_id, "911")
    also_mine = await make_car(gql, tenant, customer_id, "356")
    neighbour, _ = await make_customer(gql, tenant)
    theirs = await make_car(gql, tenant, neighbour, "718")
    stranger, _ = await make_customer(gql, other_tenant)
    foreign = await make_car(gql, other_tenant, stranger, "944")
    driver = await manager(gql, tenant, customer_id, portalScope="CARS", carIds=[mine])
    customer_token = await portal_token(db, tenant, customer_id)
    driver_token = await portal_token(db, tenant, customer_id, driver)
    cases = [(customer_token, theirs), (customer_token, foreign), (driver_token, also_mine)]
    for token, car in cases:
        result = await gql.data(
            ADD, {"input": {"name": "D", "portalScope": "CARS", "carIds": [car]}}, token=token
        )
        assert user_errors(result["addMyContact"]) == [(["input", "carIds"], "NOT_FOUND")]
    fine = await gql.data(
        ADD, {"input": {"name": "D", "portalScope": "CARS", "carIds": [mine]}}, token=driver_token
    )
    assert fine["addMyContact"]["userErrors"] == []
    # The driver may not reach a driver of a car they do not see.
    other_driver, _ = await make_contact(
        gql, tenant, customer_id, portalScope="CARS", carIds=[also_mine], name="Other"
    )
    for result in await _all_three(gql, other_driver, driver_token):
        (payload,) = result["data"].values()
        assert user_errors(payload) == [(["input", "id"], "NOT_ALLOWED")]


def test_who_may_grant_which_scope_by_hand():
    """`may_grant` against cases worked out by hand: no wider than the viewer's own scope,
    and only a scope whose sections the business switched on."""
    all_on = frozenset({"cars", "invoices", "estimates"})
    E, B, C = PortalScope.EVERYTHING, PortalScope.BILLING, PortalScope.CARS
    cases = [
        (E, all_on, {E, B, C}),
        (B, all_on, {B}),
        (C, all_on, {C}),
        (E, frozenset({"invoices"}), {E, B}),
        (E, frozenset({"estimates"}), {E, B}),
        (E, frozenset({"cars"}), {E, C}),
        (E, frozenset(), {E}),
        (B, frozenset({"cars"}), set()),
        (C, frozenset({"invoices"}), set()),
    ]
    for own, sections, allowed in cases:
        viewer = Viewer(kind=ViewerKind.PORTAL, scope=own, sections=sections)
        assert {s for s in PortalScope if may_grant(viewer, s)} == allowed, (own, sections)
