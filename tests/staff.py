"""Helpers for staff-account tests: the operations as a client sends them, staff made in a
tenant, links read from the emails a real SMTP server accepted."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from core.ids import encode_id
from models import StaffUser
from models.db import Database
from models.enums import StaffRole
from models.writes import add_in_order
from tests.helpers import _PASSWORD_HASH, PASSWORD, SIGN_IN, GraphQLClient, Tenant
from tests.portal import deliver, tokens_for
from tests.smtp import SmtpServer

STAFF_FIELDS = "id name email role status isActive lastSignInAt"
INVITE = f"""
mutation Invite($input: InviteStaffInput!) {{
  inviteStaff(input: $input) {{
    staffUser {{ {STAFF_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
RESEND = f"""
mutation Resend($input: StaffUserInput!) {{
  resendStaffInvite(input: $input) {{ staffUser {{ {STAFF_FIELDS} }} userErrors {{ field code }} }}
}}
"""
CANCEL = """
mutation Cancel($input: StaffUserInput!) {
  cancelStaffInvite(input: $input) { cancelledStaffUserId userErrors { field code } }
}
"""
CHANGE_ROLE = f"""
mutation Role($input: ChangeStaffRoleInput!) {{
  changeStaffRole(input: $input) {{ staffUser {{ {STAFF_FIELDS} }} userErrors {{ field code }} }}
}}
"""
DEACTIVATE = f"""
mutation Off($input: StaffUserInput!) {{
  deactivateStaff(input: $input) {{ staffUser {{ {STAFF_FIELDS} }} userErrors {{ field code }} }}
}}
"""
REACTIVATE = f"""
mutation On($input: StaffUserInput!) {{
  reactivateStaff(input: $input) {{ staffUser {{ {STAFF_FIELDS} }} userErrors {{ field code }} }}
}}
"""
SEND_RESET = f"""
mutation SendReset($input: StaffUserInput!) {{
  sendStaffPasswordReset(input: $input) {{
    staffUser {{ {STAFF_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
ACCEPT = f"""
mutation Accept($input: StaffLinkPasswordInput!) {{
  acceptStaffInvite(input: $input) {{
    token expiresAt staffUser {{ {STAFF_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
REQUEST_RESET = """
mutation Forgot($input: RequestStaffPasswordResetInput!) {
  requestStaffPasswordReset(input: $input) { message userErrors { field code } }
}
"""
RESET = f"""
mutation Reset($input: StaffLinkPasswordInput!) {{
  resetStaffPassword(input: $input) {{
    token expiresAt staffUser {{ {STAFF_FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
CHANGE_MINE = f"""
mutation Mine($input: ChangeMyPasswordInput!) {{
  changeMyPassword(input: $input) {{ staffUser {{ {STAFF_FIELDS} }} userErrors {{ field code }} }}
}}
"""
LIST = f"""
query Staff($status: StaffStatus, $first: Int = 20, $after: String) {{
  staffUsers(status: $status, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {STAFF_FIELDS} }}
  }}
}}
"""
ME = "{ viewer { kind staffUser { id email role } } }"
NEW_PASSWORD = "a brand new passphrase"


async def add_staff(
    db: Database, gql: GraphQLClient, tenant: Tenant, role: StaffRole, email: str | None = None
) -> tuple[str, str, str]:
    """An active staff member of `role` in the tenant, signed in: (global id, email, token)."""
    email = email or f"{role.value.lower()}-{uuid.uuid4().hex[:8]}@{tenant.slug}.test"
    user = StaffUser(
        organization_id=tenant.organization_id,
        name=f"{role.value.title()} Person",
        email=email,
        role=role,
        password_hash=_PASSWORD_HASH,
    )
    async with db.write() as session:
        await add_in_order(session, [user])
    token = await sign_in(gql, email, tenant.slug)
    assert token is not None
    return encode_id("StaffUser", user.id), email, token


async def sign_in(
    gql: GraphQLClient, email: str, organization: str | None = None, password: str = PASSWORD
) -> str | None:
    variables = {"input": {"email": email, "password": password, "organization": organization}}
    data = await gql.data(SIGN_IN, variables)
    return data["signIn"]["token"]


async def staff_id_of(db: Database, tenant: Tenant, email: str) -> str:
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(StaffUser.id).where(  # type: ignore[call-overload]
                StaffUser.organization_id == tenant.organization_id, StaffUser.email == email
            )
        )
        return encode_id("StaffUser", found.scalar_one())


async def invite(
    gql: GraphQLClient, token: str, email: str, role: str = "STAFF", name: str = "New Person"
) -> dict[str, Any]:
    variables = {"input": {"email": email, "name": name, "role": role}}
    return (await gql.data(INVITE, variables, token=token))["inviteStaff"]


async def link_tokens(db: Database, smtp: SmtpServer, email: str) -> list[str]:
    """Deliver the outbox, then the tokens of every link sent to `email`, oldest first."""
    await deliver(db, smtp)
    return tokens_for(smtp, email)


async def accept(gql: GraphQLClient, token: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    variables = {"input": {"token": token, "password": password}}
    return (await gql.data(ACCEPT, variables))["acceptStaffInvite"]


async def reset(gql: GraphQLClient, token: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    variables = {"input": {"token": token, "password": password}}
    return (await gql.data(RESET, variables))["resetStaffPassword"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]
