"""Staff sign-in and sign-out."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from strawberry import Info

from auth.passwords import verify_password
from auth.remember import forget
from auth.sessions import IssuedSession, end_session, start_session
from auth.viewer import ANONYMOUS, Viewer, ViewerKind
from domain.audit import audit
from models import Organization, StaffUser
from models.enums import SessionKind
from models.types import utcnow
from resolvers import throttle
from resolvers.outcome import Rejected
from resolvers.rate_limits import limit_keys, refuse_when_spent
from resolvers.validation import Checks, Problem

BAD_CREDENTIALS = Problem("password", "Email or password is wrong.", "INVALID_CREDENTIALS")


@dataclass(frozen=True)
class SignedIn:
    session: IssuedSession
    staff_user: StaffUser


async def sign_in(info: Info, email: str, password: str, organization: str | None) -> SignedIn:
    """Check the password (always, so unknown emails take as long) and open a session."""
    checks = Checks()
    email = checks.email("email", email) or ""
    checks.done()
    ctx = info.context
    # Failures from one client across every address (password spraying); successes never
    # count, so one office behind one address is not locked out by its own sign-ins.
    allowed = ctx.settings.staff_sign_ins_per_hour * 10
    failures = (f"staff-sign-in-failed:client:{ctx.client_ip or 'unknown'}", allowed)
    await refuse_when_spent(info, *failures)
    # Per address: growing delays that nobody can turn into a lockout (resolvers/throttle.py).
    await throttle.check(info, throttle.STAFF_PASSWORD, email)
    try:
        signed_in = await _sign_in(info, email, password, organization)
    except Rejected:
        await throttle.failed(info, throttle.STAFF_PASSWORD, email)
        await limit_keys(info, [failures])
        raise
    await throttle.succeeded(info, throttle.STAFF_PASSWORD, email)
    return signed_in


async def _sign_in(info: Info, email: str, password: str, organization: str | None) -> SignedIn:
    ctx = info.context
    async with ctx.write() as session:
        stmt = sa.select(StaffUser).where(StaffUser.email == email, StaffUser.is_active.is_(True))
        if organization:
            stmt = stmt.join(Organization, Organization.id == StaffUser.organization_id).where(
                Organization.slug == organization
            )
        candidates = (await session.execute(stmt.limit(2))).scalars().all()
        # One email may belong to staff of several organizations: then the slug decides.
        user = candidates[0] if len(candidates) == 1 else None
        if not verify_password(user.password_hash if user else None, password) or user is None:
            if len(candidates) > 1:
                raise Rejected(
                    Problem("organization", "Name the organization to sign in to.", "REQUIRED")
                )
            raise Rejected(BAD_CREDENTIALS)
        user.last_sign_in_at = utcnow()
        issued = await start_session(
            session,
            kind=SessionKind.STAFF,
            organization_id=user.organization_id,
            staff_user_id=user.id,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    ctx.as_viewer(
        Viewer(
            kind=ViewerKind.STAFF,
            organization_id=user.organization_id,
            session_id=issued.session_id,
            staff_user_id=user.id,
            role=user.role,
        )
    )
    return SignedIn(session=issued, staff_user=user)


async def sign_out(info: Info) -> bool:
    """End this session: the row goes, so the token and cookie are dead at once."""
    ctx = info.context
    forget(ctx)
    viewer = ctx.viewer
    if viewer.session_id is None:
        return False
    async with ctx.write() as session:
        await end_session(session, viewer.session_id)
        if viewer.is_portal and not viewer.preview:
            session.add(audit(ctx, "portal.sign_out"))
    ctx.as_viewer(ANONYMOUS)
    return True
