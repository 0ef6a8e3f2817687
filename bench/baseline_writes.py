"""The hand-written baseline for the write workloads: Starlette + asyncpg, one transaction
per request holding the statements Portico's mutation sends (the session check, the checks,
the rows written, the audit row, the staff notifications and outbox emails), no GraphQL.

    POST /createCustomer   Authorization: Bearer <staff token>   body: CreateCustomerInput
    POST /sendMessage      Authorization: Bearer <staff token>   body: SendMessageInput
    POST /recordPayment    Authorization: Bearer <staff token>   body: RecordPaymentInput
    POST /approveEstimate  Authorization: Bearer <portal token>  body: ApproveEstimateInput
    GET  /stats            requests answered and statements sent so far
    GET  /healthz

Each answers the payload Portico answers for bench/write_workloads.py's documents (same
fields, global IDs). Served by uvicorn like Portico:

    BENCH_DATABASE_URL=postgresql://... uvicorn bench.baseline_writes:create_app --factory
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.baseline import SESSION_ENDED
from core.ids import decode_id, encode_id

POOL_SIZE = 10
STATEMENT_TIMEOUT_MS = "5000"

SESSION = """
SELECT s.id, s.organization_id, s.kind, s.staff_user_id, s.customer_id, s.contact_id,
       u.is_active
FROM auth_sessions s LEFT JOIN staff_users u ON u.id = s.staff_user_id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
"""

EMAIL_TAKEN = "SELECT id FROM customers WHERE organization_id = $1 AND email = $2 LIMIT 1"
INSERT_CUSTOMER = """
INSERT INTO customers (id, created_at, updated_at, organization_id, name, email, phone,
                       portal_status, wants_invoices, wants_estimates, wants_scheduling,
                       wants_car_updates, wants_contracts, wants_social_events,
                       wants_marketing, autopay_enabled)
VALUES ($1, $2, $2, $3, $4, $5, $6, 'NONE', true, true, true, true, true, true, false, false)
RETURNING created_at
"""

LOCK_CUSTOMER = """
SELECT id, name, email, portal_status FROM customers
WHERE id = $1 AND organization_id = $2 FOR UPDATE
"""
UNREAD = """
SELECT id FROM messages
WHERE customer_id = $1 AND author_kind = 'STAFF' AND read_by_customer_at IS NULL LIMIT 1
"""
INSERT_MESSAGE = """
INSERT INTO messages (id, created_at, updated_at, organization_id, customer_id, author_kind,
                      author_staff_id, body)
VALUES ($1, $2, $2, $3, $4, 'STAFF', $5, $6)
"""
ORGANIZATION = "SELECT name FROM organizations WHERE id = $1"
NOTIFY = "SELECT pg_notify($1, $2)"

LOCK_INVOICE = """
SELECT id, customer_id, currency, status, total, amount_paid FROM invoices
WHERE id = $1 AND organization_id = $2 ORDER BY id FOR UPDATE
"""
INSERT_PAYMENT = """
INSERT INTO payments (id, created_at, updated_at, organization_id, customer_id, invoice_id,
                      amount, currency, method, status, refunded_amount, disputed_amount,
                      reference, received_at, recorded_by_staff_id)
VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, 'SUCCEEDED', 0, 0, $9, $2, $10)
"""
PAID = """
SELECT coalesce(sum(amount - refunded_amount
                    - CASE WHEN dispute_status = 'LOST' THEN disputed_amount ELSE 0 END), 0)
FROM payments WHERE invoice_id = $1 AND status IN ('SUCCEEDED', 'REFUNDED', 'PARTIALLY_REFUNDED')
"""
SETTLE = "UPDATE invoices SET amount_paid = $2, status = $3, updated_at = $4 WHERE id = $1"
INSERT_AUDIT = """
INSERT INTO audit_events (id, created_at, updated_at, organization_id, action, actor_kind,
                          actor_staff_id, actor_contact_id, customer_id, subject_type,
                          subject_id, ip, user_agent, data)
VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""

