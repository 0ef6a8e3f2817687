"""Portal viewers sign in: magic links, passwords where allowed, and account switching."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from auth.passwords import hash_password, verify_password
from auth.portal import (
    Person,
    Redeemed,
    Redemption,
    accounts_of_address,
    issue_link,
    load_person,
    people_with_email,
    portal_enabled,
    redeem_link,
)
from auth.sessions import (
    IssuedSession,
    end_sessions_of,
    sessions,
    start_session,
    viewer_for_session,
)
from core.errors import Forbidden
from core.ids import decode_id
from core.timing import at_least
from domain.audit import audit, audit_person
from models import Contact, Customer, Organization, PortalSettings
from models.enums import ContactRole, LinkPurpose, PortalStatus, SessionKind, SignInMethod
from models.tables import organizations
from models.types import utcnow
from resolvers import throttle
from resolvers.outcome import Rejected, input_ids
from resolvers.portal_mail import send_link_email
from resolvers.rate_limits import limit, limit_keys, refuse_when_spent
from resolvers.validation import Checks, Problem

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.context import Context

log = logging.getLogger("portico.auth")

# Requests that must answer alike for known and unknown addresses take at least this long.
EVEN_ANSWER_SECONDS = 0.25
LINKS_PER_CLIENT = 20  # per hour, any address; per address: resolvers/throttle.py
PASSWORD_FAILURES_PER_CLIENT = 50  # per hour, any address
MIN_PASSWORD, MAX_PASSWORD = 10, 200


@dataclass(frozen=True)
class SignedIn:
    outcome: Redemption
    session: IssuedSession | None = None
    person: Person | None = None
    password_required: bool = False


async def _organization_id(session: AsyncSession, slug: str) -> uuid.UUID | None:
    found = await session.execute(
        sa.select(organizations.c.id).where(organizations.c.slug == slug.strip().lower())
    )
    return found.scalar()


async def _sign_in_method(session: AsyncSession, organization_id: uuid.UUID) -> SignInMethod:
    options = await session.get(PortalSettings, organization_id)
    return options.sign_in_method if options else SignInMethod.MAGIC_LINK


async def _row_of(session: AsyncSession, person: Person) -> Customer | Contact | None:
    if person.contact_id is not None:
        return await session.get(Contact, person.contact_id)
    return await session.get(Customer, person.customer_id)


async def _open_session(
    ctx: Context, session: AsyncSession, person: Person, proven: str
) -> IssuedSession:
    """A fresh session for a person who just proved `proven` is their address (by a link
    sent to it, or the password that belongs to it). The session names that address,
    never the record's editable `email`."""
    row = await _row_of(session, person)
    if row is not None:
        row.portal_email = proven
        if row.portal_status is not PortalStatus.ACTIVE:
            row.portal_status = PortalStatus.ACTIVE
            row.portal_activated_at = row.portal_activated_at or utcnow()
    issued = await start_session(
        session,
        kind=SessionKind.PORTAL,
        organization_id=person.organization_id,
        customer_id=person.customer_id,
        contact_id=person.contact_id,
        email=proven,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    session.add(audit_person(ctx, "portal.sign_in", person))
    # This client is known to the address now: others' failures never delay it.
    await throttle.remember_client(session, "portal", proven, ctx.client_ip)
    return issued


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
    ctx: Context = info.context
    async with ctx.write() as session:
        redeemed = await redeem_link(session, token, LinkPurpose.SIGN_IN)
        if redeemed.outcome is not Redemption.OK or redeemed.person is None:
            _audit_failure(ctx, session, redeemed)
            return SignedIn(outcome=redeemed.outcome)
        person = redeemed.person
        issued = await _open_session(ctx, session, person, redeemed.email or "")
        method = await _sign_in_method(session, person.organization_id)
        row = await _row_of(session, person)
        needs_password = method is SignInMethod.PASSWORD and not (row and row.portal_password_hash)
    await _act_as(ctx, issued)
    return SignedIn(Redemption.OK, issued, person, password_required=needs_password)


def _audit_failure(ctx: Context, session: AsyncSession, redeemed: Redeemed) -> None:
    person = redeemed.person
    if person is None:  # no link behind the token: nothing ties it to an organization
        log.info("portal sign-in refused: unknown link (client %s)", ctx.client_ip)
        return
    session.add(
        audit_person(ctx, "portal.sign_in_failed", person, data={"reason": redeemed.outcome.value})
    )


async def resend_from_expired(info: Info, token: str) -> None:
    """An expired link asks for a fresh one to the same address, which stays unsaid."""
    ctx: Context = info.context
    async with at_least(EVEN_ANSWER_SECONDS):
        await limit(info, "resend", None, per_email=0, per_client=LINKS_PER_CLIENT)
        async with ctx.write() as session:
            redeemed = await redeem_link(session, token, LinkPurpose.SIGN_IN)
            person = redeemed.person
            if redeemed.outcome is not Redemption.EXPIRED or person is None:
                return
            if not person.may_sign_in or not await portal_enabled(session, person.organization_id):
                return
            link = await issue_link(session, person, LinkPurpose.SIGN_IN)
            await send_link_email(session, ctx.settings, person, link, LinkPurpose.SIGN_IN)
            session.add(
                audit_person(ctx, "portal.link_requested", person, data={"after": "expired link"})
            )


async def request_link(info: Info, email: str, organization: str, purpose: LinkPurpose) -> None:
    """Email a sign-in (or password reset) link to a known, enabled portal viewer; answer
    identically, in about the same time, when the address is unknown."""
    ctx: Context = info.context
    checks = Checks()
    email = checks.email("email", email) or ""
    checks.done()
    async with at_least(EVEN_ANSWER_SECONDS):
        kind = "reset" if purpose is LinkPurpose.PASSWORD_RESET else "link"
        await limit(info, kind, None, per_email=0, per_client=LINKS_PER_CLIENT)
        # Per address: growing delays, which a stranger cannot turn into a lockout.
        await throttle.check(info, throttle.PORTAL_LINK, email)
        await throttle.failed(info, throttle.PORTAL_LINK, email)  # each request sends mail
        async with ctx.write() as session:
            org_id = await _organization_id(session, organization)
            if org_id is None or not await portal_enabled(session, org_id):
                return
            people = await people_with_email(session, email, org_id)
            if not people:
                return
            resetting = purpose is LinkPurpose.PASSWORD_RESET
            if resetting and await _sign_in_method(session, org_id) is not SignInMethod.PASSWORD:
                return
            person = people[0]  # one sign-in reaches the others through account switching
            link = await issue_link(session, person, purpose)
            await send_link_email(session, ctx.settings, person, link, purpose)
            session.add(
                audit(
                    ctx,
                    "portal.password_reset_requested"
                    if purpose is LinkPurpose.PASSWORD_RESET
                    else "portal.link_requested",
                    organization_id=org_id,
                    customer_id=person.customer_id,
                    contact_id=person.contact_id,
                )
            )


def _password(checks: Checks, password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        checks.fail(
            "password",
            f"Use {MIN_PASSWORD} to {MAX_PASSWORD} characters.",
            "INVALID",
        )
    return password


BAD_PASSWORD = Problem("password", "Email or password is wrong.", "INVALID_CREDENTIALS")


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
        async with ctx.write() as session:
            org_id = await _organization_id(session, organization)
            people = []
            if (
                org_id is not None
                and await portal_enabled(session, org_id)
                and await _sign_in_method(session, org_id) is SignInMethod.PASSWORD
            ):
                # The password belongs to the address it was set under (`portal_email`):
                # a record re-pointed at another address has no password until a link
                # sent to that address is redeemed.
                people = [
                    p
                    for p in await people_with_email(session, email, org_id)
                    if p.reachable_with(email)
                ]
            match = None
            for person in people or [None]:
                row = await _row_of(session, person) if person else None
                if verify_password(row.portal_password_hash if row else None, password):
                    match = person
                    break
            if match is None:
                if people:
                    session.add(
                        audit_person(
                            ctx, "portal.sign_in_failed", people[0], data={"reason": "password"}
                        )
                    )
                issued = None
            else:
                issued = await _open_session(ctx, session, match, email)
    if match is None or issued is None:
        await throttle.failed(info, throttle.PORTAL_PASSWORD, email)
        await limit_keys(info, [(password_failures, PASSWORD_FAILURES_PER_CLIENT)])
        raise Rejected(BAD_PASSWORD)
    await throttle.succeeded(info, throttle.PORTAL_PASSWORD, email)
    await _act_as(ctx, issued)
    return SignedIn(Redemption.OK, issued, match)


async def set_password(info: Info, password: str) -> None:
    """A signed-in portal viewer chooses a password (organizations that use passwords)."""
    ctx: Context = info.context
    viewer = ctx.viewer
    if not viewer.is_portal or viewer.preview or viewer.organization_id is None:
        raise Forbidden()
    checks = Checks()
    _password(checks, password)
    checks.done()
    async with ctx.write() as session:
        if await _sign_in_method(session, viewer.organization_id) is not SignInMethod.PASSWORD:
            raise Rejected(
                Problem("password", "This portal signs in with email links.", "PASSWORDS_OFF")
            )
        row: Customer | Contact | None
        if viewer.contact_id is not None:
            row = await session.get(Contact, viewer.contact_id)
        else:
            row = await session.get(Customer, viewer.customer_id)
        if row is None:
            raise Forbidden()
        row.portal_password_hash = hash_password(password)
        session.add(audit(ctx, "portal.password_changed", contact_id=viewer.contact_id))


async def reset_password(info: Info, token: str, password: str) -> SignedIn:
    """Use an emailed reset link once: new password, other sessions ended, signed in."""
    ctx: Context = info.context
    checks = Checks()
    _password(checks, password)
    checks.done()
    async with ctx.write() as session:
        redeemed = await redeem_link(session, token, LinkPurpose.PASSWORD_RESET)
        person = redeemed.person
        if redeemed.outcome is not Redemption.OK or person is None:
            _audit_failure(ctx, session, redeemed)
            return SignedIn(outcome=redeemed.outcome)
        row = await _row_of(session, person)
        if row is None:
            return SignedIn(outcome=Redemption.INVALID)
        row.portal_password_hash = hash_password(password)
        await end_sessions_of(session, person.customer_id, person.contact_id)
        session.add(audit_person(ctx, "portal.password_changed", person, data={"by": "reset link"}))
        issued = await _open_session(ctx, session, person, redeemed.email or "")
    await _act_as(ctx, issued)
    return SignedIn(Redemption.OK, issued, person)


@dataclass(frozen=True)
class Account:
    person: Person
    organization_name: str
    customer_name: str
    role: ContactRole | None


async def accounts(info: Info) -> list[Account]:
    """Every account the address this session proved may act for, in any organization; a
    staff preview shows the previewed account alone."""
    ctx: Context = info.context
    viewer = ctx.viewer
    if not viewer.is_portal or viewer.organization_id is None or viewer.customer_id is None:
        return []
    found = []
    async with ctx.db.write() as session:
        if viewer.preview:
            person = await load_person(
                session, viewer.organization_id, viewer.customer_id, viewer.contact_id
            )
            people = [person] if person is not None else []
        else:
            people = await accounts_of_address(session, viewer.email) if viewer.email else []
        for person in people:
            if not await portal_enabled(session, person.organization_id):
                continue
            org = await session.get(Organization, person.organization_id)
            customer = await session.get(Customer, person.customer_id)
            contact = await session.get(Contact, person.contact_id) if person.contact_id else None
            if org and customer:
                found.append(
                    Account(person, org.name, customer.name, contact.role if contact else None)
                )
    return found


@input_ids
async def switch_account(info: Info, account_gid: str) -> Person:
    """Act for another account of the same address from the next request on."""
    ctx: Context = info.context
    viewer = ctx.viewer
    if not viewer.is_portal or viewer.preview or not viewer.email or not viewer.session_id:
        raise Forbidden()
    type_name, row_id = decode_id(account_gid)
    async with ctx.write() as session:
        people = await accounts_of_address(session, viewer.email)
        target = next(
            (
                p
                for p in people
                if (p.contact_id if type_name == "Contact" else p.customer_id) == row_id
                and (type_name == "Contact") == (p.contact_id is not None)
            ),
            None,
        )
        if target is None or not await portal_enabled(session, target.organization_id):
            raise Rejected(Problem("accountId", "No such account for you.", "NOT_FOUND"))
        await session.execute(
            sa.update(sessions)
            .where(sessions.c.id == viewer.session_id)
            .values(
                organization_id=target.organization_id,
                customer_id=target.customer_id,
                contact_id=target.contact_id,
            )
        )
        session.add(audit_person(ctx, "portal.account_switched", target))
    return target
