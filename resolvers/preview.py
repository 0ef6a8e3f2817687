"""Staff preview the portal as one customer or contact sees it.

A preview is a short session of kind PREVIEW for that person: the viewer resolves with the
person's scope and the organization's portal settings, every mutation is refused
(schema/preview.py), it is audited, and nothing it looks at reaches the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from strawberry import Info

from auth.sessions import start_session
from domain.audit import audit_person
from models.enums import SessionKind
from resolvers.outcome import input_ids
from resolvers.portal_access import person_named

PREVIEW_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class Preview:
    token: str
    expires_at: datetime


@input_ids
async def start_preview(info: Info, customer_gid: str | None, contact_gid: str | None) -> Preview:
    ctx = info.context
    async with ctx.write() as session:
        person = await person_named(session, ctx.viewer.organization_id, customer_gid, contact_gid)
        issued = await start_session(
            session,
            kind=SessionKind.PREVIEW,
            organization_id=person.organization_id,
            customer_id=person.customer_id,
            contact_id=person.contact_id,
            email=None,  # a preview proves no address: it reaches no other account
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
            previewed_by_staff_id=ctx.viewer.staff_user_id,
            lifetime=PREVIEW_LIFETIME,
        )
        session.add(
            # The session itself is not named: audit data holds no internal ids.
            audit_person(ctx, "portal.preview_started", person)
        )
    return Preview(token=issued.token, expires_at=issued.expires_at)
