"""Portal access from the API: the person's ID decoded, the domain's action called
(domain/portal/portal_access.py)."""

from __future__ import annotations

import uuid

from strawberry import Info

from core.errors import InvalidInput
from core.ids import decode_id_of
from domain.portal import portal_access
from domain.portal.portal_access import InvitePreview, Named
from domain.portal.portal_access import invite_with_first_bill as invite_with_first_bill
from domain.problems import Common, Problem
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rate_limits import limit_session


def named(customer_gid: str | None, contact_gid: str | None) -> Named:
    """Exactly one of customerId and contactId names the person."""
    if (customer_gid is None) == (contact_gid is None):
        raise Rejected(Problem("customerId", "Give a customerId or a contactId.", Common.INVALID))
    if contact_gid is not None:
        return Named("Contact", decode_id_of("Contact", contact_gid))
    return Named("Customer", decode_id_of("Customer", customer_gid or ""))


async def invite_preview(
    info: Info, customer_gid: str | None, contact_gid: str | None
) -> InvitePreview:
    try:
        person = named(customer_gid, contact_gid)
    except Rejected as rejected:  # a query has no userErrors: the problem is a coded error
        raise InvalidInput(rejected.problems[0].message) from None
    ctx = info.context
    async with ctx.db.write() as session:  # a read: the request's writes are not involved
        return await portal_access.invite_preview(session, ctx.viewer.organization_id, person)


@mutation_outcome
async def send_invite(info: Info, customer_gid: str | None, contact_gid: str | None) -> uuid.UUID:
    person = named(customer_gid, contact_gid)
    allowed = info.context.settings.invites_per_hour
    await limit_session(info, "invite", per_session=allowed, per_client=allowed)
    return await portal_access.send_invite(info.context, person)


@mutation_outcome
async def set_access(
    info: Info, customer_gid: str | None, contact_gid: str | None, *, revoked: bool
) -> uuid.UUID:
    """Revoke: the person's sessions and unused links end at once. Restore: they may be
    invited or ask for a link again."""
    person = named(customer_gid, contact_gid)
    if revoked:
        return await portal_access.revoke_portal_access(info.context, person)
    return await portal_access.restore_portal_access(info.context, person)
