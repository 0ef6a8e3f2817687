"""Staff sign in with email and password, and sign out. Throttles and rate limits are the
caller's (resolvers/auth.py)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from auth.passwords import verify_password
from auth.sessions import IssuedSession, end_session, start_session
from domain.audit import audit
from domain.organization.codes import OrganizationCode
from domain.problems import Common, Problem, Rejected
from domain.work import Work
from models import Organization, StaffUser
from models.enums import SessionKind
from models.types import utcnow

BAD_CREDENTIALS = Problem(
    "password", "Email or password is wrong.", OrganizationCode.INVALID_CREDENTIALS
)


@dataclass(frozen=True)
class StaffSignedIn:
    session: IssuedSession
    staff_user: StaffUser


async def sign_in_staff(
    work: Work, email: str, password: str, organization: str | None
) -> StaffSignedIn:
    """Check the password (always, so unknown emails take as long) and open a session.
    One email may belong to staff of several organizations: then the slug decides."""
    async with work.write() as session:
        stmt = sa.select(StaffUser).where(
            col(StaffUser.email) == email, col(StaffUser.is_active).is_(True)
        )
        if organization:
            stmt = stmt.join(
                Organization, col(Organization.id) == col(StaffUser.organization_id)
            ).where(col(Organization.slug) == organization)
        candidates = (await session.execute(stmt.limit(2))).scalars().all()
        user = candidates[0] if len(candidates) == 1 else None
        if not verify_password(user.password_hash if user else None, password) or user is None:
            if len(candidates) > 1:
                message = "Name the organization to sign in to."
                raise Rejected(Problem("organization", message, Common.REQUIRED))
            raise Rejected(BAD_CREDENTIALS)
        user.last_sign_in_at = utcnow()
        issued = await start_session(
            session,
            kind=SessionKind.STAFF,
            organization_id=user.organization_id,
            staff_user_id=user.id,
            ip=work.client_ip,
            user_agent=work.user_agent,
        )
    return StaffSignedIn(session=issued, staff_user=user)


async def end_own_session(work: Work) -> bool:
    """End the viewer's session: the row goes, so its token is dead at once. False when
    the request carried none."""
    viewer = work.viewer
    if viewer.session_id is None:
        return False
    async with work.write() as session:
        await end_session(session, viewer.session_id)
        if viewer.is_portal and not viewer.preview:
            session.add(audit(work, "portal.sign_out"))
    return True
