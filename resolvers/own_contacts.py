"""Portal users' mutations on their own account's contacts (domain/customers/own_contacts.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.engine import RowMapping
from strawberry import Info

from core.ids import decode_id_of
from domain.customers import own_contacts
from domain.customers.own_contacts import OwnContact
from resolvers.customers import _car_ids
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.customers import (
        AddMyContactInput,
        MyContactFields,
        UpdateMyContactInput,
    )


def _details(checks: Checks, data: MyContactFields) -> OwnContact:
    return OwnContact(
        name=kept(checks.text("name", data.name, 200, required=True)),
        email=kept(checks.email("email", data.email)),
        phone=kept(checks.phone("phone", data.phone)),
        role=kept(given(data.role)),
        can_access_portal=kept(given(data.can_access_portal)),
        portal_scope=kept(given(data.portal_scope)),
        car_ids=_car_ids(data.car_ids),
    )


@mutation_outcome
async def add_my_contact(info: Info, data: AddMyContactInput) -> uuid.UUID:
    checks = Checks(creating=True)
    details = _details(checks, data)
    checks.done()
    return await own_contacts.add_my_contact(info.context, details)


@mutation_outcome
async def update_my_contact(info: Info, data: UpdateMyContactInput) -> uuid.UUID:
    contact_id = decode_id_of("Contact", data.id)
    checks = Checks(creating=False)
    details = _details(checks, data)
    checks.done()
    return await own_contacts.update_my_contact(info.context, contact_id, details)


@mutation_outcome
async def remove_my_contact(info: Info, gid: str) -> uuid.UUID:
    contact_id = decode_id_of("Contact", gid)
    return await own_contacts.remove_my_contact(info.context, contact_id)


async def manageable_contacts(info: Info) -> list[tuple[RowMapping, set[uuid.UUID]]]:
    """The account's contacts the portal viewer may change, with their cars (two statements
    for a manager, none for anyone else)."""
    viewer = info.context.viewer
    query = own_contacts.manageable_contacts_query(viewer)
    if query is None:
        return []
    reader = info.context.reader
    rows = await reader.rows(query)
    links = await reader.rows(own_contacts.contact_cars_query([row["id"] for row in rows]))
    return own_contacts.manageable(viewer, rows, links)
