"""Staff accounts: invites, roles, deactivation (OWNER and ADMIN), and staff passwords."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import staff_managers_only, staff_only
from auth.remember import remember
from domain.organization.staff_sign_in import StaffSignedIn
from domain.problems import Rejected
from domain.staff.codes import StaffCode
from resolvers import staff as actions
from resolvers.outcome import Outcome
from resolvers.validation import Problem
from schema.common import INPUT, UserError
from schema.enums import NotificationKind, StaffRole
from schema.error_codes import code_field, error_codes, user_errors
from schema.node import load_row
from schema.organization import StaffUser

StaffErrorCode = error_codes("StaffErrorCode", StaffCode, "Why a staff-account action was refused.")
SAME_ANSWER = "If that address belongs to an active staff account, an email is on its way."


@strawberry.type(description="A problem with a staff-account action.")
class StaffError(UserError):
    code: Enum = code_field(StaffErrorCode)


def _errors(problems: list[Problem]) -> list[StaffError]:
    return user_errors(problems, StaffError, StaffErrorCode)


@strawberry.input(description="Someone to invite to the staff.")
class InviteStaffInput:
    email: str = strawberry.field(description="Their email address: the invite goes there.")
    name: str = strawberry.field(description="Their full name.")
    role: StaffRole = strawberry.field(description="Their role; only an OWNER may invite an OWNER.")


@strawberry.input(description="A staff member of the organization.")
class StaffUserInput:
    staff_user_id: strawberry.ID = strawberry.field(description="The staff member's global ID.")


@strawberry.input(description="A staff member and their new role.")
class ChangeStaffRoleInput:
    staff_user_id: strawberry.ID = strawberry.field(description="The staff member's global ID.")
    role: StaffRole = strawberry.field(
        description="The new role; only an OWNER makes or changes an OWNER."
    )


@strawberry.type(description="The staff member after the change.")
class StaffUserPayload:
    staff_user: StaffUser | None = strawberry.field(description="The staff member.")
    user_errors: list[StaffError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="The invite that was withdrawn.")
class CancelStaffInvitePayload:
    cancelled_staff_user_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the invited account, which no longer exists."
    )
    user_errors: list[StaffError] = strawberry.field(description="Why nothing changed.")


@strawberry.input(description="A link's token and the password to choose.")
class StaffLinkPasswordInput:
    token: str = strawberry.field(description="The token from the emailed link.")
    password: str = strawberry.field(description="The new password: 10 to 200 characters.")


@strawberry.type(description="A staff member signed in by an emailed link.")
class StaffLinkPayload:
    token: str | None = strawberry.field(
        description="Session token: send it as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the session ends at the latest; 7 idle days end it sooner."
    )
    staff_user: StaffUser | None = strawberry.field(description="Who signed in.")
    user_errors: list[StaffError] = strawberry.field(description="Why it failed.")


@strawberry.input(description="An address that forgot its staff password.")
class RequestStaffPasswordResetInput:
    email: str = strawberry.field(description="The staff sign-in address.")
    organization: str | None = strawberry.field(
        default=None,
        description="Organization slug; without it every active account of the address "
        "gets a link.",
    )


@strawberry.type(description="The same answer whether or not the address is known.")
class RequestStaffPasswordResetPayload:
    message: str = strawberry.field(description="What happens next.")
    user_errors: list[StaffError] = strawberry.field(
        description="Only for an input that is not an email address."
    )


@strawberry.input(description="Which in-app notifications you also get by email.")
class NotificationEmailsInput:
    kinds: list[NotificationKind] = strawberry.field(
        description="The kinds to email; the others stay in the app only. Empty: no emails."
    )


@strawberry.input(description="The current password and the new one.")
class ChangeMyPasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(description="The new password: 10 to 200 characters.")


async def _staff_payload(info: Info, outcome: Outcome) -> StaffUserPayload:
    if outcome.problems:
        return StaffUserPayload(staff_user=None, user_errors=_errors(outcome.problems))
    return StaffUserPayload(
        staff_user=await load_row(info, "StaffUser", outcome.row_id), user_errors=[]
    )


async def _link_payload(info: Info, done: StaffSignedIn) -> StaffLinkPayload:
    remember(info.context, done.session)
    return StaffLinkPayload(
        token=done.session.token,
        expires_at=done.session.expires_at,
        staff_user=await load_row(info, "StaffUser", done.staff_user.id),
        user_errors=[],
    )


def _link_refused(rejected: Rejected) -> StaffLinkPayload:
    return StaffLinkPayload(
        token=None, expires_at=None, staff_user=None, user_errors=_errors(rejected.problems)
    )


@strawberry.type
class StaffMutations:
    @strawberry.mutation(
        description="Invite someone to the staff (OWNER or ADMIN; only an OWNER invites an "
        "OWNER). The email's link lets them choose a password and sign in; it works once "
        "and for `STAFF_INVITE_DAYS`.",
        extensions=staff_managers_only(),
    )
    async def invite_staff(
        self, info: Info, input: Annotated[InviteStaffInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.invite(info, input.email, input.name, input.role)
        return await _staff_payload(info, outcome)

    @strawberry.mutation(
        description="Send an invite again; the earlier link stops working (OWNER or ADMIN).",
        extensions=staff_managers_only(),
    )
    async def resend_staff_invite(
        self, info: Info, input: Annotated[StaffUserInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.resend_invite(info, input.staff_user_id)
        return await _staff_payload(info, outcome)

    @strawberry.mutation(
        description="Withdraw an invite nobody accepted yet: its link dies and the invited "
        "account goes (OWNER or ADMIN).",
        extensions=staff_managers_only(),
    )
    async def cancel_staff_invite(
        self, info: Info, input: Annotated[StaffUserInput, INPUT]
    ) -> CancelStaffInvitePayload:
        outcome = await actions.cancel_invite(info, input.staff_user_id)
        if outcome.problems:
            return CancelStaffInvitePayload(
                cancelled_staff_user_id=None, user_errors=_errors(outcome.problems)
            )
        return CancelStaffInvitePayload(cancelled_staff_user_id=input.staff_user_id, user_errors=[])

    @strawberry.mutation(
        description="Change a staff member's role (OWNER or ADMIN; only an OWNER makes or "
        "changes an OWNER, and the last active OWNER stays one).",
        extensions=staff_managers_only(),
    )
    async def change_staff_role(
        self, info: Info, input: Annotated[ChangeStaffRoleInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.change_role(info, input.staff_user_id, input.role)
        return await _staff_payload(info, outcome)

    @strawberry.mutation(
        description="Deactivate a staff member: every session of theirs ends at once and "
        "sign-in is refused; their history stays (OWNER or ADMIN; never the last active "
        "OWNER).",
        extensions=staff_managers_only(),
    )
    async def deactivate_staff(
        self, info: Info, input: Annotated[StaffUserInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.deactivate(info, input.staff_user_id)
        return await _staff_payload(info, outcome)

    @strawberry.mutation(
        description="Let a deactivated staff member sign in again (OWNER or ADMIN).",
        extensions=staff_managers_only(),
    )
    async def reactivate_staff(
        self, info: Info, input: Annotated[StaffUserInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.reactivate(info, input.staff_user_id)
        return await _staff_payload(info, outcome)

    @strawberry.mutation(
        description="Email an active staff member a link to choose a new password "
        "(OWNER or ADMIN).",
        extensions=staff_managers_only(),
    )
    async def send_staff_password_reset(
        self, info: Info, input: Annotated[StaffUserInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.send_password_reset(info, input.staff_user_id)
        return await _staff_payload(info, outcome)

    @strawberry.mutation(
        description="Accept a staff invite: choose a password with the emailed link's token "
        "and sign in. The link works once."
    )
    async def accept_staff_invite(
        self, info: Info, input: Annotated[StaffLinkPasswordInput, INPUT]
    ) -> StaffLinkPayload:
        try:
            done = await actions.accept_invite(info, input.token, input.password)
        except Rejected as rejected:
            return _link_refused(rejected)
        return await _link_payload(info, done)

    @strawberry.mutation(
        description="Email a password-reset link to a staff address. The answer is the same "
        "whether or not the address has an account."
    )
    async def request_staff_password_reset(
        self, info: Info, input: Annotated[RequestStaffPasswordResetInput, INPUT]
    ) -> RequestStaffPasswordResetPayload:
        try:
            await actions.request_password_reset(info, input.email, input.organization)
        except Rejected as rejected:
            return RequestStaffPasswordResetPayload(
                message=SAME_ANSWER, user_errors=_errors(rejected.problems)
            )
        return RequestStaffPasswordResetPayload(message=SAME_ANSWER, user_errors=[])

    @strawberry.mutation(
        description="Choose a new staff password with a reset link's token: every other "
        "session of the person ends, and a new one starts. The link works once."
    )
    async def reset_staff_password(
        self, info: Info, input: Annotated[StaffLinkPasswordInput, INPUT]
    ) -> StaffLinkPayload:
        try:
            done = await actions.reset_password(info, input.token, input.password)
        except Rejected as rejected:
            return _link_refused(rejected)
        return await _link_payload(info, done)

    @strawberry.mutation(
        description="Choose which of your in-app notifications are also emailed to you.",
        extensions=staff_only(),
    )
    async def update_my_notification_emails(
        self, info: Info, input: Annotated[NotificationEmailsInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.set_notification_emails(info, input.kinds)
        return await _staff_payload(info, outcome)

    @strawberry.mutation(
        description="Change your own staff password, giving the current one; your other "
        "sessions end, this one stays.",
        extensions=staff_only(),
    )
    async def change_my_password(
        self, info: Info, input: Annotated[ChangeMyPasswordInput, INPUT]
    ) -> StaffUserPayload:
        outcome = await actions.change_own_password(
            info, input.current_password, input.new_password
        )
        return await _staff_payload(info, outcome)
