"""The organization's row a mutation works on, locked, or NOT_FOUND: missing, archived away
or another tenant's are one answer."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.ids import decode_id_of
from models.writes import get_for_update

M = TypeVar("M")


async def locked(
    session: AsyncSession, model: type[M], org: uuid.UUID | None, row_id: uuid.UUID
) -> M:
    row = await get_for_update(session, model, org, row_id)  # type: ignore[type-var]
    if row is None:
        raise NotFound(row=(model.__name__, row_id))
    return row  # type: ignore[return-value]


async def tenant_row(
    session: AsyncSession, model: type[Any], org: uuid.UUID | None, gid: str
) -> Any:
    """The row a global ID names (it must name a `model`), locked."""
    return await locked(session, model, org, decode_id_of(model.__name__, gid))
