"""A portal viewer's own record from the API: the input cleaned, the domain's action called
(domain/portal/profile.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry import Info

from domain.customers.preferences import Preferences
from domain.portal import profile, texts
from domain.portal.profile import EmailChanged, Profile, address_problems
from domain.portal.texts import TextChoices, TextSettings
from domain.problems import Common
from resolvers.customers import preferences
from resolvers.inputs import kept
from resolvers.rate_limits import limit
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.customers import CommunicationPreferencesInput
    from schema.mutations.profile import TextPreferencesInput, UpdateMyProfileInput

CHANGES_PER_EMAIL, CHANGES_PER_CLIENT = 5, 20


async def update_profile(info: Info, data: UpdateMyProfileInput) -> None:
    checks = Checks(creating=False)
    details = Profile(
        name=kept(checks.text("name", data.name, 200, required=True)),
        phone=kept(checks.phone("phone", data.phone)),
        address_line1=kept(checks.text("addressLine1", data.address_line1, 200)),
        address_line2=kept(checks.text("addressLine2", data.address_line2, 200)),
        city=kept(checks.text("city", data.city, 100)),
        region=kept(checks.text("region", data.region, 100)),
        postal_code=kept(checks.text("postalCode", data.postal_code, 20)),
        country=kept(checks.country("country", data.country)),
    )
    checks.problems.extend(address_problems(details, info.context))
    checks.done()
    await profile.update_profile(info.context, details)


async def update_preferences(info: Info, data: CommunicationPreferencesInput) -> dict[str, bool]:
    """Which kinds of email the viewer wants (omitted or null: kept); the new preferences."""
    wanted: Preferences = preferences(data)
    return await profile.update_preferences(info.context, wanted)


async def request_email_change(info: Info, new_email: str) -> None:
    """Email a confirmation link to the new address; nothing changes until it is used."""
    checks = Checks()
    email = checks.email("newEmail", new_email)
    if email is None:
        checks.fail("newEmail", "This field is required.", Common.REQUIRED)
    checks.done()
    await limit(
        info,
        "email_change",
        email,
        per_email=CHANGES_PER_EMAIL,
        per_client=CHANGES_PER_CLIENT,
    )
    await profile.request_email_change(info.context, email)


async def confirm_email_change(info: Info, token: str) -> EmailChanged:
    return await profile.confirm_email_change(info.context, token)


async def update_text_preferences(info: Info, data: TextPreferencesInput) -> TextSettings:
    """Which kinds of text the viewer gets (omitted or null: kept); their text settings."""
    choices = TextChoices(
        sign_in=kept(given(data.sign_in)),
        pay_links=kept(given(data.pay_links)),
        appointment_reminders=kept(given(data.appointment_reminders)),
        car_ready=kept(given(data.car_ready)),
    )
    return await texts.update_text_preferences(info.context, choices)


async def my_text_settings(info: Info) -> TextSettings | None:
    """The portal viewer's text settings; None for anyone else."""
    viewer = info.context.viewer
    if not viewer.is_portal:
        return None
    rows = await info.context.reader.rows(texts.my_text_settings_query(viewer))
    return texts.text_settings_of(rows[0]) if rows else None
