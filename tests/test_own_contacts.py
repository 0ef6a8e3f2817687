"""Portal users who may manage the account add, change and remove its contacts: the
customer themself, or a contact staff allowed; staff are told and every change is audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.ids import decode_id_of
from models import AuditEvent, Contact, Notification
from models.db import Database
from models.tables import contact_cars
from tests.helpers import GraphQLClient, Tenant
from tests.messaging import portal_token
from tests.portal import make_car, make_contact, make_customer
from tests.security.test_own_contacts import ADD, REMOVE, UPDATE, manager


async def _contact(db: Database, gid: str) -> tuple[Any, ...]:
    contact_id = decode_id_of("Contact", gid)
    async with db.connect() as conn:
        row = (
            await conn.execute(
                sa.select(  # type: ignore[call-overload]
                    Contact.name,
                    Contact.email,
                    Contact.portal_scope,
                    Contact.can_access_portal,
                    Contact.can_manage_contacts,
                    Contact.archived_at.is_not(None),
                ).where(Contact.id == contact_id)
            )
        ).one()
        cars = await conn.execute(
            sa.select(contact_cars.c.car_id).where(contact_cars.c.contact_id == contact_id)
        )
        return (*row, set(cars.scalars()))


async def _told(db: Database, tenant: Tenant) -> list[tuple[Any, ...]]:
    async with db.connect() as conn:
        notes = await conn.execute(
            sa.select(Notification.title, Notification.recipient_staff_id)  # type: ignore[call-overload]
            .where(
                Notification.organization_id == tenant.organization_id,
                Notification.kind == "CONTACTS_CHANGED",
            )
            .order_by(Notification.created_at, Notification.title)
        )
        return [tuple(row) for row in notes.all()]


async def _audited(db: Database, tenant: Tenant) -> list[tuple[Any, ...]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(  # type: ignore[call-overload]
                AuditEvent.action,
                AuditEvent.actor_kind,
                AuditEvent.actor_contact_id,
                AuditEvent.customer_id,
                AuditEvent.subject_id,
            )
            .where(
                AuditEvent.organization_id == tenant.organization_id,
                AuditEvent.action.startswith("portal.contact_"),
            )
            .order_by(AuditEvent.created_at)
        )
        return [tuple(row) for row in rows.all()]


async def test_the_customer_adds_changes_and_removes_a_contact(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant, "Casey Keeper")
    car = await make_car(gql, tenant, customer_id, "911")
    token = await portal_token(db, tenant, customer_id)

    added = await gql.data(
        ADD,
        {
            "input": {
                "name": "Dana Driver",
                "email": "dana@contact.test",
                "canAccessPortal": True,
                "portalScope": "CARS",
                "carIds": [car],
            }
        },
        token=token,
    )
    assert added["addMyContact"]["userErrors"] == []
    gid = added["addMyContact"]["contactId"]
    car_id = decode_id_of("Car", car)
    assert await _contact(db, gid) == (
        "Dana Driver",
        "dana@contact.test",
        "CARS",
        True,
        False,
        False,
        {car_id},
    )
    twice = await gql.data(
        ADD, {"input": {"name": "Again", "email": "dana@contact.test"}}, token=token
    )
    assert [e["code"] for e in twice["addMyContact"]["userErrors"]] == ["DUPLICATE"]

    changed = await gql.data(
        UPDATE, {"input": {"id": gid, "name": "Dana Books", "portalScope": "BILLING"}}, token=token
    )
    assert changed["updateMyContact"]["userErrors"] == []
    assert await _contact(db, gid) == (
        "Dana Books",
        "dana@contact.test",
        "BILLING",
        True,
        False,
        False,
        set(),
    )

    removed = await gql.data(REMOVE, {"input": {"id": gid}}, token=token)
    assert removed["removeMyContact"] == {"contactId": gid, "userErrors": []}
    assert (await _contact(db, gid))[3:6] == (False, False, True)
    gone = await gql.data(REMOVE, {"input": {"id": gid}}, token=token)
    assert [e["code"] for e in gone["removeMyContact"]["userErrors"]] == ["NOT_FOUND"]

    told = await _told(db, tenant)
    assert {title for title, _ in told} == {
        "Casey Keeper added a contact: Dana Driver",
        "Casey Keeper changed a contact: Dana Books",
        "Casey Keeper removed a contact: Dana Books",
    }
    assert len({who for _, who in told}) == 2 and len(told) == 6  # the owner and the staff member
    contact_id, customer = decode_id_of("Contact", gid), decode_id_of("Customer", customer_id)
    assert await _audited(db, tenant) == [
        ("portal.contact_added", "CUSTOMER", None, customer, contact_id),
        ("portal.contact_updated", "CUSTOMER", None, customer, contact_id),
        ("portal.contact_removed", "CUSTOMER", None, customer, contact_id),
    ]


async def test_a_contact_with_the_right_manages_those_within_their_access(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    customer_id, _ = await make_customer(gql, tenant, "Casey Keeper")
    assistant = await manager(gql, tenant, customer_id, name="Ash Assistant")
    token = await portal_token(db, tenant, customer_id, assistant)
    helper, _ = await make_contact(gql, tenant, customer_id, name="Hal Helper")
    helper_token = await portal_token(db, tenant, customer_id, helper)

    added = await gql.data(
        ADD, {"input": {"name": "Bo Books", "portalScope": "BILLING"}}, token=token
    )
    assert added["addMyContact"]["userErrors"] == []
    gid = added["addMyContact"]["contactId"]
    assert (await _contact(db, gid))[:6] == ("Bo Books", None, "BILLING", False, False, False)

    removed = await gql.data(REMOVE, {"input": {"id": helper}}, token=token)
    assert removed["removeMyContact"]["userErrors"] == []
    # The removed contact's portal session ended with it.
    after = await gql.post(ADD, {"input": {"name": "Sneaky"}}, helper_token)
    assert after.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    assistant_id = decode_id_of("Contact", assistant)
    audited = await _audited(db, tenant)
    assert [(action, kind, who) for action, kind, who, _, _ in audited] == [
        ("portal.contact_added", "CONTACT", assistant_id),
        ("portal.contact_removed", "CONTACT", assistant_id),
    ]
    assert {title for title, _ in await _told(db, tenant)} == {
        "Casey Keeper added a contact: Bo Books",
        "Casey Keeper removed a contact: Hal Helper",
    }


MANAGEABLE = "{ viewer { manageableContacts { id name portalScope carIds } } }"


async def _manageable(gql: GraphQLClient, token: str | None) -> list[str]:
    data = await gql.data(MANAGEABLE, token=token)
    return [c["name"] for c in data["viewer"]["manageableContacts"]]


async def test_the_portal_lists_the_contacts_its_viewer_may_change(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant
):
    """Listed exactly as the writes allow: the customer every live contact; a manager with
    billing access those billing contacts who do not manage (not themself, not a wider
    scope); anyone else, staff and another account's viewers nobody."""
    customer_id, _ = await make_customer(gql, tenant, "Casey Keeper")
    car = await make_car(gql, tenant, customer_id, "911")
    boss = await manager(gql, tenant, customer_id, name="Bea Boss", portalScope="BILLING")
    await manager(gql, tenant, customer_id, name="Max Manager")
    await make_contact(gql, tenant, customer_id, name="Bill Books", portalScope="BILLING")
    driver, _ = await make_contact(
        gql, tenant, customer_id, name="Dee Driver", portalScope="CARS", carIds=[car]
    )
    plain, _ = await make_contact(gql, tenant, customer_id, name="Pat Plain")
    gone, _ = await make_contact(gql, tenant, customer_id, name="Gil Gone")

    owner = await portal_token(db, tenant, customer_id)
    removed = await gql.data(REMOVE, {"input": {"id": gone}}, token=owner)
    assert removed["removeMyContact"]["userErrors"] == []

    everyone = ["Bea Boss", "Bill Books", "Dee Driver", "Max Manager", "Pat Plain"]
    assert await _manageable(gql, owner) == everyone
    listed = (await gql.data(MANAGEABLE, token=owner))["viewer"]["manageableContacts"]
    assert next(c for c in listed if c["name"] == "Dee Driver")["carIds"] == [car]

    # Billing access, so only billing contacts; never themself nor another manager.
    assert await _manageable(gql, await portal_token(db, tenant, customer_id, boss)) == [
        "Bill Books"
    ]
    # Each one listed is one the manager may change; one not listed is refused.
    boss_token = await portal_token(db, tenant, customer_id, boss)
    for target, allowed in ((driver, False), (plain, False)):
        result = await gql.data(
            UPDATE, {"input": {"id": target, "name": "Renamed"}}, token=boss_token
        )
        assert (result["updateMyContact"]["userErrors"] == []) is allowed
    # No right to manage: nothing; staff: nothing (they have Customer.contacts).
    assert await _manageable(gql, await portal_token(db, tenant, customer_id, plain)) == []
    assert await _manageable(gql, tenant.staff_token) == []
    assert await _manageable(gql, None) == []
    # Another account's customer and another business's see none of these.
    neighbour, _ = await make_customer(gql, tenant)
    assert await _manageable(gql, await portal_token(db, tenant, neighbour)) == []
    stranger, _ = await make_customer(gql, other_tenant)
    assert await _manageable(gql, await portal_token(db, other_tenant, stranger)) == []
