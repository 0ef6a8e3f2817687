"""Staff sign-in and sign-out from the API: the sign-in throttle and rate limit around the
domain's action (domain/organization/staff_sign_in.py), and the request's viewer after."""

from __future__ import annotations

from strawberry import Info

from auth.remember import forget
from auth.viewer import ANONYMOUS, Viewer, ViewerKind
from domain.organization.staff_sign_in import StaffSignedIn, end_own_session, sign_in_staff
from resolvers import throttle
from resolvers.outcome import Rejected
from resolvers.rate_limits import limit_keys, refuse_when_spent
from resolvers.validation import Checks


async def sign_in(info: Info, email: str, password: str, organization: str | None) -> StaffSignedIn:
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
        signed_in = await sign_in_staff(ctx, email, password, organization)
    except Rejected:
        await throttle.failed(info, throttle.STAFF_PASSWORD, email)
        await limit_keys(info, [failures])
        raise
    await throttle.succeeded(info, throttle.STAFF_PASSWORD, email)
    user = signed_in.staff_user
    ctx.as_viewer(
        Viewer(
            kind=ViewerKind.STAFF,
            organization_id=user.organization_id,
            session_id=signed_in.session.session_id,
            staff_user_id=user.id,
            role=user.role,
        )
    )
    return signed_in


async def sign_out(info: Info) -> bool:
    """End this session: the row goes, so the token and cookie are dead at once."""
    ctx = info.context
    forget(ctx)
    if not await end_own_session(ctx):
        return False
    ctx.as_viewer(ANONYMOUS)
    return True
