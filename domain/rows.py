"""The organization's row an action works on, locked, or NotFound: missing, archived away
or another tenant's are one answer."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from core.errors import Forbidden, NotFound
from domain.work import Actor, Work
from models.types import utcnow
from models.writes import apply, get_for_update

M = TypeVar("M", bound=SQLModel)


async def locked(
    session: AsyncSession, model: type[M], org: uuid.UUID | None, row_id: uuid.UUID
) -> M:
    """The row of the organization, locked for this transaction; NotFound naming it else."""
    row = await get_for_update(session, model, org, row_id)
    if row is None:
        raise NotFound(row=(model.__name__, row_id))
    return row


def organization_of(actor: Actor) -> uuid.UUID:
    """The organization the actor works in (a staff member's, a portal viewer's business);
    an actor of none may do nothing."""
    org_id = actor.viewer.organization_id
    if org_id is None:
        raise Forbidden()
    return org_id


def customer_of(actor: Actor) -> uuid.UUID:
    """The customer a portal viewer acts for; an actor for no customer may do nothing of a
    customer's own."""
    customer_id = actor.viewer.customer_id
    if customer_id is None:
        raise Forbidden()
    return customer_id


async def archive(work: Work, model: type[M], row_id: uuid.UUID, archived: bool) -> uuid.UUID:
    """Hide a row of the organization from lists (its history stays), or bring it back;
    NotFound for anything outside the organization."""
    async with work.write() as session:
        row = await locked(session, model, work.viewer.organization_id, row_id)
        if (getattr(row, "archived_at") is not None) != archived:  # noqa: B009
            apply(row, {"archived_at": utcnow() if archived else None})
    return row_id
