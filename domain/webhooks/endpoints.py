"""The OWNER's webhook endpoints: register, change, enable or disable, rotate the signing
secret, delete; and redeliver one delivery. Each writes an audit row (never the secret).

A URL is checked before the transaction (its name is resolved, which is a network call)
and again by the worker before every delivery (core/outbound.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from core.errors import Forbidden, NotFound
from core.outbound import Refused, check_url
from domain.audit import audit
from domain.problems import Common, Problem, Rejected
from domain.rows import locked, organization_of
from domain.webhooks.codes import WebhookCode
from domain.webhooks.events import EVENT_TYPES, new_delivery
from domain.webhooks.signing import new_secret
from domain.work import Work
from models.tables import webhook_deliveries as deliveries
from models.types import utcnow
from models.webhooks import WebhookEndpoint

MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class NewSecret:
    endpoint_id: uuid.UUID
    secret: str  # shown this once


def _owner(work: Work) -> uuid.UUID:
    """Webhooks are the OWNER's alone (the schema refuses others first)."""
    if not work.viewer.is_owner:
        raise Forbidden()
    return organization_of(work)


async def _checked_url(work: Work, url: str) -> str:
    url = url.strip()
    if not url:
        raise Rejected(Problem("url", "Give the endpoint's URL.", Common.REQUIRED))
    try:
        async with asyncio.timeout(work.settings.webhook_timeout_seconds):
            await check_url(url, allow_loopback=work.settings.webhook_allow_loopback)
    except Refused as refused:
        raise Rejected(Problem("url", str(refused), WebhookCode.URL_REFUSED)) from None
    except TimeoutError:
        problem = Problem("url", "The host could not be resolved in time.", WebhookCode.URL_REFUSED)
        raise Rejected(problem) from None
    return url


def _checked_types(event_types: Sequence[str]) -> list[str]:
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown:
        raise Rejected(
            Problem(
                "eventTypes",
                f"Unknown event types: {', '.join(unknown)}.",
                WebhookCode.UNKNOWN_EVENT_TYPE,
            )
        )
    if not event_types:
        raise Rejected(Problem("eventTypes", "Choose at least one event type.", Common.REQUIRED))
    return [t for t in EVENT_TYPES if t in event_types]  # in the documented order, once


def _checked_description(description: str | None) -> str:
    text = " ".join((description or "").split())
    if len(text) > MAX_DESCRIPTION:
        raise Rejected(
            Problem("description", f"At most {MAX_DESCRIPTION} characters.", Common.TOO_LONG)
        )
    return text


async def register(
    work: Work, url: str, event_types: Sequence[str], description: str | None = None
) -> NewSecret:
    """A new enabled endpoint with its signing secret (returned once)."""
    organization_id = _owner(work)
    types = _checked_types(event_types)
    text = _checked_description(description)
    checked = await _checked_url(work, url)
    secret = new_secret()
    async with work.write() as session:
        endpoint = WebhookEndpoint(
            organization_id=organization_id,
            url=checked,
            description=text,
            event_types=types,
            secret=secret,
            secret_prefix=secret[:12],
            created_by_staff_id=work.viewer.staff_user_id,
        )
        session.add(endpoint)
        session.add(
            audit(
                work,
                "webhook.endpoint_created",
                subject_type="WebhookEndpoint",
                subject_id=endpoint.id,
                data={"url": checked, "eventTypes": types},
            )
        )
    return NewSecret(endpoint.id, secret)


async def update(
    work: Work,
    endpoint_id: uuid.UUID,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> uuid.UUID:
    """Change what is given; enabling clears a disabled endpoint's failure record."""
    organization_id = _owner(work)
    types = _checked_types(event_types) if event_types is not None else None
    text = _checked_description(description) if description is not None else None
    checked = await _checked_url(work, url) if url is not None else None
    async with work.write() as session:
        endpoint = await locked(session, WebhookEndpoint, organization_id, endpoint_id)
        changed: dict[str, object] = {}
        if checked is not None:
            endpoint.url = changed["url"] = checked
        if types is not None:
            endpoint.event_types = changed["eventTypes"] = types
        if text is not None:
            endpoint.description = text
        if enabled is not None and enabled != endpoint.enabled:
            endpoint.enabled = changed["enabled"] = enabled
            endpoint.disabled_at = None if enabled else utcnow()
            endpoint.disabled_reason = None if enabled else "Disabled by staff."
            endpoint.failing_since = None
        endpoint.updated_at = utcnow()
        session.add(
            audit(
                work,
                "webhook.endpoint_updated",
                subject_type="WebhookEndpoint",
                subject_id=endpoint.id,
                data=changed,
            )
        )
    return endpoint_id


async def rotate_secret(work: Work, endpoint_id: uuid.UUID) -> NewSecret:
    """A new signing secret at once (returned once); the old one signs nothing more."""
    organization_id = _owner(work)
    secret = new_secret()
    async with work.write() as session:
        endpoint = await locked(session, WebhookEndpoint, organization_id, endpoint_id)
        endpoint.secret = secret
        endpoint.secret_prefix = secret[:12]
        endpoint.updated_at = utcnow()
        session.add(
            audit(
                work,
                "webhook.secret_rotated",
                subject_type="WebhookEndpoint",
                subject_id=endpoint.id,
                data={"secretPrefix": endpoint.secret_prefix},
            )
        )
    return NewSecret(endpoint_id, secret)


async def delete(work: Work, endpoint_id: uuid.UUID) -> uuid.UUID:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    organization_id = _owner(work)
    async with work.write() as session:
        endpoint = await locked(session, WebhookEndpoint, organization_id, endpoint_id)
        await session.execute(sa.delete(deliveries).where(deliveries.c.endpoint_id == endpoint.id))
        await session.delete(endpoint)
        session.add(
            audit(
                work,
                "webhook.endpoint_deleted",
                subject_type="WebhookEndpoint",
                subject_id=endpoint_id,
                data={"url": endpoint.url},
            )
        )
    return endpoint_id


async def redeliver(work: Work, delivery_id: uuid.UUID) -> uuid.UUID:
    """Send a delivery's event again (same body, same event id) as a new delivery, due now;
    its id."""
    organization_id = _owner(work)
    async with work.write() as session:
        found = (
            await session.execute(
                sa.select(
                    deliveries.c.endpoint_id,
                    deliveries.c.event_id,
                    deliveries.c.event_type,
                    deliveries.c.object_id,
                ).where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.organization_id == organization_id,
                )
            )
        ).first()
        if found is None:
            raise NotFound(row=("WebhookDelivery", delivery_id))
        again = new_delivery(
            organization_id,
            found.endpoint_id,
            found.event_id,
            found.event_type,
            found.object_id,
            utcnow(),
        )
        session.add(again)
        session.add(
            audit(
                work,
                "webhook.redelivered",
                subject_type="WebhookDelivery",
                subject_id=delivery_id,
            )
        )
    return again.id
