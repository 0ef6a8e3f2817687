"""Shared by the webhook tests: registering an endpoint and reading its log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from core.ids import decode_id
from models.db import Database
from models.tables import webhook_deliveries
from tests.helpers import GraphQLClient, Tenant

REGISTER = """
mutation R($input: RegisterWebhookEndpointInput!) {
  registerWebhookEndpoint(input: $input) {
    webhookEndpoint { id url eventTypes enabled secretPrefix }
    secret
    userErrors { field code message }
  }
}
"""
LOG = """
query L($id: ID!) {
  node(id: $id) {
    ... on WebhookEndpoint {
      enabled disabledReason failingSince lastSuccessAt
      deliveries(first: 50) {
        nodes {
          id eventId eventType status attempts responseCode latencyMs lastError deliveredAt
        }
      }
    }
  }
}
"""
REDELIVER = """
mutation D($input: RedeliverWebhookInput!) {
  redeliverWebhook(input: $input) {
    webhookDelivery { id eventId status } userErrors { field code }
  }
}
"""
TYPES = ("customer.created", "customer.updated")


async def register(
    gql: GraphQLClient,
    tenant: Tenant,
    url: str,
    event_types: Sequence[str] = TYPES,
    token: str | None = None,
) -> dict[str, Any]:
    variables = {"input": {"url": url, "eventTypes": list(event_types)}}
    data = await gql.data(REGISTER, variables, token=token or tenant.owner_token)
    payload: dict[str, Any] = data["registerWebhookEndpoint"]
    return payload


async def endpoint_log(gql: GraphQLClient, tenant: Tenant, endpoint_id: str) -> dict[str, Any]:
    data = await gql.data(LOG, {"id": endpoint_id}, token=tenant.owner_token)
    node: dict[str, Any] = data["node"]
    return node


async def deliveries_of(db: Database, endpoint_id: str) -> list[Any]:
    """The endpoint's delivery rows, oldest first."""
    _, row_id = decode_id(endpoint_id)
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(webhook_deliveries)
            .where(webhook_deliveries.c.endpoint_id == row_id)
            .order_by(webhook_deliveries.c.created_at)
        )
        return list(rows.mappings())
