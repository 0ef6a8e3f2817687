"""Staff passwords: chosen from an invite's link, reset by an emailed link, changed by
their owner. Passwords follow the same rules as everywhere in Portico (10 to 200
characters) and are stored as argon2id hashes. Throttles and rate limits are the caller's
(resolvers/staff.py)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.passwords import hash_password, verify_password
from auth.portal import Redemption
from auth.sessions import start_session
from core.errors import Forbidden
from core.ids import encode_id
from domain.audit import audit
from domain.organization.staff_sign_in import StaffSignedIn
from domain.portal.sign_in import password_problem
from domain.problems import Problem, Rejected
from domain.staff.accounts import end_staff_sessions, issue_reset
from domain.staff.codes import StaffCode
from domain.staff.tokens import redeem_token
from domain.work import Actor, Work
from models import AuditEvent, StaffUser
from models.enums import ActorKind, SessionKind, StaffStatus, StaffTokenPurpose
from models.tables import organizations, staff_users
from models.types import utcnow

log = logging.getLogger("portico.auth")

MAX_RESETS_PER_ADDRESS = 5  # accounts one address may hold across organizations


def _password(password: str, field: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise Rejected(Problem(field, problem.message, problem.code))


def _as_staff(actor: Actor, user: StaffUser, action: str, **data: Any) -> AuditEvent:
    """An audit row acted by `user` themself (the request carried no session yet)."""
    row = audit(
        actor,
        action,
        organization_id=user.organization_id,
        subject_type="StaffUser",
        subject_id=user.id,
        data={"staff_user_id": encode_id("StaffUser", user.id), **data},
    )
    row.actor_kind = ActorKind.STAFF
    row.actor_staff_id = user.id
    return row


def _refused(outcome: Redemption) -> Rejected:
    if outcome is Redemption.EXPIRED:
        message = "This link has expired: ask for a new one."
        return Rejected(Problem("token", message, StaffCode.LINK_EXPIRED))
    message = "This link is not valid: it was used, replaced or withdrawn."
    return Rejected(Problem("token", message, StaffCode.LINK_INVALID))


async def _redeemed_user(
    session: AsyncSession, token: str, purpose: StaffTokenPurpose, status: StaffStatus
) -> StaffUser:
    """The staff member a token was issued for, its one use spent (undone if the caller
    refuses afterwards: the transaction rolls back)."""
    redeemed = await redeem_token(session, token, purpose)
    if redeemed.outcome is not Redemption.OK or redeemed.staff_user_id is None:
        log.info("staff %s link refused: %s", purpose.value.lower(), redeemed.outcome.value)
        raise _refused(redeemed.outcome)
    user = (
        await session.execute(
            sa.select(StaffUser)
            .where(
                staff_users.c.id == redeemed.staff_user_id,
                staff_users.c.organization_id == redeemed.organization_id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    # The token works only for the person, at the address, and in the state it was sent for.
    if user is None or user.status is not status or user.email != redeemed.email:
        raise _refused(Redemption.INVALID)
    return user


async def _open_session(work: Work, session: AsyncSession, user: StaffUser) -> StaffSignedIn:
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


async def accept_invite(work: Work, token: str, password: str) -> StaffSignedIn:
    """Use an invite's link once: the person chooses their password, becomes ACTIVE and is
    signed in."""
    _password(password, "password")
    async with work.write() as session:
        user = await _redeemed_user(session, token, StaffTokenPurpose.INVITE, StaffStatus.INVITED)
        user.password_hash = hash_password(password)
        user.status = StaffStatus.ACTIVE
        user.is_active = True
        user.updated_at = utcnow()
        session.add(_as_staff(work, user, "staff.invite_accepted"))
        signed_in = await _open_session(work, session, user)
    return signed_in


async def request_password_reset(work: Work, email: str, organization: str | None) -> None:
    """Email a reset link to every active staff account of this address (in the named
    organization, if one is named); nothing when there is none. The caller answers alike
    either way."""
    email = email.strip().lower()
    async with work.write() as session:
        stmt = sa.select(StaffUser).where(
            staff_users.c.email == email, staff_users.c.status == StaffStatus.ACTIVE
        )
        if organization:
            stmt = stmt.join(
                organizations, organizations.c.id == staff_users.c.organization_id
            ).where(organizations.c.slug == organization.strip().lower())
        users = (await session.execute(stmt.limit(MAX_RESETS_PER_ADDRESS))).scalars().all()
        for user in users:
            await issue_reset(work, session, user)
            # Not acted by the person, nor by a signed-in viewer of any organization:
            # whoever asked only named the address.
            row = audit(
                work,
                "staff.password_reset_requested",
                organization_id=user.organization_id,
                subject_type="StaffUser",
                subject_id=user.id,
                data={"staff_user_id": encode_id("StaffUser", user.id)},
            )
            row.actor_kind, row.actor_staff_id = ActorKind.SYSTEM, None
            session.add(row)


async def reset_password(work: Work, token: str, password: str) -> StaffSignedIn:
    """Use a reset link once: a new password, every other session of the person ended,
    and a new one opened."""
    _password(password, "password")
    async with work.write() as session:
        user = await _redeemed_user(
            session, token, StaffTokenPurpose.PASSWORD_RESET, StaffStatus.ACTIVE
        )
        user.password_hash = hash_password(password)
        user.updated_at = utcnow()
        await end_staff_sessions(session, user.id)
        session.add(_as_staff(work, user, "staff.password_changed", by="reset link"))
        signed_in = await _open_session(work, session, user)
    return signed_in


async def change_own_password(work: Work, current: str, new: str) -> uuid.UUID:
    """The signed-in staff member changes their password, giving the current one; their
    other sessions end (this one stays)."""
    viewer = work.viewer
    if not viewer.is_staff or viewer.staff_user_id is None or viewer.organization_id is None:
        raise Forbidden()
    _password(new, "newPassword")
    async with work.write() as session:
        user = await session.get(StaffUser, viewer.staff_user_id, with_for_update=True)
        if user is None or user.organization_id != viewer.organization_id:
            raise Forbidden()
        if not verify_password(user.password_hash, current):
            message = "The current password is wrong."
            raise Rejected(Problem("currentPassword", message, StaffCode.WRONG_PASSWORD))
        user.password_hash = hash_password(new)
        user.updated_at = utcnow()
        await end_staff_sessions(session, user.id, keep=viewer.session_id)
        session.add(_as_staff(work, user, "staff.password_changed", by="own request"))
    return user.id
