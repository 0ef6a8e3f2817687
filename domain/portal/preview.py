"""Staff preview the portal as one customer or contact sees it.

A preview is a short session of kind PREVIEW for that person: the viewer resolves with the
person's scope and the organization's portal settings, every mutation is refused
(schema/preview.py), it is audited, and nothing it looks at reaches the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from auth.sessions import start_session
from domain.audit import audit_person
from domain.portal.portal_access import Named, person_of_named
from domain.work import Work
from models.enums import SessionKind

PREVIEW_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class Preview:
    token: str
    expires_at: datetime


async def start_preview(work: Work, named: Named) -> Preview:
    async with work.write() as session:
        person, _ = await person_of_named(session, work.viewer.organization_id, named)
        issued = await start_session(
            session,
            kind=SessionKind.PREVIEW,
            organization_id=person.organization_id,
            customer_id=person.customer_id,
            contact_id=person.contact_id,
            email=None,  # a preview proves no address: it reaches no other account
            ip=work.client_ip,
            user_agent=work.user_agent,
            previewed_by_staff_id=work.viewer.staff_user_id,
            lifetime=PREVIEW_LIFETIME,
        )
        # The session itself is not named: audit data holds no internal ids.
        session.add(audit_person(work, "portal.preview_started", person))
    return Preview(token=issued.token, expires_at=issued.expires_at)
