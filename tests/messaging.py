"""Helpers for conversation tests: portal sessions started directly, without the email."""

from __future__ import annotations

from auth.sessions import start_session
from core.ids import decode_id_of
from models.db import Database
from models.enums import SessionKind
from tests.helpers import Tenant
from tests.portal import deliver
from tests.smtp import SmtpServer


async def portal_token(
    db: Database,
    tenant: Tenant,
    customer_gid: str,
    contact_gid: str | None = None,
    *,
    preview: bool = False,
) -> str:
    """The token of a new portal (or staff preview) session for a customer or contact."""
    async with db.write() as session:
        issued = await start_session(
            session,
            kind=SessionKind.PREVIEW if preview else SessionKind.PORTAL,
            organization_id=tenant.organization_id,
            customer_id=decode_id_of("Customer", customer_gid),
            contact_id=decode_id_of("Contact", contact_gid) if contact_gid else None,
        )
    return issued.token


async def drain_outbox(db: Database, smtp: SmtpServer) -> None:
    """Deliver every due email: later tests deliver only the oldest few and look for theirs."""
    while await deliver(db, smtp):
        pass
