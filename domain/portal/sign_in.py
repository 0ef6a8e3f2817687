"""Portal viewers sign in: magic links, passwords where the business uses them, and
switching between the accounts of the address a session proved.

Who a person is, and which accounts an address reaches, is decided by auth/portal.py
alone; here are the steps around it: the session opened for the address just proven, the
links sent, the audit rows. Throttles and rate limits are the caller's (resolvers/).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

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
from auth.sessions import IssuedSession, end_sessions_of, start_session
from auth.viewer import Viewer
from core.errors import Forbidden
from domain.audit import audit, audit_person
from domain.known_clients import remember_client
from domain.portal.codes import PortalCode
from domain.portal.mail import send_link_email
from domain.problems import Common, Problem, Rejected
from domain.work import Actor, Work
from models import Contact, Customer, Organization, PortalSettings
from models.enums import ContactRole, LinkPurpose, PortalStatus, SessionKind, SignInMethod
from models.tables import auth_sessions as sessions
from models.tables import organizations
from models.types import utcnow

log = logging.getLogger("portico.auth")

MIN_PASSWORD, MAX_PASSWORD = 10, 200
BAD_PASSWORD = Problem("password", "Email or password is wrong.", PortalCode.INVALID_CREDENTIALS)


@dataclass(frozen=True)
class SignedIn:
    outcome: Redemption
    session: IssuedSession | None = None
    person: Person | None = None
    password_required: bool = False


def password_problem(password: str) -> Problem | None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        message = f"Use {MIN_PASSWORD} to {MAX_PASSWORD} characters."
        return Problem("password", message, Common.INVALID)
    return None


async def redeem_sign_in_link(work: Work, token: str) -> SignedIn:
    """Exchange a sign-in link for a session (the portal client POSTs the link's token)."""
    async with work.write() as session:
        redeemed = await redeem_link(session, token, LinkPurpose.SIGN_IN)
        if redeemed.outcome is not Redemption.OK or redeemed.person is None:
            _audit_failure(work, session, redeemed)
            return SignedIn(outcome=redeemed.outcome)
        person = redeemed.person
        issued = await _open_session(work, session, person, redeemed.email or "")
        method = await _sign_in_method(session, person.organization_id)
        row = await _row_of(session, person)
        needs_password = method is SignInMethod.PASSWORD and not (row and row.portal_password_hash)
    return SignedIn(Redemption.OK, issued, person, password_required=needs_password)


async def resend_from_expired(work: Work, token: str) -> None:
    """An expired link asks for a fresh one to the same address, which stays unsaid."""
    async with work.write() as session:
        redeemed = await redeem_link(session, token, LinkPurpose.SIGN_IN)
        person = redeemed.person
        if redeemed.outcome is not Redemption.EXPIRED or person is None:
            return
        if not person.may_sign_in or not await portal_enabled(session, person.organization_id):
            return
        link = await issue_link(session, person, LinkPurpose.SIGN_IN)
        await send_link_email(session, work.settings, person, link, LinkPurpose.SIGN_IN)
        session.add(
            audit_person(work, "portal.link_requested", person, data={"after": "expired link"})
        )


async def request_link(work: Work, email: str, organization: str, purpose: LinkPurpose) -> None:
    """Email a sign-in (or password reset) link to a known, enabled portal viewer; nothing
    when the address is unknown (the caller answers alike, in about the same time)."""
    async with work.write() as session:
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
        await send_link_email(session, work.settings, person, link, purpose)
        session.add(
            audit(
                work,
                "portal.password_reset_requested" if resetting else "portal.link_requested",
                organization_id=org_id,
                customer_id=person.customer_id,
                contact_id=person.contact_id,
            )
        )


async def password_sign_in(work: Work, email: str, password: str, organization: str) -> SignedIn:
    """A session for the address's password; refused with BAD_PASSWORD (the failure
    audited, when the address is known) whatever was wrong."""
    async with work.write() as session:
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
        candidates: list[Person | None] = [*people] or [None]  # the hash is always checked
        for person in candidates:
            row = await _row_of(session, person) if person else None
            if verify_password(row.portal_password_hash if row else None, password):
                match = person
                break
        if match is None:
            if people:
                session.add(
                    audit_person(
                        work, "portal.sign_in_failed", people[0], data={"reason": "password"}
                    )
                )
            issued = None
        else:
            issued = await _open_session(work, session, match, email)
    if match is None or issued is None:
        raise Rejected(BAD_PASSWORD)
    return SignedIn(Redemption.OK, issued, match)


async def set_password(work: Work, password: str) -> None:
    """A signed-in portal viewer chooses a password (organizations that use passwords)."""
    viewer = work.viewer
    if not viewer.is_portal or viewer.preview or viewer.organization_id is None:
        raise Forbidden()
    problem = password_problem(password)
    if problem is not None:
        raise Rejected(problem)
    async with work.write() as session:
        if await _sign_in_method(session, viewer.organization_id) is not SignInMethod.PASSWORD:
            message = "This portal signs in with email links."
            raise Rejected(Problem("password", message, PortalCode.PASSWORDS_OFF))
        row: Customer | Contact | None
        if viewer.contact_id is not None:
            row = await session.get(Contact, viewer.contact_id)
        else:
            row = await session.get(Customer, viewer.customer_id)
        if row is None:
            raise Forbidden()
        row.portal_password_hash = hash_password(password)
        session.add(audit(work, "portal.password_changed", contact_id=viewer.contact_id))


async def reset_password(work: Work, token: str, password: str) -> SignedIn:
    """Use an emailed reset link once: new password, other sessions ended, signed in."""
    problem = password_problem(password)
    if problem is not None:
        raise Rejected(problem)
    async with work.write() as session:
        redeemed = await redeem_link(session, token, LinkPurpose.PASSWORD_RESET)
        person = redeemed.person
        if redeemed.outcome is not Redemption.OK or person is None:
            _audit_failure(work, session, redeemed)
            return SignedIn(outcome=redeemed.outcome)
        row = await _row_of(session, person)
        if row is None:
            return SignedIn(outcome=Redemption.INVALID)
        row.portal_password_hash = hash_password(password)
        await end_sessions_of(session, person.customer_id, person.contact_id)
        data = {"by": "reset link"}
        session.add(audit_person(work, "portal.password_changed", person, data=data))
        issued = await _open_session(work, session, person, redeemed.email or "")
    return SignedIn(Redemption.OK, issued, person)


@dataclass(frozen=True)
class Account:
    person: Person
    organization_name: str
    customer_name: str
    role: ContactRole | None


async def accounts(session: AsyncSession, viewer: Viewer) -> list[Account]:
    """Every account the address this session proved may act for, in any organization; a
    staff preview shows the previewed account alone (read in the caller's session)."""
    if not viewer.is_portal or viewer.organization_id is None or viewer.customer_id is None:
        return []
    found = []
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


def may_switch(viewer: Viewer) -> None:
    """Only a portal session that proved an address switches (never a preview)."""
    if not viewer.is_portal or viewer.preview or not viewer.email or not viewer.session_id:
        raise Forbidden()


async def switch_account(work: Work, type_name: str, row_id: uuid.UUID) -> Person:
    """Act for another account of the same address (the customer or contact `row_id`) from
    the next request on."""
    viewer = work.viewer
    may_switch(viewer)
    assert viewer.email is not None  # may_switch
    async with work.write() as session:
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
            raise Rejected(Problem("accountId", "No such account for you.", Common.NOT_FOUND))
        await session.execute(
            sa.update(sessions)
            .where(sessions.c.id == viewer.session_id)
            .values(
                organization_id=target.organization_id,
                customer_id=target.customer_id,
                contact_id=target.contact_id,
            )
        )
        session.add(audit_person(work, "portal.account_switched", target))
    return target


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
    actor: Actor, session: AsyncSession, person: Person, proven: str
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
        ip=actor.client_ip,
        user_agent=actor.user_agent,
    )
    session.add(audit_person(actor, "portal.sign_in", person))
    # This client is known to the address now: others' failures never delay it.
    await remember_client(session, "portal", proven, actor.client_ip)
    return issued


def _audit_failure(actor: Actor, session: AsyncSession, redeemed: Redeemed) -> None:
    person = redeemed.person
    if person is None:  # no link behind the token: nothing ties it to an organization
        log.info("portal sign-in refused: unknown link (client %s)", actor.client_ip)
        return
    data = {"reason": redeemed.outcome.value}
    session.add(audit_person(actor, "portal.sign_in_failed", person, data=data))
