"""Archiving: hide a record from lists without deleting its history."""

from __future__ import annotations

import uuid
from typing import Any

from strawberry import Info

from core.errors import NotFound
from core.ids import decode_id_of
from models.types import utcnow
from models.writes import apply, get_for_update
from resolvers.outcome import mutation_outcome


@mutation_outcome
async def set_archived(info: Info, model: Any, global_id: str, archived: bool) -> uuid.UUID:
    """Archive or restore a tenant row; NotFound for anything outside the tenant."""
    row_id = decode_id_of(model.__name__, global_id)
    async with info.context.write() as session:
        row = await get_for_update(session, model, info.context.viewer.organization_id, row_id)
        if row is None:
            raise NotFound(row=(model.__name__, row_id))
        if (row.archived_at is not None) != archived:
            apply(row, {"archived_at": utcnow() if archived else None})
    return row_id
