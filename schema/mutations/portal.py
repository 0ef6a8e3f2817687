"""Portal access for staff (invites, revocation, settings) and sign-in for portal viewers."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import owner_only, portal_only, staff_only
from auth.portal import Redemption
from auth.remember import remember
from models.enums import LinkPurpose
from resolvers import organization, portal_access, portal_settings, portal_sign_in
from resolvers.outcome import Outcome, Rejected
from resolvers.preview import start_preview
from resolvers.validation import Problem
from schema.common import INPUT
from schema.customers import Contact, Customer
from schema.enums import CheckOutEnd, SignInMethod
from schema.error_codes import user_errors
from schema.node import load_row
from schema.organization import Organization, PortalSettings, portal_settings_table
from schema.portal import LinkOutcome, PortalError, PortalErrorCode
from schema.viewer import Viewer

SAME_ANSWER = "If that address may sign in, an email is on its way."


def _errors(problems: list[Problem]) -> list[PortalError]:
    return user_errors(problems, PortalError, PortalErrorCode)


@strawberry.input(description="The person: a customer, or one of its contacts.")
class PortalPersonInput:
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer's global ID (for the customer themself)."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=None, description="The contact's global ID (for a contact)."
    )


@strawberry.type(description="The person whose portal access changed.")
class PortalAccessPayload:
    customer: Customer | None = strawberry.field(description="The customer (account).")
    contact: Contact | None = strawberry.field(description="The contact, when it was one.")
    user_errors: list[PortalError] = strawberry.field(description="Why nothing changed.")


async def _access_payload(
    info: Info, person: PortalPersonInput, outcome: Outcome
) -> PortalAccessPayload:
    if outcome.problems:
        return PortalAccessPayload(
            customer=None, contact=None, user_errors=_errors(outcome.problems)
        )
    contact = await load_row(info, "Contact", outcome.row_id) if person.contact_id else None
    customer_id = contact.row["customer_id"] if contact else outcome.row_id
    return PortalAccessPayload(
        customer=await load_row(info, "Customer", customer_id), contact=contact, user_errors=[]
    )


@strawberry.input(description="Portal settings to change; omitted settings keep their value.")
class PortalSettingsInput:
    enabled: bool | None = strawberry.field(default=UNSET, description="Portal open.")
    show_cars: bool | None = strawberry.field(default=UNSET, description="Cars section.")
    show_invoices: bool | None = strawberry.field(default=UNSET, description="Invoices.")
    show_estimates: bool | None = strawberry.field(default=UNSET, description="Estimates.")
    show_documents: bool | None = strawberry.field(default=UNSET, description="Documents.")
    show_appointments: bool | None = strawberry.field(default=UNSET, description="Schedule.")
    show_messages: bool | None = strawberry.field(default=UNSET, description="Messages.")
    show_profile: bool | None = strawberry.field(default=UNSET, description="Profile.")
    show_telematics: bool | None = strawberry.field(
        default=UNSET, description="Latest telematics readings of connected cars."
    )
    allow_online_payment: bool | None = strawberry.field(default=UNSET, description="Pay online.")
    allow_partial_payment: bool | None = strawberry.field(default=UNSET, description="Pay part.")
    minimum_partial_amount: int | None = strawberry.field(
        default=UNSET, description="Smallest partial payment, minor units."
    )
    allow_estimate_approval: bool | None = strawberry.field(
        default=UNSET, description="Approve or decline estimates."
    )
    allow_profile_updates: bool | None = strawberry.field(
        default=UNSET, description="Edit own profile."
    )
    allow_appointment_requests: bool | None = strawberry.field(
        default=UNSET, description="Ask for appointments."
    )
    auto_invite_with_first_bill: bool | None = strawberry.field(
        default=UNSET, description="Invite with the first invoice or estimate."
    )
    sign_in_method: SignInMethod | None = strawberry.field(
        default=UNSET, description="Magic link or password."
    )
    hosted_checkout: bool | None = strawberry.field(
        default=UNSET, description="Pay on Stripe's hosted page rather than in the portal."
    )
    allow_autopay: bool | None = strawberry.field(
        default=UNSET,
        description="Customers may turn on autopay: open invoices charged to their default "
        "card on the due date.",
    )
    allow_document_uploads: bool | None = strawberry.field(
        default=UNSET, description="Customers may upload their own papers (insurance card...)."
    )
    invoice_due_days: int | None = strawberry.field(
        default=UNSET, description="Payment terms in days, for invoices sent without a due date."
    )
    estimate_deposit_percent: Decimal | None = strawberry.field(
        default=UNSET, description="Deposit taken when an estimate is approved; 0 for none."
    )
    send_appointment_reminders: bool | None = strawberry.field(
        default=UNSET, description="Email appointment reminders to customers."
    )
    reminder_days_before: int | None = strawberry.field(
        default=UNSET,
        description="Days before the appointment's date a reminder goes, 0 to 14 (0: that day).",
    )
    reminder_hour: int | None = strawberry.field(
        default=UNSET, description="Hour of the day reminders go, 0 to 23, local time."
    )
    car_update_minutes: int | None = strawberry.field(
        default=UNSET,
        description="Minutes car updates are collected into one email, 0 to 1440.",
    )
    allow_appointment_changes: bool | None = strawberry.field(
        default=UNSET, description="Customers may cancel or move their own appointments."
    )
    appointment_change_cutoff_hours: int | None = strawberry.field(
        default=UNSET,
        description="Until how many hours before the start customers may, 0 to 720.",
    )


@strawberry.type(description="The organization's portal settings after the change.")
class PortalSettingsPayload:
    portal_settings: PortalSettings | None = strawberry.field(description="The settings.")
    user_errors: list[PortalError] = strawberry.field(description="Why nothing changed.")


async def _current_settings(info: Info) -> PortalSettings | None:
    rows = await info.context.reader.rows(
        portal_settings_table.select().where(
            portal_settings_table.c.organization_id == info.context.viewer.organization_id
        )
    )
    return PortalSettings.from_row(rows[0]) if rows else None


@strawberry.type
class PortalAccessMutations:
    @strawberry.mutation(
        description="Email a portal sign-in link to a customer, or to a contact with an email "
        "and portal access on. Sending again is a resend; earlier links stop working.",
        extensions=staff_only(),
    )
    async def send_portal_invite(
        self, info: Info, input: Annotated[PortalPersonInput, INPUT]
    ) -> PortalAccessPayload:
        outcome = await portal_access.send_invite(info, input.customer_id, input.contact_id)
        return await _access_payload(info, input, outcome)

    @strawberry.mutation(
        description="End a person's portal access: their sessions and links die at once.",
        extensions=staff_only(),
    )
    async def revoke_portal_access(
        self, info: Info, input: Annotated[PortalPersonInput, INPUT]
    ) -> PortalAccessPayload:
        outcome = await portal_access.set_access(
            info, input.customer_id, input.contact_id, revoked=True
        )
        return await _access_payload(info, input, outcome)

    @strawberry.mutation(
        description="Give revoked portal access back (send an invite for a new link).",
        extensions=staff_only(),
    )
    async def restore_portal_access(
        self, info: Info, input: Annotated[PortalPersonInput, INPUT]
    ) -> PortalAccessPayload:
        outcome = await portal_access.set_access(
            info, input.customer_id, input.contact_id, revoked=False
        )
        return await _access_payload(info, input, outcome)

    @strawberry.mutation(
        description="Change the portal settings (OWNER only).", extensions=owner_only()
    )
    async def update_portal_settings(
        self, info: Info, input: Annotated[PortalSettingsInput, INPUT]
    ) -> PortalSettingsPayload:
        outcome = await portal_settings.update(info, input)
        if outcome.problems:
            return PortalSettingsPayload(
                portal_settings=None, user_errors=_errors(outcome.problems)
            )
        return PortalSettingsPayload(portal_settings=await _current_settings(info), user_errors=[])


@strawberry.input(description="A token from a sign-in or reset link.")
class LinkTokenInput:
    token: str = strawberry.field(description="The `token` parameter of the link.")


@strawberry.input(description="Ask for an email with a link.")
class RequestLinkInput:
    email: str = strawberry.field(description="The address you were invited at.")
    organization: str = strawberry.field(description="The business's short name (slug).")


@strawberry.input(description="Portal sign-in with a password (where the business uses them).")
class PortalSignInInput:
    email: str = strawberry.field(description="Your email address.")
    password: str = strawberry.field(description="Your password.")
    organization: str = strawberry.field(description="The business's short name (slug).")


@strawberry.input(description="A new password.")
class SetPortalPasswordInput:
    password: str = strawberry.field(description="10 to 200 characters.")


@strawberry.input(description="A reset link's token and the new password.")
class ResetPasswordInput:
    token: str = strawberry.field(description="The `token` parameter of the reset link.")
    password: str = strawberry.field(description="10 to 200 characters.")


@strawberry.input(description="The account to act for.")
class SwitchAccountInput:
    account_id: strawberry.ID = strawberry.field(description="An `id` from `viewer.accounts`.")


@strawberry.type(description="The result of a portal sign-in.")
class PortalSignInPayload:
    outcome: LinkOutcome = strawberry.field(
        description="SIGNED_IN; EXPIRED (ask for a fresh link with `resendMagicLink`); INVALID."
    )
    token: str | None = strawberry.field(
        description="Session token for `Authorization: Bearer`; browsers also get a cookie."
    )
    expires_at: datetime | None = strawberry.field(description="Latest end of the session (UTC).")
    password_required: bool = strawberry.field(
        description="The business uses passwords and this person has none yet: ask for one "
        "and call `setPortalPassword`."
    )
    viewer: Viewer | None = strawberry.field(description="Who is now signed in.")
    user_errors: list[PortalError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="A request whose answer is the same whoever asks.")
class RequestLinkPayload:
    message: str = strawberry.field(description="What to tell the person.")
    user_errors: list[PortalError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of setting a password.")
class SetPortalPasswordPayload:
    password_set: bool = strawberry.field(description="The password was saved.")
    user_errors: list[PortalError] = strawberry.field(description="Why it was not.")


@strawberry.type(description="The account this session now acts for.")
class SwitchAccountPayload:
    viewer: Viewer | None = strawberry.field(description="The viewer, acting for the account.")
    user_errors: list[PortalError] = strawberry.field(description="Why nothing changed.")


def _signed_in(info: Info, done: "portal_sign_in.SignedIn") -> PortalSignInPayload:
    if done.outcome is not Redemption.OK or done.session is None:
        return PortalSignInPayload(
            outcome=LinkOutcome[done.outcome.value],
            token=None,
            expires_at=None,
            password_required=False,
            viewer=None,
            user_errors=[],
        )
    remember(info.context, done.session)
    return PortalSignInPayload(
        outcome=LinkOutcome.SIGNED_IN,
        token=done.session.token,
        expires_at=done.session.expires_at,
        password_required=done.password_required,
        viewer=Viewer(kind=info.context.viewer.kind),
        user_errors=[],
    )


def _refused(problems: list[Problem]) -> PortalSignInPayload:
    return PortalSignInPayload(
        outcome=LinkOutcome.INVALID,
        token=None,
        expires_at=None,
        password_required=False,
        viewer=None,
        user_errors=_errors(problems),
    )


@strawberry.type
class PortalSignInMutations:
    @strawberry.mutation(
        description="Sign in with the token of an emailed link. A link works once, for a "
        "limited time; an expired one can be exchanged for a fresh one with `resendMagicLink`."
    )
    async def redeem_magic_link(
        self, info: Info, input: Annotated[LinkTokenInput, INPUT]
    ) -> PortalSignInPayload:
        return _signed_in(info, await portal_sign_in.redeem(info, input.token))

    @strawberry.mutation(
        description="Send a fresh link to the address an expired link was sent to, without "
        "saying which address that is."
    )
    async def resend_magic_link(
        self, info: Info, input: Annotated[LinkTokenInput, INPUT]
    ) -> RequestLinkPayload:
        await portal_sign_in.resend_from_expired(info, input.token)
        return RequestLinkPayload(message=SAME_ANSWER, user_errors=[])

    @strawberry.mutation(
        description="Email a sign-in link. The answer is the same for unknown addresses."
    )
    async def request_portal_link(
        self, info: Info, input: Annotated[RequestLinkInput, INPUT]
    ) -> RequestLinkPayload:
        try:
            await portal_sign_in.request_link(
                info, input.email, input.organization, LinkPurpose.SIGN_IN
            )
        except Rejected as rejected:
            return RequestLinkPayload(message="", user_errors=_errors(rejected.problems))
        return RequestLinkPayload(message=SAME_ANSWER, user_errors=[])

    @strawberry.mutation(
        description="Sign in with email and password, where the business uses them."
    )
    async def portal_sign_in(
        self, info: Info, input: Annotated[PortalSignInInput, INPUT]
    ) -> PortalSignInPayload:
        try:
            done = await portal_sign_in.password_sign_in(
                info, input.email, input.password, input.organization
            )
        except Rejected as rejected:
            return _refused(rejected.problems)
        return _signed_in(info, done)

    @strawberry.mutation(
        description="Choose a password (businesses that use passwords).", extensions=portal_only()
    )
    async def set_portal_password(
        self, info: Info, input: Annotated[SetPortalPasswordInput, INPUT]
    ) -> SetPortalPasswordPayload:
        try:
            await portal_sign_in.set_password(info, input.password)
        except Rejected as rejected:
            return SetPortalPasswordPayload(
                password_set=False, user_errors=_errors(rejected.problems)
            )
        return SetPortalPasswordPayload(password_set=True, user_errors=[])

    @strawberry.mutation(
        description="Email a password-reset link. The answer is the same for unknown addresses."
    )
    async def request_password_reset(
        self, info: Info, input: Annotated[RequestLinkInput, INPUT]
    ) -> RequestLinkPayload:
        try:
            await portal_sign_in.request_link(
                info, input.email, input.organization, LinkPurpose.PASSWORD_RESET
            )
        except Rejected as rejected:
            return RequestLinkPayload(message="", user_errors=_errors(rejected.problems))
        return RequestLinkPayload(message=SAME_ANSWER, user_errors=[])

    @strawberry.mutation(description="Set a new password with a reset link, and sign in.")
    async def reset_password(
        self, info: Info, input: Annotated[ResetPasswordInput, INPUT]
    ) -> PortalSignInPayload:
        try:
            done = await portal_sign_in.reset_password(info, input.token, input.password)
        except Rejected as rejected:
            return _refused(rejected.problems)
        return _signed_in(info, done)

    @strawberry.mutation(
        description="Act for another account your address may see (see `viewer.accounts`).",
        extensions=portal_only(),
    )
    async def switch_portal_account(
        self, info: Info, input: Annotated[SwitchAccountInput, INPUT]
    ) -> SwitchAccountPayload:
        try:
            await portal_sign_in.switch_account(info, input.account_id)
        except Rejected as rejected:
            return SwitchAccountPayload(viewer=None, user_errors=_errors(rejected.problems))
        await portal_sign_in.reload_viewer(info.context)
        return SwitchAccountPayload(viewer=Viewer(kind=info.context.viewer.kind), user_errors=[])


@strawberry.input(description="The business's details and branding; omitted fields keep theirs.")
class OrganizationInput:
    name: str | None = strawberry.field(default=UNSET, description="Business name.")
    email: str | None = strawberry.field(default=UNSET, description="Contact email.")
    phone: str | None = strawberry.field(default=UNSET, description="Contact phone.")
    address: str | None = strawberry.field(default=UNSET, description="Postal address.")
    logo_url: str | None = strawberry.field(default=UNSET, description="https:// logo address.")
    brand_color: str | None = strawberry.field(default=UNSET, description="#rrggbb.")
    accent_color: str | None = strawberry.field(default=UNSET, description="#rrggbb.")
    timezone: str | None = strawberry.field(default=UNSET, description="IANA time zone.")
    currency: str | None = strawberry.field(default=UNSET, description="ISO 4217 code.")
    check_out_ends_subscriptions: CheckOutEnd | None = strawberry.field(
        default=UNSET,
        description="When a car checked out of storage stops being billed.",
    )


@strawberry.type(description="The organization after the change.")
class OrganizationPayload:
    organization: Organization | None = strawberry.field(description="The organization.")
    user_errors: list[PortalError] = strawberry.field(description="Why nothing changed.")


@strawberry.type
class OrganizationMutations:
    @strawberry.mutation(
        description="Change the business's details and branding (OWNER only).",
        extensions=owner_only(),
    )
    async def update_organization(
        self, info: Info, input: Annotated[OrganizationInput, INPUT]
    ) -> OrganizationPayload:
        outcome = await organization.update(info, input)
        if outcome.problems:
            return OrganizationPayload(organization=None, user_errors=_errors(outcome.problems))
        return OrganizationPayload(
            organization=await load_row(info, "Organization", outcome.row_id), user_errors=[]
        )


@strawberry.type(description="A session that shows the portal exactly as one person sees it.")
class PortalPreviewPayload:
    token: str | None = strawberry.field(
        description="Bearer token of the preview session: read-only, valid for an hour."
    )
    expires_at: datetime | None = strawberry.field(description="When the preview ends (UTC).")
    user_errors: list[PortalError] = strawberry.field(description="Why no preview started.")


@strawberry.type
class PortalPreviewMutations:
    @strawberry.mutation(
        description="Preview the portal as a customer or contact sees it. The preview refuses "
        "every mutation, is audited and is not counted in the customer's access log.",
        extensions=staff_only(),
    )
    async def start_portal_preview(
        self, info: Info, input: Annotated[PortalPersonInput, INPUT]
    ) -> PortalPreviewPayload:
        try:
            started = await start_preview(info, input.customer_id, input.contact_id)
        except Rejected as rejected:
            return PortalPreviewPayload(
                token=None, expires_at=None, user_errors=_errors(rejected.problems)
            )
        return PortalPreviewPayload(
            token=started.token, expires_at=started.expires_at, user_errors=[]
        )
