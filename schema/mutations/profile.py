"""Portal viewers change their own profile, email preferences and email address."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import portal_action
from auth.portal import Redemption
from domain.portal.codes import ProfileCode
from domain.portal.texts import TextSettings
from domain.problems import Problem, Rejected
from resolvers import profile as actions
from schema.common import INPUT, UserError
from schema.customers import CommunicationPreferences, Contact, Customer
from schema.error_codes import code_field, error_codes, user_errors
from schema.mutations.customers import CommunicationPreferencesInput
from schema.node import load_row

ProfileErrorCode = error_codes(
    "ProfileErrorCode", ProfileCode, "Why a change to your own profile was refused."
)


@strawberry.type(description="A problem with a change to your own profile.")
class ProfileError(UserError):
    code: Enum = code_field(ProfileErrorCode)


def _errors(problems: list[Problem]) -> list[ProfileError]:
    return user_errors(problems, ProfileError, ProfileErrorCode)


@strawberry.input(description="Your details; omitted fields keep their value.")
class UpdateMyProfileInput:
    name: str | None = strawberry.field(default=UNSET, description="Your full name.")
    phone: str | None = strawberry.field(default=UNSET, description="Phone number.")
    address_line1: str | None = strawberry.field(
        default=UNSET, description="Street address (the customer account only)."
    )
    address_line2: str | None = strawberry.field(
        default=UNSET, description="Apartment, suite (the customer account only)."
    )
    city: str | None = strawberry.field(default=UNSET, description="City (customer only).")
    region: str | None = strawberry.field(default=UNSET, description="Region (customer only).")
    postal_code: str | None = strawberry.field(
        default=UNSET, description="Postal code (customer only)."
    )
    country: str | None = strawberry.field(
        default=UNSET, description="ISO alpha-2 country (customer only)."
    )


@strawberry.type(description="Your record after the change.")
class ProfilePayload:
    customer: Customer | None = strawberry.field(description="The account, when you are it.")
    contact: Contact | None = strawberry.field(description="Your contact record, for contacts.")
    user_errors: list[ProfileError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="Your email preferences after the change.")
class PreferencesPayload:
    communication_preferences: CommunicationPreferences | None = strawberry.field(
        description="Which kinds of email you now get."
    )
    user_errors: list[ProfileError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(
    description="Which kinds of news you also get by text (SMS), and where they go. Every "
    "kind is off until you turn it on; texts come in addition to the emails."
)
class TextPreferences:
    sign_in: bool = strawberry.field(description="Sign-in links you ask for.")
    pay_links: bool = strawberry.field(description="Invoices' pay links, and their reminders.")
    appointment_reminders: bool = strawberry.field(description="Appointment reminders.")
    car_ready: bool = strawberry.field(description="Your car is ready (a job was finished).")
    number: str | None = strawberry.field(
        description="The number texts go to (E.164): the one on your profile when you chose "
        "them; null if you chose none, or changed your number since (choose again)."
    )
    opted_out: bool = strawberry.field(
        description="You answered STOP from this number: no texts until you answer START."
    )

    @classmethod
    def of(cls, chosen: TextSettings) -> "TextPreferences":
        return cls(
            sign_in=chosen.sign_in,
            pay_links=chosen.pay_links,
            appointment_reminders=chosen.appointment_reminders,
            car_ready=chosen.car_ready,
            number=chosen.number,
            opted_out=chosen.opted_out,
        )


@strawberry.input(description="Kinds of text to turn on or off; omitted ones keep their value.")
class TextPreferencesInput:
    sign_in: bool | None = strawberry.field(default=UNSET, description="Sign-in links.")
    pay_links: bool | None = strawberry.field(default=UNSET, description="Pay links.")
    appointment_reminders: bool | None = strawberry.field(
        default=UNSET, description="Appointment reminders."
    )
    car_ready: bool | None = strawberry.field(default=UNSET, description="Car ready.")


@strawberry.type(description="Your text preferences after the change.")
class TextPreferencesPayload:
    text_preferences: TextPreferences | None = strawberry.field(
        description="Which kinds of text you now get."
    )
    user_errors: list[ProfileError] = strawberry.field(description="Why nothing changed.")


@strawberry.input(description="The address you want to use from now on.")
class RequestEmailChangeInput:
    new_email: str = strawberry.field(description="It gets a link that confirms the change.")


@strawberry.type(description="Whether a confirmation link is on its way to the new address.")
class RequestEmailChangePayload:
    sent: bool = strawberry.field(description="The email with the link was queued.")
    user_errors: list[ProfileError] = strawberry.field(description="Why it was not.")


@strawberry.input(description="The token of an email-change link.")
class ConfirmEmailChangeInput:
    token: str = strawberry.field(description="The `token` parameter of the link.")


@strawberry.enum(description="What became of an email-change link.")
class EmailChangeOutcome(Enum):
    CHANGED = "CHANGED"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"


EMAIL_CHANGE_OUTCOME = {
    Redemption.OK: EmailChangeOutcome.CHANGED,
    Redemption.EXPIRED: EmailChangeOutcome.EXPIRED,
    Redemption.INVALID: EmailChangeOutcome.INVALID,
}


@strawberry.type(description="The result of confirming a new email address.")
class ConfirmEmailChangePayload:
    outcome: EmailChangeOutcome = strawberry.field(
        description="CHANGED; EXPIRED (ask again from the portal); INVALID (used, replaced or "
        "unknown)."
    )
    email: str | None = strawberry.field(description="The address now in use, when CHANGED.")
    user_errors: list[ProfileError] = strawberry.field(description="Why nothing changed.")


async def _own_records(info: Info) -> ProfilePayload:
    viewer = info.context.viewer
    contact = await load_row(info, "Contact", viewer.contact_id)
    customer = None if contact else await load_row(info, "Customer", viewer.customer_id)
    return ProfilePayload(customer=customer, contact=contact, user_errors=[])


@strawberry.type
class ProfileMutations:
    @strawberry.mutation(
        description="Change your own name, phone or (for the customer account) address, where "
        "the business allows profile updates.",
        extensions=portal_action("profile"),
    )
    async def update_my_profile(
        self, info: Info, input: Annotated[UpdateMyProfileInput, INPUT]
    ) -> ProfilePayload:
        try:
            await actions.update_profile(info, input)
        except Rejected as rejected:
            return ProfilePayload(
                customer=None, contact=None, user_errors=_errors(rejected.problems)
            )
        return await _own_records(info)

    @strawberry.mutation(
        description="Choose which kinds of email you get. Sign-in links and receipts always come.",
        extensions=portal_action(),
    )
    async def update_my_preferences(
        self, info: Info, input: Annotated[CommunicationPreferencesInput, INPUT]
    ) -> PreferencesPayload:
        wanted = await actions.update_preferences(info, input)
        return PreferencesPayload(
            communication_preferences=CommunicationPreferences.of(wanted), user_errors=[]
        )

    @strawberry.mutation(
        description="Choose which kinds of news you also get by text (SMS) at the phone "
        "number of your profile. Turning one on needs a valid number there (NO_PHONE).",
        extensions=portal_action(),
    )
    async def update_my_text_preferences(
        self, info: Info, input: Annotated[TextPreferencesInput, INPUT]
    ) -> TextPreferencesPayload:
        try:
            chosen = await actions.update_text_preferences(info, input)
        except Rejected as rejected:
            return TextPreferencesPayload(
                text_preferences=None, user_errors=_errors(rejected.problems)
            )
        return TextPreferencesPayload(text_preferences=TextPreferences.of(chosen), user_errors=[])

    @strawberry.mutation(
        description="Ask to change your email address: a link goes to the new address, and "
        "nothing changes until it is used (`confirmEmailChange`).",
        extensions=portal_action("profile"),
    )
    async def request_email_change(
        self, info: Info, input: Annotated[RequestEmailChangeInput, INPUT]
    ) -> RequestEmailChangePayload:
        try:
            await actions.request_email_change(info, input.new_email)
        except Rejected as rejected:
            return RequestEmailChangePayload(sent=False, user_errors=_errors(rejected.problems))
        return RequestEmailChangePayload(sent=True, user_errors=[])

    @strawberry.mutation(
        description="Confirm a new email address with the link sent to it. A link works once; "
        "the old address is told of the change. The person's sessions and links end: they "
        "sign in again at the new address."
    )
    async def confirm_email_change(
        self, info: Info, input: Annotated[ConfirmEmailChangeInput, INPUT]
    ) -> ConfirmEmailChangePayload:
        try:
            done = await actions.confirm_email_change(info, input.token)
        except Rejected as rejected:
            return ConfirmEmailChangePayload(
                outcome=EmailChangeOutcome.INVALID,
                email=None,
                user_errors=_errors(rejected.problems),
            )
        return ConfirmEmailChangePayload(
            outcome=EMAIL_CHANGE_OUTCOME[done.outcome], email=done.email, user_errors=[]
        )
