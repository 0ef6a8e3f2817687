"""Portal sign-in from the API: the sign-in throttles and rate limits around the domain's
actions (domain/portal/sign_in.py), and the rest of the request acting for whoever signed
in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry import Info

from auth.portal import Person, Redemption
from auth.sessions import IssuedSession, viewer_for_session
from core.ids import decode_id
from core.timing import at_least
from domain.portal import sign_in
from domain.portal.sign_in import BAD_PASSWORD, Account, SignedIn
from models.enums import LinkPurpose
from resolvers import throttle
from resolvers.outcome import Rejected, input_ids
from resolvers.rate_limits import limit, limit_keys, refuse_when_spent
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.context import Context

# Requests that must answer alike for known and unknown addresses take at least this long.
EVEN_ANSWER_SECONDS = 0.25
LINKS_PER_CLIENT = 20  # per hour, any address; per address: resolvers/throttle.py
PASSWORD_FAILURES_PER_CLIENT = 50  # per hour, any address


async def _act_as(ctx: Context, issued: IssuedSession) -> None:
    """The rest of this request acts for whoever just signed in, decided exactly as the
    next request will decide it: from the session row."""
    ctx.as_viewer(await viewer_for_session(ctx.reader, issued.session_id))


async def reload_viewer(ctx: Context) -> None:
    """Decide the viewer again from this request's session row (it just changed)."""
    if ctx.viewer.session_id is None:
        return
    ctx.as_viewer(await viewer_for_session(ctx.reader, ctx.viewer.session_id))


async def redeem(info: Info, token: str) -> SignedIn:
    """Exchange a sign-in link for a session (the portal client POSTs the link's token)."""
    done = await sign_in.redeem_sign_in_link(info.context, token)
    if done.outcome is Redemption.OK and done.session is not None:
        await _act_as(info.context, done.session)
    return done


async def resend_from_expired(info: Info, token: str) -> None:
    """An expired link asks for a fresh one to the same address, which stays unsaid."""
    async with at_least(EVEN_ANSWER_SECONDS):
        await limit(info, "resend", None, per_email=0, per_client=LINKS_PER_CLIENT)
        await sign_in.resend_from_expired(info.context, token)


async def request_link(info: Info, email: str, organization: str, purpose: LinkPurpose) -> None:
    """Email a sign-in (or password reset) link to a known, enabled portal viewer; answer
    identically, in about the same time, when the address is unknown."""
    checks = Checks()
    email = checks.email("email", email) or ""
    checks.done()
    async with at_least(EVEN_ANSWER_SECONDS):
        kind = "reset" if purpose is LinkPurpose.PASSWORD_RESET else "link"
        await limit(info, kind, None, per_email=0, per_client=LINKS_PER_CLIENT)
        # Per address: growing delays, which a stranger cannot turn into a lockout.
        await throttle.check(info, throttle.PORTAL_LINK, email)
        await throttle.failed(info, throttle.PORTAL_LINK, email)  # each request sends mail
        await sign_in.request_link(info.context, email, organization, purpose)


async def password_sign_in(info: Info, email: str, password: str, organization: str) -> SignedIn:
    ctx: Context = info.context
    checks = Checks()
    email = checks.email("email", email) or ""
    checks.done()
    password_failures = f"portal-password-failed:client:{ctx.client_ip or 'unknown'}"
    async with at_least(EVEN_ANSWER_SECONDS):
        # Failures per client across addresses, and growing delays per address.
        await refuse_when_spent(info, password_failures, PASSWORD_FAILURES_PER_CLIENT)
        await throttle.check(info, throttle.PORTAL_PASSWORD, email)
        try:
            done = await sign_in.password_sign_in(ctx, email, password, organization)
        except Rejected:
            done = None
    if done is None or done.session is None:
        await throttle.failed(info, throttle.PORTAL_PASSWORD, email)
        await limit_keys(info, [(password_failures, PASSWORD_FAILURES_PER_CLIENT)])
        raise Rejected(BAD_PASSWORD)
    await throttle.succeeded(info, throttle.PORTAL_PASSWORD, email)
    await _act_as(ctx, done.session)
    return done


async def set_password(info: Info, password: str) -> None:
    """A signed-in portal viewer chooses a password (organizations that use passwords)."""
    await sign_in.set_password(info.context, password)


async def reset_password(info: Info, token: str, password: str) -> SignedIn:
    """Use an emailed reset link once: new password, other sessions ended, signed in."""
    done = await sign_in.reset_password(info.context, token, password)
    if done.outcome is Redemption.OK and done.session is not None:
        await _act_as(info.context, done.session)
    return done


async def accounts(info: Info) -> list[Account]:
    """Every account the address this session proved may act for, in any organization; a
    staff preview shows the previewed account alone."""
    ctx: Context = info.context
    viewer = ctx.viewer
    if not viewer.is_portal or viewer.organization_id is None or viewer.customer_id is None:
        return []
    async with ctx.db.write() as session:  # a read: the request's writes are not involved
        return await sign_in.accounts(session, viewer)


@input_ids
async def switch_account(info: Info, account_gid: str) -> Person:
    """Act for another account of the same address from the next request on."""
    sign_in.may_switch(info.context.viewer)
    type_name, row_id = decode_id(account_gid)
    return await sign_in.switch_account(info.context, type_name, row_id)