LOCK_ESTIMATE = """
SELECT id, organization_id, customer_id, number, version, status FROM estimates
WHERE id = $1 AND organization_id = $2 AND customer_id = $3 AND status <> 'DRAFT'
ORDER BY id FOR UPDATE
"""
OPTIONS = """
SELECT o.name, p.allow_estimate_approval, p.estimate_deposit_bp
FROM organizations o LEFT JOIN portal_settings p ON p.organization_id = o.id WHERE o.id = $1
"""
SHOWN = """
SELECT CASE WHEN e.status = 'SENT' AND e.expires_at IS NOT NULL AND e.expires_at <= $2
            THEN 'EXPIRED' ELSE e.status END,
       (SELECT v.snapshot FROM estimate_versions v WHERE v.estimate_id = e.id AND v.version = $3)
FROM estimates e WHERE e.id = $1
"""
STAFF = """
SELECT id, email, email_notifications FROM staff_users
WHERE organization_id = $1 AND is_active IS true
"""
DECIDE = "UPDATE estimates SET status = 'APPROVED', decided_at = $2, updated_at = $2 WHERE id = $1"
INSERT_DECISION = """
INSERT INTO estimate_decisions (id, created_at, updated_at, organization_id, estimate_id,
    version, decision, approved_line_ids, declined_line_ids, approved_total, deposit_amount,
    customer_id, contact_id, ip, user_agent, snapshot)
VALUES ($1, $2, $2, $3, $4, $5, 'APPROVED', $6, '[]', $7, 0, $8, $9, $10, $11, $12)
"""
INSERT_NOTIFICATION = """
INSERT INTO notifications (id, created_at, updated_at, organization_id, kind,
                           recipient_staff_id, subject_type, subject_id, title, body)
VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)
"""
INSERT_EMAIL = """
INSERT INTO outbox_emails (id, created_at, updated_at, organization_id, kind, to_address,
                           subject, body_text, body_html, status, attempts, next_attempt_at)
VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, 'PENDING', 0, $2)
"""

Handler = Callable[["Tx", dict[str, Any], asyncpg.Record], Awaitable[dict[str, Any]]]


