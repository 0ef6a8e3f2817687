"""The write workloads: four mutations as a client sends them, and the data they act on.

    createCustomer   staff: a new customer with a unique email and a phone
    sendMessage      staff: a message to a customer (the first unread one emails the portal)
    recordPayment    staff: 1 cent in cash towards an open invoice
    approveEstimate  portal: the viewer approves a SENT estimate of theirs, whole

Each item is sent once (an approval cannot be repeated); `reset` makes the estimates of
the portal viewers SENT again, at version 1 with its snapshot, before each pass.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from core.ids import encode_id

Item = tuple[str, str]  # (bearer token, JSON body)

CREATE_CUSTOMER = """mutation CreateCustomer($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id name email phone createdAt }
    userErrors { field message code }
  }
}"""

SEND_MESSAGE = """mutation SendMessage($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id body createdAt }
    userErrors { field message code }
  }
}"""

RECORD_PAYMENT = """mutation RecordPayment($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    payment { id method status receivedAt amount { amount currency } }
    userErrors { field message code }
  }
}"""

APPROVE_ESTIMATE = """mutation ApproveEstimate($input: ApproveEstimateInput!) {
  approveEstimate(input: $input) {
    estimate { id status decidedAt }
    userErrors { field message code }
  }
}"""

MUTATIONS = {
    "createCustomer": CREATE_CUSTOMER,
    "sendMessage": SEND_MESSAGE,
    "recordPayment": RECORD_PAYMENT,
    "approveEstimate": APPROVE_ESTIMATE,
}


def _body(query: str, variables: dict[str, Any]) -> str:
    return json.dumps({"query": query, "variables": {"input": variables}})


def portico_items(name: str, rows: list[tuple[str, dict[str, Any]]]) -> list[Item]:
    """GraphQL bodies for (token, input) rows."""
    return [(token, _body(MUTATIONS[name], variables)) for token, variables in rows]


def baseline_items(rows: list[tuple[str, dict[str, Any]]]) -> list[Item]:
    """The same inputs for the hand-written server (bench/baseline_writes.py)."""
    return [(token, json.dumps(variables)) for token, variables in rows]


async def inputs(
    url: str, tokens: dict[str, Any], name: str, count: int, tag: str, offset: int = 0
) -> list[tuple[str, dict[str, Any]]]:
    """`count` (token, input) rows for mutation `name`; `tag` keeps emails unique per run,
    `offset` moves on through the customers and invoices."""
    orgs = tokens["organizations"]
    rows: list[tuple[str, dict[str, Any]]] = []
    if name == "createCustomer":
        for i in range(count):
            org = orgs[i % len(orgs)]
            rows.append(
                (
                    org["staff_token"],
                    {
                        "name": f"Bench Customer {tag} {i}",
                        "email": f"bench-{tag}-{i}@example.com",
                        "phone": f"(773) 555-{i % 10000:04d}",
                    },
                )
            )
    elif name == "sendMessage":
        for i in range(count):
            org = orgs[i % len(orgs)]
            customer = org["customers"][((offset + i) // len(orgs)) % len(org["customers"])]
            body = f"Your car is ready for pickup ({tag} {i})."
            rows.append((org["staff_token"], {"customerId": customer["gid"], "body": body}))
    elif name == "recordPayment":
        invoices = await _open_invoices(url, orgs)
        for i in range(count):
            token, invoice_id = invoices[(offset + i) % len(invoices)]
            variables = {"invoiceId": encode_id("Invoice", invoice_id), "amount": 1}
            rows.append((token, {**variables, "method": "CASH", "reference": f"{tag}-{i}"}))
    elif name == "approveEstimate":
        for token, estimate_id in (await approvable(url, tokens))[:count]:
            rows.append((token, {"estimateId": encode_id("Estimate", estimate_id), "version": 1}))
    else:
        raise KeyError(name)
    return rows


async def _open_invoices(url: str, orgs: list[dict[str, Any]]) -> list[tuple[str, uuid.UUID]]:
    conn = await asyncpg.connect(url, timeout=30)
    try:
        found = []
        for org in orgs:
            ids = await conn.fetch(
                "SELECT id FROM invoices WHERE organization_id = $1 "
                "AND status IN ('OPEN', 'PARTIALLY_PAID') AND total - amount_paid > 1000 "
                "ORDER BY id",
                uuid.UUID(org["id"]),
            )
            found += [(org["staff_token"], row["id"]) for row in ids]
        return found
    finally:
        await conn.close()


async def approvable(url: str, tokens: dict[str, Any]) -> list[tuple[str, uuid.UUID]]:
    """(portal token, estimate id) for every estimate of a viewer with a portal session."""
    by_customer = {
        uuid.UUID(p["customer_id"]): p["token"]
        for org in tokens["organizations"]
        for p in org["portal"]
    }
    conn = await asyncpg.connect(url, timeout=30)
    try:
        rows = await conn.fetch(
            "SELECT id, customer_id FROM estimates WHERE customer_id = ANY($1) ORDER BY id",
            list(by_customer),
        )
    finally:
        await conn.close()
    # Interleave customers so that concurrent approvals rarely touch one customer.
    return [(by_customer[row["customer_id"]], row["id"]) for row in rows]


async def reset(url: str, tokens: dict[str, Any]) -> None:
    """Every estimate of the portal viewers SENT again at version 1, valid for a month,
    with its snapshot, and no decision; the staff notifications of earlier passes gone."""
    estimate_ids = [estimate_id for _, estimate_id in await approvable(url, tokens)]
    valid_until = (datetime.now(UTC) + timedelta(days=30)).date()
    conn = await asyncpg.connect(url, timeout=30)
    try:
        async with conn.transaction():
            await conn.execute(
                "DELETE FROM estimate_decisions WHERE estimate_id = ANY($1)", estimate_ids
            )
            await conn.execute("DELETE FROM notifications WHERE subject_id = ANY($1)", estimate_ids)
            await conn.execute(
                "UPDATE estimates SET status = 'SENT', version = 1, decided_at = NULL, "
                "valid_until = $2, expires_at = NULL, "
                "number = coalesce(number, 900000 + "
                "  (SELECT count(*) FROM estimates e2 WHERE e2.id < estimates.id)) "
                "WHERE id = ANY($1)",
                estimate_ids,
                valid_until,
            )
            await conn.execute(SNAPSHOTS, estimate_ids)
    finally:
        await conn.close()


# What domain/billing/estimates.py estimate_snapshot keeps of a version.
SNAPSHOTS = """
INSERT INTO estimate_versions (id, organization_id, estimate_id, version, snapshot,
                               created_at, updated_at)
SELECT gen_random_uuid(), e.organization_id, e.id, 1, (json_build_object(
         'version', 1, 'currency', e.currency, 'subtotal', e.subtotal,
         'tax_total', e.tax_total, 'total', e.total, 'valid_until', e.valid_until,
         'notes', e.notes, 'recommendations', e.recommendations,
         'lines', coalesce((
           SELECT json_agg(json_build_object(
                    'id', l.id::text, 'position', l.position,
                    'description', l.description, 'quantity_milli', l.quantity_milli,
                    'unit_price', l.unit_price, 'unit_cost', l.unit_cost,
                    'tax_rate_bp', l.tax_rate_bp, 'subtotal', l.subtotal, 'tax', l.tax,
                    'total', l.total, 'optional', l.optional, 'kind', l.kind)
                  ORDER BY l.position, l.id::text)
           FROM estimate_lines l WHERE l.estimate_id = e.id), '[]'::json)))::jsonb,
       now(), now()
FROM estimates e WHERE e.id = ANY($1)
ON CONFLICT (estimate_id, version) DO UPDATE SET snapshot = excluded.snapshot
"""
