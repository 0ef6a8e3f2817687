"""The emails of staff accounts: the invite, and the password reset. Both are kind
SIGN_IN: they answer something somebody did, so they always go, and only to that person.
Their links lead to the staff dashboard (`STAFF_URL`), which redeems the token with a POST
(`acceptStaffInvite`, `resetStaffPassword`)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.portal.mail import organization_row
from domain.staff.tokens import IssuedToken
from mail.outbox import enqueue, one_line
from mail.templates import branded
from models.enums import MailKind, StaffTokenPurpose

PAGES = {
    StaffTokenPurpose.INVITE: "accept-invite",
    StaffTokenPurpose.PASSWORD_RESET: "reset-password",
}


def staff_link(settings: Settings, purpose: StaffTokenPurpose, token: str) -> str:
    return f"{settings.staff_base}/{PAGES[purpose]}?{urlencode({'token': token})}"


async def send_staff_email(
    session: AsyncSession,
    settings: Settings,
    *,
    organization_id: uuid.UUID,
    name: str,
    email: str,
    issued: IssuedToken,
    purpose: StaffTokenPurpose,
    invited_by: str | None = None,
) -> None:
    """Queue the email carrying `issued`, in the caller's transaction."""
    org = await organization_row(session, organization_id)
    url = staff_link(settings, purpose, issued.token)
    org_name = one_line(str(org["name"]))
    if purpose is StaffTokenPurpose.INVITE:
        days = settings.staff_invite_days
        subject = f"You are invited to {org_name} on Portico"
        heading = f"Join {org_name}"
        by = f"{one_line(invited_by)} has" if invited_by else "You have been"
        paragraphs = [
            f"Hello {one_line(name)},",
            f"{by} invited you to the staff dashboard of {org_name}.",
            f"The button lets you choose your password and sign in. It works once and for "
            f"{days} days. If you did not expect this, ignore this email.",
        ]
        button = ("Choose my password", url)
    else:
        minutes = settings.staff_reset_minutes
        subject = f"Reset your {org_name} staff password"
        heading = "Reset your password"
        paragraphs = [
            f"Hello {one_line(name)},",
            f"Use the button below to choose a new password. The link works once and for "
            f"{minutes} minutes. If you did not ask for this, ignore this email: your "
            "password stays as it is.",
        ]
        button = ("Choose a new password", url)
    text, html = branded(
        org, subject=subject, heading=heading, paragraphs=paragraphs, button=button
    )
    await enqueue(
        session,
        kind=MailKind.SIGN_IN,
        to=email,
        subject=subject[:300],
        text=text,
        html=html,
        organization_id=organization_id,
    )
