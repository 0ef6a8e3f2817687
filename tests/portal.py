"""Helpers for portal tests: customers and contacts made by staff, links read from email."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from mail.sender import SmtpMailer
from mail.worker import deliver_due
from models.db import Database
from tests.helpers import GraphQLClient, Tenant
from tests.smtp import SmtpServer

TOKEN = re.compile(r"token=([A-Za-z0-9_\-]+)")

CREATE_CUSTOMER = """
mutation C($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } userErrors { code } }
}
"""
CREATE_CONTACT = """
mutation C($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code } }
}
"""
CREATE_CAR = """
mutation C($input: CreateCarInput!) { createCar(input: $input) { car { id } userErrors { code } } }
"""
INVITE = """
mutation I($input: PortalPersonInput!) {
  sendPortalInvite(input: $input) {
    customer { id portalStatus portalInvitedAt } contact { id portalStatus }
    userErrors { field message code }
  }
}
"""
REDEEM = """
mutation R($token: String!) {
  redeemMagicLink(input: {token: $token}) {
    outcome token expiresAt passwordRequired
    viewer { kind customer { id name } contact { id name } }
  }
}
"""
REVOKE = """
mutation R($input: PortalPersonInput!) {
  revokePortalAccess(input: $input) { customer { id portalStatus } userErrors { code } }
}
"""
RESTORE = """
mutation R($input: PortalPersonInput!) {
  restorePortalAccess(input: $input) { customer { id portalStatus } userErrors { code } }
}
"""
WHOAMI = "{ viewer { kind customer { id name } contact { id name } } }"


async def deliver(db: Database, smtp: SmtpServer) -> int:
    """Send everything due, however much earlier tests left in the shared outbox."""
    total = 0
    while sent := await deliver_due(db, SmtpMailer(smtp.url)):
        total += sent
    return total


def tokens_for(smtp: SmtpServer, address: str) -> list[str]:
    """Link tokens in the emails the server accepted for `address`, oldest first."""
    found = []
    for message in smtp.messages:
        if address.lower() in str(message["To"]).lower():
            body = message.get_body(preferencelist=("plain",))
            found += TOKEN.findall(body.get_content() if body else "")
    return found


@dataclass
class PortalFixture:
    tenant: Tenant
    customer_id: str
    customer_email: str
    contact_id: str | None = None
    contact_email: str | None = None
    car_ids: tuple[str, ...] = ()


async def make_customer(
    gql: GraphQLClient, tenant: Tenant, name: str = "Alex Morgan", **fields: Any
) -> tuple[str, str]:
    email = fields.pop("email", f"{uuid.uuid4().hex[:10]}@customer.test")
    data = await gql.data(
        CREATE_CUSTOMER,
        {"input": {"name": name, "email": email, **fields}},
        token=tenant.staff_token,
    )
    return data["createCustomer"]["customer"]["id"], email


async def make_contact(
    gql: GraphQLClient, tenant: Tenant, customer_id: str, **fields: Any
) -> tuple[str, str]:
    email = fields.pop("email", f"{uuid.uuid4().hex[:10]}@contact.test")
    payload = {"customerId": customer_id, "name": "Robin", "email": email, "canAccessPortal": True}
    data = await gql.data(
        CREATE_CONTACT, {"input": {**payload, **fields}}, token=tenant.staff_token
    )
    return data["createContact"]["contact"]["id"], email


async def make_car(gql: GraphQLClient, tenant: Tenant, owner_id: str, model: str) -> str:
    data = await gql.data(
        CREATE_CAR,
        {"input": {"make": "Porsche", "model": model, "ownerId": owner_id}},
        token=tenant.staff_token,
    )
    return data["createCar"]["car"]["id"]


async def invite(gql: GraphQLClient, tenant: Tenant, **person: str) -> dict[str, Any]:
    data = await gql.data(INVITE, {"input": person}, token=tenant.staff_token)
    return data["sendPortalInvite"]


async def sign_in_by_invite(
    gql: GraphQLClient, db: Database, smtp: SmtpServer, tenant: Tenant, email: str, **person: str
) -> str:
    """Invite, deliver the email, redeem its link: the portal session token."""
    assert (await invite(gql, tenant, **person))["userErrors"] == []
    await deliver(db, smtp)
    token = tokens_for(smtp, email)[-1]
    data = await gql.data(REDEEM, {"token": token})
    assert data["redeemMagicLink"]["outcome"] == "SIGNED_IN"
    return data["redeemMagicLink"]["token"]
