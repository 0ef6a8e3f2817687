"""Telling staff what happened: a Notification each, and an email for those who want one."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from mail.outbox import enqueue
from mail.templates import branded
from models import Notification, Organization, StaffUser
from models.enums import MailKind, NotificationKind

staff_users: sa.Table = StaffUser.__table__  # type: ignore[attr-defined]


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
        sa.select(staff_users.c.id, staff_users.c.email, staff_users.c.email_notifications).where(
            staff_users.c.organization_id == org.id, staff_users.c.is_active.is_(True)
        )
    )
    for staff_id, email, wants_email in found.all():
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
