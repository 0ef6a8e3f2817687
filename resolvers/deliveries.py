"""The delivery log's action from the API: the ID decoded, the domain's action called
(domain/messaging/deliveries.py)."""

from __future__ import annotations

import uuid

from strawberry import Info

from core.ids import decode_id_of
from domain.messaging.deliveries import resend_email
from resolvers.outcome import input_ids, mutation_outcome


@mutation_outcome
@input_ids
async def resend(info: Info, gid: str) -> uuid.UUID:
    return await resend_email(info.context, decode_id_of("EmailDelivery", gid))
