"""Staff accounts from the API: IDs decoded, inputs checked, the sign-in rate limits and
throttles around the domain's actions (domain/staff/), and the request's viewer after a
sign-in by link."""

from __future__ import annotations

import uuid

from strawberry import Info

from auth.sessions import viewer_for_session
from core.ids import decode_id_of
from core.timing import at_least
from domain.organization.staff_sign_in import StaffSignedIn
from domain.staff import accounts, passwords
from domain.staff.codes import StaffCode
from domain.staff.notification_emails import set_emailed_kinds
from models.enums import NotificationKind, StaffRole
from resolvers import throttle
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rate_limits import limit, limit_session
from resolvers.validation import Checks

EVEN_ANSWER_SECONDS = 0.25  # a reset request answers alike, in about the same time
RESETS_PER_CLIENT = 20  # per hour, any address; per address: resolvers/throttle.py


def _staff_id(staff_user_gid: str) -> uuid.UUID:
    return decode_id_of("StaffUser", staff_user_gid)


@mutation_outcome
async def set_notification_emails(info: Info, kinds: list[NotificationKind]) -> uuid.UUID:
    return await set_emailed_kinds(info.context, kinds)


@mutation_outcome
async def invite(info: Info, email: str, name: str, role: StaffRole) -> uuid.UUID:
    checks = Checks()
    email = checks.email("email", email, required=True)
    name = checks.text("name", name, 200, required=True)
    checks.done()
    allowed = info.context.settings.invites_per_hour
    await limit_session(info, "staff-invite", per_session=allowed, per_client=allowed)
    return await accounts.invite_staff(info.context, email, name, role)


@mutation_outcome
async def resend_invite(info: Info, staff_user_gid: str) -> uuid.UUID:
    staff_id = _staff_id(staff_user_gid)
    allowed = info.context.settings.invites_per_hour
    await limit_session(info, "staff-invite", per_session=allowed, per_client=allowed)
    return await accounts.resend_invite(info.context, staff_id)


@mutation_outcome
async def cancel_invite(info: Info, staff_user_gid: str) -> uuid.UUID:
    return await accounts.cancel_invite(info.context, _staff_id(staff_user_gid))


@mutation_outcome
async def change_role(info: Info, staff_user_gid: str, role: StaffRole) -> uuid.UUID:
    return await accounts.change_role(info.context, _staff_id(staff_user_gid), role)


@mutation_outcome
async def deactivate(info: Info, staff_user_gid: str) -> uuid.UUID:
    return await accounts.deactivate_staff(info.context, _staff_id(staff_user_gid))


@mutation_outcome
async def reactivate(info: Info, staff_user_gid: str) -> uuid.UUID:
    return await accounts.reactivate_staff(info.context, _staff_id(staff_user_gid))


@mutation_outcome
async def send_password_reset(info: Info, staff_user_gid: str) -> uuid.UUID:
    staff_id = _staff_id(staff_user_gid)
    allowed = info.context.settings.invites_per_hour
    await limit_session(info, "staff-reset-sent", per_session=allowed, per_client=allowed)
    return await accounts.send_password_reset(info.context, staff_id)


@mutation_outcome
async def change_own_password(info: Info, current: str, new: str) -> uuid.UUID:
    """Wrong current passwords slow down further attempts (resolvers/throttle.py)."""
    person = str(info.context.viewer.staff_user_id)
    attempt = throttle.STAFF_CHANGE_PASSWORD
    await throttle.check(info, attempt, person)
    try:
        changed = await passwords.change_own_password(info.context, current, new)
    except Rejected as rejected:
        if any(p.code is StaffCode.WRONG_PASSWORD for p in rejected.problems):
            await throttle.failed(info, attempt, person)
        raise
    await throttle.succeeded(info, attempt, person)
    return changed


async def request_password_reset(info: Info, email: str, organization: str | None) -> None:
    """Email reset links to the address's active staff accounts; answer identically, in
    about the same time, whether there are any."""
    checks = Checks()
    email = checks.email("email", email) or ""
    checks.done()
    async with at_least(EVEN_ANSWER_SECONDS):
        await limit(info, "staff-reset", None, per_email=0, per_client=RESETS_PER_CLIENT)
        # Per address: growing delays, which a stranger cannot turn into a lockout.
        await throttle.check(info, throttle.STAFF_RESET, email)
        await throttle.failed(info, throttle.STAFF_RESET, email)  # each request sends mail
        await passwords.request_password_reset(info.context, email, organization)


async def _act_as(info: Info, done: StaffSignedIn) -> StaffSignedIn:
    """The rest of this request acts for whoever just signed in, decided exactly as the
    next request will decide it: from the session row."""
    ctx = info.context
    ctx.as_viewer(await viewer_for_session(ctx.reader, done.session.session_id))
    return done


async def accept_invite(info: Info, token: str, password: str) -> StaffSignedIn:
    return await _act_as(info, await passwords.accept_invite(info.context, token, password))


async def reset_password(info: Info, token: str, password: str) -> StaffSignedIn:
    return await _act_as(info, await passwords.reset_password(info.context, token, password))
