"""OWNERs and ADMINs manage their organization's staff: invite (by email, with a role),
resend or cancel an invite, change a role, deactivate and reactivate, send a password reset.

Only an OWNER makes, changes, deactivates or reactivates an OWNER, and the organization's
last active OWNER is never demoted or deactivated. A staff member of another organization
answers NOT_FOUND, like a missing one. Deactivating ends every session of the person at once
(and every preview they opened); their rows and history stay.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.viewer import Viewer
from core.errors import Forbidden, NotFound
from core.ids import encode_id
from domain.audit import audit
from domain.problems import Common, Problem, Rejected
from domain.staff.codes import StaffCode
from domain.staff.mail import send_staff_email
from domain.staff.tokens import issue_token, revoke_tokens
from domain.work import Work
from models import AuditEvent, StaffUser
from models.enums import StaffRole, StaffStatus, StaffTokenPurpose
from models.tables import auth_sessions as sessions
from models.tables import staff_tokens, staff_users
from models.types import utcnow
from models.writes import get_for_update

MANAGERS = (StaffRole.OWNER, StaffRole.ADMIN)
MAX_NAME = 200


def may_manage(viewer: Viewer) -> bool:
    """OWNERs and ADMINs manage staff; STAFF do not."""
    return viewer.is_staff and viewer.role in MANAGERS


def _require_manager(viewer: Viewer) -> uuid.UUID:
    if not may_manage(viewer) or viewer.organization_id is None:
        raise Forbidden("Only an owner or admin can manage staff.")
    return viewer.organization_id


def _owner_needed(field: str) -> Rejected:
    message = "Only an owner can make, change or deactivate an owner."
    return Rejected(Problem(field, message, StaffCode.OWNER_REQUIRED))


def _staff_audit(work: Work, action: str, user: StaffUser, **data: Any) -> AuditEvent:
    return audit(
        work,
        action,
        organization_id=user.organization_id,
        subject_type="StaffUser",
        subject_id=user.id,
        data={"staff_user_id": encode_id("StaffUser", user.id), "email": user.email, **data},
    )


async def _staff_row(
    session: AsyncSession, organization_id: uuid.UUID, staff_id: uuid.UUID
) -> StaffUser:
    """The staff member, locked for this transaction; NotFound outside the organization."""
    row = await get_for_update(session, StaffUser, organization_id, staff_id)
    if row is None:
        raise NotFound(row=("StaffUser", staff_id))
    return row


async def _managed_row(
    work: Work,
    session: AsyncSession,
    organization_id: uuid.UUID,
    staff_id: uuid.UUID,
    status: StaffStatus,
    refusal: tuple[str, StaffCode],
    *,
    owner_by_owner: bool = True,
) -> StaffUser:
    """The staff member a manager acts on, locked: it must be in `status` (else the
    refusal's message and code, on `staffUserId`), and an OWNER's account is acted on by
    an OWNER only (unless `owner_by_owner` is off)."""
    user = await _staff_row(session, organization_id, staff_id)
    if user.status is not status:
        raise Rejected(Problem("staffUserId", *refusal))
    if owner_by_owner and user.role is StaffRole.OWNER and not work.viewer.is_owner:
        raise _owner_needed("staffUserId")
    return user


async def _lock_owners(session: AsyncSession, organization_id: uuid.UUID) -> set[uuid.UUID]:
    """The organization's active OWNERs, locked, always first and in one order: two owners
    demoting or deactivating each other at once wait for one another (never deadlock), and
    the second sees what the first did."""
    owners = await session.execute(
        sa.select(staff_users.c.id)
        .where(
            staff_users.c.organization_id == organization_id,
            staff_users.c.role == StaffRole.OWNER,
            staff_users.c.status == StaffStatus.ACTIVE,
        )
        .order_by(staff_users.c.id)
        .with_for_update()
    )
    return set(owners.scalars().all())


def _keep_an_owner(owners: set[uuid.UUID], user: StaffUser, field: str) -> None:
    """Refuse when `user` is the organization's last active OWNER (`owners`: _lock_owners)."""
    if user.id in owners and len(owners) <= 1:
        message = "The organization's last active owner stays an active owner."
        raise Rejected(Problem(field, message, StaffCode.LAST_OWNER))


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise Rejected(Problem("name", "Give the person's name.", Common.REQUIRED))
    if len(name) > MAX_NAME:
        raise Rejected(Problem("name", f"At most {MAX_NAME} characters.", Common.TOO_LONG))
    return name


async def _send_invite(work: Work, session: AsyncSession, user: StaffUser) -> None:
    issued = await issue_token(
        session,
        organization_id=user.organization_id,
        staff_user_id=user.id,
        email=user.email,
        purpose=StaffTokenPurpose.INVITE,
        seconds=work.settings.staff_invite_days * 86_400,
    )
    inviter = None
    if work.viewer.staff_user_id is not None:
        actor = await session.get(StaffUser, work.viewer.staff_user_id)
        inviter = actor.name if actor else None
    await send_staff_email(
        session,
        work.settings,
        organization_id=user.organization_id,
        name=user.name,
        email=user.email,
        issued=issued,
        purpose=StaffTokenPurpose.INVITE,
        invited_by=inviter,
    )


async def invite_staff(work: Work, email: str, name: str, role: StaffRole) -> uuid.UUID:
    """A new staff member, INVITED: an email carries the link to choose a password."""
    org_id = _require_manager(work.viewer)
    if role is StaffRole.OWNER and not work.viewer.is_owner:
        raise _owner_needed("role")
    email = email.strip().lower()
    name = _clean_name(name)
    async with work.write() as session:
        taken = await session.execute(
            sa.select(staff_users.c.id).where(
                staff_users.c.organization_id == org_id, staff_users.c.email == email
            )
        )
        if taken.first() is not None:
            message = "Someone on your staff already has this address."
            raise Rejected(Problem("email", message, StaffCode.EMAIL_TAKEN))
        user = StaffUser(
            organization_id=org_id,
            name=name,
            email=email,
            role=role,
            status=StaffStatus.INVITED,
            is_active=False,
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:  # the same address invited at the same moment
            message = "Someone on your staff already has this address."
            raise Rejected(Problem("email", message, StaffCode.EMAIL_TAKEN)) from None
        await _send_invite(work, session, user)
        session.add(_staff_audit(work, "staff.invited", user, role=role.value))
    return user.id


async def resend_invite(work: Work, staff_id: uuid.UUID) -> uuid.UUID:
    """A new invite email; the earlier link stops working."""
    org_id = _require_manager(work.viewer)
    async with work.write() as session:
        refusal = ("This person has already accepted their invite.", StaffCode.NOT_INVITED)
        user = await _managed_row(work, session, org_id, staff_id, StaffStatus.INVITED, refusal)
        await _send_invite(work, session, user)
        user.updated_at = utcnow()
        session.add(_staff_audit(work, "staff.invite_resent", user))
    return user.id


async def cancel_invite(work: Work, staff_id: uuid.UUID) -> uuid.UUID:
    """Withdraw an invite nobody accepted yet: its link dies and the invited account goes
    (the audit keeps who it was)."""
    org_id = _require_manager(work.viewer)
    async with work.write() as session:
        refusal = (
            "This person has already accepted their invite: deactivate them instead.",
            StaffCode.NOT_INVITED,
        )
        user = await _managed_row(work, session, org_id, staff_id, StaffStatus.INVITED, refusal)
        session.add(_staff_audit(work, "staff.invite_cancelled", user))
        await session.execute(
            sa.delete(staff_tokens).where(staff_tokens.c.staff_user_id == user.id)
        )
        await session.execute(sa.delete(staff_users).where(staff_users.c.id == user.id))
        session.expunge(user)
    return staff_id


async def change_role(work: Work, staff_id: uuid.UUID, role: StaffRole) -> uuid.UUID:
    """A new role, in force from the person's next request."""
    org_id = _require_manager(work.viewer)
    async with work.write() as session:
        owners = await _lock_owners(session, org_id)
        user = await _staff_row(session, org_id, staff_id)
        if user.role is role:
            return user.id
        if StaffRole.OWNER in (user.role, role) and not work.viewer.is_owner:
            raise _owner_needed("role")
        _keep_an_owner(owners, user, "role")
        before = user.role
        user.role = role
        user.updated_at = utcnow()
        session.add(
            _staff_audit(work, "staff.role_changed", user, before=before.value, after=role.value)
        )
    return user.id


async def end_staff_sessions(
    session: AsyncSession, staff_id: uuid.UUID, keep: uuid.UUID | None = None
) -> None:
    """End every session of a staff member (and every portal preview they opened), but
    `keep`: their tokens are dead from the next request on."""
    person = sa.or_(
        sessions.c.staff_user_id == staff_id, sessions.c.previewed_by_staff_id == staff_id
    )
    kept = [sessions.c.id != keep] if keep is not None else []
    await session.execute(sa.delete(sessions).where(person, *kept))


async def deactivate_staff(work: Work, staff_id: uuid.UUID) -> uuid.UUID:
    """The person may no longer sign in; their sessions end at once, their history stays."""
    org_id = _require_manager(work.viewer)
    async with work.write() as session:
        owners = await _lock_owners(session, org_id)
        refusal = (
            "Only an active account can be deactivated (cancel an invite instead).",
            StaffCode.NOT_ACTIVE,
        )
        user = await _managed_row(work, session, org_id, staff_id, StaffStatus.ACTIVE, refusal)
        _keep_an_owner(owners, user, "staffUserId")
        user.status = StaffStatus.DEACTIVATED
        user.is_active = False
        user.updated_at = utcnow()
        await end_staff_sessions(session, user.id)
        await revoke_tokens(session, user.id)
        session.add(_staff_audit(work, "staff.deactivated", user))
    return user.id


async def reactivate_staff(work: Work, staff_id: uuid.UUID) -> uuid.UUID:
    """A deactivated person may sign in again (with their password, or a reset)."""
    org_id = _require_manager(work.viewer)
    async with work.write() as session:
        refusal = ("This account is not deactivated.", StaffCode.NOT_DEACTIVATED)
        user = await _managed_row(work, session, org_id, staff_id, StaffStatus.DEACTIVATED, refusal)
        user.status = StaffStatus.ACTIVE
        user.is_active = True
        user.updated_at = utcnow()
        session.add(_staff_audit(work, "staff.reactivated", user))
    return user.id


async def send_password_reset(work: Work, staff_id: uuid.UUID) -> uuid.UUID:
    """Email an active staff member a link to choose a new password (their current one
    keeps working until they do)."""
    org_id = _require_manager(work.viewer)
    async with work.write() as session:
        refusal = ("Only an active account can reset its password.", StaffCode.NOT_ACTIVE)
        user = await _managed_row(
            work, session, org_id, staff_id, StaffStatus.ACTIVE, refusal, owner_by_owner=False
        )
        await issue_reset(work, session, user)
        session.add(_staff_audit(work, "staff.password_reset_sent", user))
    return user.id


async def issue_reset(work: Work, session: AsyncSession, user: StaffUser) -> None:
    """A reset link for `user`, emailed; their earlier reset links die."""
    issued = await issue_token(
        session,
        organization_id=user.organization_id,
        staff_user_id=user.id,
        email=user.email,
        purpose=StaffTokenPurpose.PASSWORD_RESET,
        seconds=work.settings.staff_reset_minutes * 60,
    )
    await send_staff_email(
        session,
        work.settings,
        organization_id=user.organization_id,
        name=user.name,
        email=user.email,
        issued=issued,
        purpose=StaffTokenPurpose.PASSWORD_RESET,
    )