class Tx:
    """One request's transaction, counting the statements it sends."""

    def __init__(self, conn: asyncpg.Connection, counts: dict[str, int]) -> None:
        self.conn = conn
        self.counts = counts

    def _count(self) -> None:
        self.counts["statements"] += 1

    async def row(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self._count()
        return await self.conn.fetchrow(sql, *args)

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self._count()
        return await self.conn.fetch(sql, *args)

    async def run(self, sql: str, *args: Any) -> None:
        self._count()
        await self.conn.execute(sql, *args)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _payload(name: str, field: str, value: dict[str, Any] | None, errors: list[Any]) -> Any:
    return {"data": {name: {field: value, "userErrors": errors}}}


def _refused(name: str, field: str, where: str, message: str, code: str) -> Any:
    return _payload(name, field, None, [{"field": where, "message": message, "code": code}])


async def create_customer(tx: Tx, data: dict[str, Any], viewer: asyncpg.Record) -> Any:
    org_id = viewer["organization_id"]
    name = str(data.get("name") or "").strip()
    email = (data.get("email") or "").strip().lower() or None
    phone = (data.get("phone") or "").strip() or None
    if not name:
        return _refused("createCustomer", "customer", "name", "Required.", "REQUIRED")
    if email and await tx.row(EMAIL_TAKEN, org_id, email):
        message = "Another customer already uses this email."
        return _refused("createCustomer", "customer", "email", message, "DUPLICATE")
    customer_id = uuid.uuid4()
    now = _now()
    await tx.run(INSERT_CUSTOMER, customer_id, now, org_id, name, email, phone)
    customer = {
        "id": encode_id("Customer", customer_id),
        "name": name,
        "email": email,
        "phone": phone,
        "createdAt": _iso(now),
    }
    return _payload("createCustomer", "customer", customer, [])


async def send_message(tx: Tx, data: dict[str, Any], viewer: asyncpg.Record) -> Any:
    org_id = viewer["organization_id"]
    body = str(data.get("body") or "").strip()
    _, customer_id = decode_id(str(data.get("customerId")))
    customer = await tx.row(LOCK_CUSTOMER, customer_id, org_id)
    if customer is None:
        return _refused("sendMessage", "message", "customerId", "Not found.", "NOT_FOUND")
    announce = await tx.row(UNREAD, customer_id) is None
    message_id, now = uuid.uuid4(), _now()
    staff_id = viewer["staff_user_id"]
    await tx.run(INSERT_MESSAGE, message_id, now, org_id, customer_id, staff_id, body)
    if announce and customer["portal_status"] == "ACTIVE" and customer["email"]:
        org = await tx.row(ORGANIZATION, org_id)
        subject = f"New message from {org['name'] if org else ''}"
        text = f"Hello {customer['name']},\n\nYou have a new message in your customer portal."
        await tx.run(
            INSERT_EMAIL,
            uuid.uuid4(),
            now,
            org_id,
            "MESSAGES",
            customer["email"],
            subject,
            text,
            f"<p>{text}</p>",
        )
    event = json.dumps({"id": str(message_id), "customer": str(customer_id)})
    await tx.row(NOTIFY, f"messages.{org_id.hex}", event)
    message = {"id": encode_id("Message", message_id), "body": body, "createdAt": _iso(now)}
    return _payload("sendMessage", "message", message, [])


async def record_payment(tx: Tx, data: dict[str, Any], viewer: asyncpg.Record) -> Any:
    org_id = viewer["organization_id"]
    amount = int(data["amount"])
    _, invoice_id = decode_id(str(data.get("invoiceId")))
    invoice = await tx.row(LOCK_INVOICE, invoice_id, org_id)
    if invoice is None:
        return _refused("recordPayment", "payment", "invoiceId", "Not found.", "NOT_FOUND")
    if invoice["status"] not in ("OPEN", "PARTIALLY_PAID"):
        return _refused("recordPayment", "payment", "invoiceId", "Not open.", "NOT_PAYABLE")
    if amount <= 0 or amount > invoice["total"] - invoice["amount_paid"]:
        return _refused("recordPayment", "payment", "amount", "Too much.", "OVERPAYMENT")
    payment_id, now = uuid.uuid4(), _now()
    method, reference = str(data["method"]), data.get("reference")
    await tx.run(
        INSERT_PAYMENT,
        payment_id,
        now,
        org_id,
        invoice["customer_id"],
        invoice_id,
        amount,
        invoice["currency"],
        method,
        reference,
        viewer["staff_user_id"],
    )
    paid = (await tx.row(PAID, invoice_id) or [0])[0]
    status = "PAID" if paid >= invoice["total"] else "PARTIALLY_PAID" if paid else "OPEN"
    await tx.run(SETTLE, invoice_id, paid, status, now)
    audit = {"invoice_id": encode_id("Invoice", invoice_id), "amount": amount}
    await tx.run(
        INSERT_AUDIT,
        uuid.uuid4(),
        now,
        org_id,
        "payment.recorded",
        "STAFF",
        viewer["staff_user_id"],
        None,
        invoice["customer_id"],
        "Payment",
        payment_id,
        None,
        None,
        json.dumps(audit),
    )
    payment = {
        "id": encode_id("Payment", payment_id),
        "method": method,
        "status": "SUCCEEDED",
        "receivedAt": _iso(now),
        "amount": {"amount": amount, "currency": invoice["currency"]},
    }
    return _payload("recordPayment", "payment", payment, [])


async def approve_estimate(tx: Tx, data: dict[str, Any], viewer: asyncpg.Record) -> Any:
    org_id, customer_id = viewer["organization_id"], viewer["customer_id"]
    version = int(data["version"])
    _, estimate_id = decode_id(str(data.get("estimateId")))
    estimate = await tx.row(LOCK_ESTIMATE, estimate_id, org_id, customer_id)
    if estimate is None:
        return _refused("approveEstimate", "estimate", "estimateId", "Not found.", "NOT_FOUND")
    options = await tx.row(OPTIONS, org_id)
    assert options is not None
    now = _now()
    shown = await tx.row(SHOWN, estimate_id, now, version)
    assert shown is not None
    status, snapshot = shown
    if estimate["status"] != "SENT" or status != "SENT" or estimate["version"] != version:
        message = "This estimate has already been answered."
        return _refused("approveEstimate", "estimate", "estimateId", message, "ALREADY_DECIDED")
    lines = json.loads(snapshot)["lines"]
    total = sum(int(line["total"]) for line in lines)
    staff = await tx.rows(STAFF, org_id)
    await tx.run(DECIDE, estimate_id, now)
    await tx.run(
        INSERT_DECISION,
        uuid.uuid4(),
        now,
        org_id,
        estimate_id,
        version,
        json.dumps([line["id"] for line in lines]),
        total,
        customer_id,
        viewer["contact_id"],
        None,
        None,
        snapshot,
    )
    title = f"The customer approved estimate #{estimate['number']}"
    body = f"Version {version}."
    for person in staff:
        await tx.run(
            INSERT_NOTIFICATION,
            uuid.uuid4(),
            now,
            org_id,
            "ESTIMATE_APPROVED",
            person["id"],
            "Estimate",
            estimate_id,
            title,
            body,
        )
    audit = {"version": version, "deposit": 0, "approved_total": total}
    await tx.run(
        INSERT_AUDIT,
        uuid.uuid4(),
        now,
        org_id,
        "estimate.approved",
        "CONTACT" if viewer["contact_id"] else "CUSTOMER",
        None,
        viewer["contact_id"],
        customer_id,
        "Estimate",
        estimate_id,
        None,
        None,
        json.dumps(audit),
    )
    for person in staff:
        if person["email_notifications"]:
            text = f"{title}\n\n{body}"
            await tx.run(
                INSERT_EMAIL,
                uuid.uuid4(),
                now,
                org_id,
                "STAFF",
                person["email"],
                title,
                text,
                f"<p>{text}</p>",
            )
    answer = {
        "id": encode_id("Estimate", estimate_id),
        "status": "APPROVED",
        "decidedAt": _iso(now),
    }
    return _payload("approveEstimate", "estimate", answer, [])


def _token_hash(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()


def _endpoint(handler: Handler, kind: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        hashed = _token_hash(request)
        data = json.loads(await request.body() or b"{}")
        pool: asyncpg.Pool = request.app.state.pool
        counts: dict[str, int] = request.app.state.counts
        async with pool.acquire() as conn, conn.transaction():
            tx = Tx(conn, counts)
            viewer = await tx.row(SESSION, hashed) if hashed else None
            if viewer is None or viewer["kind"] != kind or viewer["is_active"] is False:
                return JSONResponse(SESSION_ENDED, status_code=401)
            answer = await handler(tx, data, viewer)
        counts["requests"] += 1
        return Response(json.dumps(answer).encode(), media_type="application/json")

    return endpoint


async def stats(request: Request) -> Response:
    return JSONResponse(request.app.state.counts)


async def healthz(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    await pool.fetchval("SELECT 1")
    return JSONResponse({"status": "ok"})


def create_app(database_url: str | None = None) -> Starlette:
    """The ASGI app; the database comes from BENCH_DATABASE_URL unless given."""
    url = database_url or os.environ["BENCH_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.counts = {"requests": 0, "statements": 0}
        app.state.pool = await asyncpg.create_pool(
            url,
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            timeout=10,
            server_settings={"statement_timeout": STATEMENT_TIMEOUT_MS, "timezone": "UTC"},
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [
        Route("/createCustomer", _endpoint(create_customer, "STAFF"), methods=["POST"]),
        Route("/sendMessage", _endpoint(send_message, "STAFF"), methods=["POST"]),
        Route("/recordPayment", _endpoint(record_payment, "STAFF"), methods=["POST"]),
        Route("/approveEstimate", _endpoint(approve_estimate, "PORTAL"), methods=["POST"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
