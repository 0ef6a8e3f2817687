"""Archiving from the API: hide a record from lists without deleting its history
(domain/rows.py `archive`)."""

from __future__ import annotations

import uuid
from typing import Any

from strawberry import Info

from core.ids import decode_id_of
from domain.rows import archive
from resolvers.outcome import mutation_outcome


@mutation_outcome
async def set_archived(info: Info, model: Any, global_id: str, archived: bool) -> uuid.UUID:
    """Archive or restore a tenant row; NotFound for anything outside the tenant."""
    row_id = decode_id_of(model.__name__, global_id)
    return await archive(info.context, model, row_id, archived)
