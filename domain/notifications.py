"""Telling people what happened: an in-app notification for a customer's portal, and one
for each active staff member (with an email for those who want one)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from mail.outbox import enqueue, one_line
from mail.templates import branded
from models import Notification, Organization
from models.enums import MailKind, NotificationKind
from models.tables import staff_users


def for_customer(
    org: Organization,
    customer_id: uuid.UUID,
    kind: NotificationKind,
    title: str,
    subject: Any,
    body: str | None = None,
) -> Notification:
    """An in-app notification for the customer's portal, about `subject` (a row)."""
    return Notification(
        organization_id=org.id,
        kind=kind,
        recipient_customer_id=customer_id,
        subject_type=type(subject).__name__,
        subject_id=subject.id,
        title=one_line(title)[:200],
        body=body,
    )


async def notify_staff(
    session: AsyncSession,
    org: Organization,
    kind: NotificationKind,
    title: str,
    body: str,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
) -> None:
    found = await session.execute(
        sa.select(
            staff_users.c.id,
            staff_users.c.email,
            staff_users.c.email_notifications,
            staff_users.c.quiet_email_kinds,
        ).where(staff_users.c.organization_id == org.id, staff_users.c.is_active.is_(True))
    )
    for staff_id, email, emails_on, quiet in found.all():
        wants_email = emails_on and kind.value not in (quiet or [])
        session.add(
            Notification(
                organization_id=org.id,
                kind=kind,
                recipient_staff_id=staff_id,
                subject_type=subject_type,
                subject_id=subject_id,
                title=title[:200],
                body=body,
            )
        )
        if wants_email:
            text, html = branded(org.model_dump(), subject=title, heading=title, paragraphs=[body])
            await enqueue(
                session,
                kind=MailKind.STAFF,
                to=email,
                subject=title[:300],
                text=text,
                html=html,
                organization_id=org.id,
            )
