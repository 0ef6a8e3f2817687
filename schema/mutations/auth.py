"""Signing in and out."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import Info

from auth.remember import remember
from domain.organization.codes import OrganizationCode
from domain.problems import Rejected
from resolvers import auth as actions
from schema.common import INPUT, UserError
from schema.error_codes import code_field, error_codes, user_errors
from schema.node import load_row
from schema.organization import StaffUser

AuthErrorCode = error_codes("AuthErrorCode", OrganizationCode, "Why signing in was refused.")


@strawberry.type(description="A problem with signing in.")
class AuthError(UserError):
    code: Enum = code_field(AuthErrorCode)


@strawberry.input(description="Staff credentials.")
class SignInInput:
    email: str = strawberry.field(description="Staff email address.")
    password: str = strawberry.field(description="Password.")
    organization: str | None = strawberry.field(
        default=None,
        description="Organization slug; needed only when the email works for several.",
    )


@strawberry.type(description="A new staff session.")
class SignInPayload:
    token: str | None = strawberry.field(
        description="Session token: send it as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the session ends at the latest; 7 idle days end it sooner."
    )
    staff_user: StaffUser | None = strawberry.field(description="Who signed in.")
    user_errors: list[AuthError] = strawberry.field(description="Why it failed.")


@strawberry.type(description="The result of signing out.")
class SignOutPayload:
    signed_out: bool = strawberry.field(
        description="A session was ended; false when the request carried none."
    )
    # Signing out is never refused today; the list is there so that every payload reads
    # the same way (README, "The API contract").
    user_errors: list[AuthError] = strawberry.field(
        description="Why signing out was refused: always empty today."
    )


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Sign in as staff with email and password.")
    async def sign_in(self, info: Info, input: Annotated[SignInInput, INPUT]) -> SignInPayload:
        try:
            done = await actions.sign_in(info, input.email, input.password, input.organization)
        except Rejected as rejected:
            errors = user_errors(rejected.problems, AuthError, AuthErrorCode)
            return SignInPayload(token=None, expires_at=None, staff_user=None, user_errors=errors)
        remember(info.context, done.session)
        return SignInPayload(
            token=done.session.token,
            expires_at=done.session.expires_at,
            staff_user=await load_row(info, "StaffUser", done.staff_user.id),
            user_errors=[],
        )

    @strawberry.mutation(description="End the current session at once.")
    async def sign_out(self, info: Info) -> SignOutPayload:
        return SignOutPayload(signed_out=await actions.sign_out(info), user_errors=[])
