"""Integration keys from the API: the input checked and its ID decoded, the domain's action
called (domain/cars/telematics.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.cars import telematics
from resolvers.outcome import input_ids
from resolvers.validation import Checks, Problem, Rejected

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.integrations import (
        CreateIntegrationKeyInput,
        RevokeIntegrationKeyInput,
    )


@dataclass
class KeyOutcome:
    key_id: uuid.UUID | None = None
    secret: str | None = None
    problems: list[Problem] = field(default_factory=list)


async def create_key(info: Info, data: CreateIntegrationKeyInput) -> KeyOutcome:
    checks = Checks(creating=True)
    name = checks.text("name", data.name, 200, required=True)
    try:
        checks.done()
    except Rejected as rejected:
        return KeyOutcome(problems=rejected.problems)
    made = await telematics.create_key(info.context, name)
    return KeyOutcome(key_id=made.key_id, secret=made.secret)


async def revoke_key(info: Info, data: RevokeIntegrationKeyInput) -> KeyOutcome:
    try:
        return KeyOutcome(key_id=await _revoke_key(info, data.id))
    except Rejected as rejected:
        return KeyOutcome(problems=rejected.problems)


@input_ids
async def _revoke_key(info: Info, gid: str) -> uuid.UUID:
    return await telematics.revoke_key(info.context, decode_id_of("IntegrationKey", gid))
