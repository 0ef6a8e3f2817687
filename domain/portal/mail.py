"""The emails of portal access: invites, sign-in links, password resets, address changes.

All of them are kind SIGN_IN: they answer something the person did, so they always go,
and only to that person."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.portal import IssuedLink, Person, link_url
from core.settings import Settings
from mail.outbox import enqueue
from mail.templates import branded
from mail.texts import text_addressee, text_people
from models.enums import LinkPurpose, MailKind, TextKind
from models.tables import organizations


async def organization_row(session: AsyncSession, organization_id: uuid.UUID) -> Any:
    found = await session.execute(
        sa.select(organizations).where(organizations.c.id == organization_id)
    )
    return found.mappings().one()


async def send_link_email(
    session: AsyncSession,
    settings: Settings,
    person: Person,
    link: IssuedLink,
    purpose: LinkPurpose,
    *,
    invite: bool = False,
) -> None:
    """Queue the email carrying `link`, in the caller's transaction."""
    org = await organization_row(session, person.organization_id)
    url = link_url(settings, purpose, link.token)
    minutes = settings.magic_link_minutes
    if purpose is LinkPurpose.PASSWORD_RESET:
        subject = f"Reset your {org['name']} portal password"
        heading = "Reset your password"
        paragraphs = [
            f"Hello {person.name},",
            f"Use the button below to choose a new password. The link works once and for "
            f"{minutes} minutes. If you did not ask for this, ignore this email.",
        ]
        button = ("Choose a new password", url)
    elif invite:
        subject = f"Your customer portal at {org['name']}"
        heading = f"Welcome to {org['name']}"
        paragraphs = [
            f"Hello {person.name},",
            f"{org['name']} has opened a customer portal for you: your cars, invoices, "
            "documents and schedule in one place, without a password to remember.",
            f"The button signs you in. It works once and for {minutes} minutes; you can "
            "always ask for a new link on the sign-in page.",
            "After signing in you will find any onboarding steps your facility has set up: "
            f"{settings.portal_base}/onboarding",
        ]
        button = ("Open my portal", url)
    else:
        subject = f"Your sign-in link for {org['name']}"
        heading = "Sign in to your portal"
        paragraphs = [
            f"Hello {person.name},",
            f"The button signs you in. It works once and for {minutes} minutes.",
            "If you did not ask for this, ignore this email: nobody can sign in without it.",
        ]
        button = ("Sign in", url)
    text, html = branded(
        org, subject=subject, heading=heading, paragraphs=paragraphs, button=button
    )
    await enqueue(
        session,
        kind=MailKind.SIGN_IN,
        to=person.email or "",
        subject=subject,
        text=text,
        html=html,
        organization_id=person.organization_id,
        magic_link_id=link.link_id,
    )
    if purpose is LinkPurpose.SIGN_IN and not invite:
        await _text_sign_in_link(session, settings, person, org, url, link)


async def _text_sign_in_link(
    session: AsyncSession,
    settings: Settings,
    person: Person,
    org: Any,
    url: str,
    link: IssuedLink,
) -> None:
    """The same link by text too, where the person chose it: one single-use link, so
    whichever copy is used first spends both (the email still goes: a phone that cannot be
    reached must never lock anyone out)."""
    to = await text_addressee(session, person.customer_id, person.contact_id, TextKind.SIGN_IN)
    if to is None:
        return
    minutes = settings.magic_link_minutes
    body = f"{org['name']}: your sign-in link works once, for {minutes} minutes: {url}"
    await text_people(
        session,
        settings,
        person.organization_id,
        [to],
        MailKind.SIGN_IN,
        "Sign-in link",
        body,
        magic_link_id=link.link_id,
    )


async def send_email_change_link(
    session: AsyncSession, settings: Settings, person: Person, new_email: str, link: IssuedLink
) -> None:
    """The link that proves the person reads `new_email`: sent there, and only there."""
    org = await organization_row(session, person.organization_id)
    minutes = settings.magic_link_minutes
    subject = f"Confirm your new email address for {org['name']}"
    text, html = branded(
        org,
        subject=subject,
        heading="Confirm your new address",
        paragraphs=[
            f"Hello {person.name},",
            f"You asked to use this address for your {org['name']} customer portal. The "
            f"button confirms it; it works once and for {minutes} minutes.",
            "If you did not ask for this, ignore this email: nothing changes without it.",
        ],
        button=("Confirm this address", link_url(settings, LinkPurpose.EMAIL_CHANGE, link.token)),
    )
    await enqueue(
        session,
        kind=MailKind.SIGN_IN,
        to=new_email,
        subject=subject,
        text=text,
        html=html,
        organization_id=person.organization_id,
        magic_link_id=link.link_id,
    )


async def send_email_changed_notice(
    session: AsyncSession, person: Person, old_email: str, new_email: str
) -> None:
    """Tell the old address that the portal now uses another one, so a change the person
    did not make does not go unnoticed."""
    org = await organization_row(session, person.organization_id)
    subject = f"Your email address for {org['name']} was changed"
    text, html = branded(
        org,
        subject=subject,
        heading="Your email address was changed",
        paragraphs=[
            f"Hello {person.name},",
            f"Your {org['name']} customer portal now uses {new_email} instead of this "
            "address. Sign-in links and emails go there from now on.",
            f"If you did not make this change, contact {org['name']} straight away.",
        ],
    )
    await enqueue(
        session,
        kind=MailKind.SIGN_IN,
        to=old_email,
        subject=subject,
        text=text,
        html=html,
        organization_id=person.organization_id,
    )
