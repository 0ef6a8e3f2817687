"""Webhook endpoints from the API: IDs decoded, the domain's actions called
(domain/webhooks/endpoints.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from strawberry import Info

from core.ids import decode_id_of
from domain.webhooks import endpoints
from resolvers.outcome import input_ids, mutation_outcome
from resolvers.validation import Problem, Rejected


@dataclass
class SecretOutcome:
    endpoint_id: uuid.UUID | None = None
    secret: str | None = None
    problems: list[Problem] = field(default_factory=list)


def _endpoint(gid: str) -> uuid.UUID:
    return decode_id_of("WebhookEndpoint", gid)


async def register(
    info: Info, url: str, event_types: list[str], description: str | None
) -> SecretOutcome:
    try:
        made = await endpoints.register(info.context, url, event_types, description)
    except Rejected as rejected:
        return SecretOutcome(problems=rejected.problems)
    return SecretOutcome(endpoint_id=made.endpoint_id, secret=made.secret)


async def rotate_secret(info: Info, gid: str) -> SecretOutcome:
    try:
        made = await _rotate(info, gid)
    except Rejected as rejected:
        return SecretOutcome(problems=rejected.problems)
    return SecretOutcome(endpoint_id=made.endpoint_id, secret=made.secret)


@input_ids
async def _rotate(info: Info, gid: str) -> endpoints.NewSecret:
    return await endpoints.rotate_secret(info.context, _endpoint(gid))


@mutation_outcome
async def update(
    info: Info,
    gid: str,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    enabled: bool | None,
) -> uuid.UUID:
    return await endpoints.update(
        info.context,
        _endpoint(gid),
        url=url,
        event_types=event_types,
        description=description,
        enabled=enabled,
    )


@mutation_outcome
async def delete(info: Info, gid: str) -> uuid.UUID:
    return await endpoints.delete(info.context, _endpoint(gid))


@mutation_outcome
async def redeliver(info: Info, delivery_gid: str) -> uuid.UUID:
    delivery_id = decode_id_of("WebhookDelivery", delivery_gid)
    return await endpoints.redeliver(info.context, delivery_id)
