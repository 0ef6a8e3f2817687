"""The organization's row a mutation works on, locked, or NOT_FOUND: missing, archived away
or another tenant's are one answer."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import decode_id_of
from domain.rows import locked

__all__ = ["locked", "tenant_row"]


async def tenant_row(
    session: AsyncSession, model: type[Any], org: uuid.UUID | None, gid: str
) -> Any:
    """The row a global ID names (it must name a `model`), locked."""
    return await locked(session, model, org, decode_id_of(model.__name__, gid))
