"""`Idempotency-Key` on mutations: a retry returns the first answer and does nothing again.

A mutation sent with the header runs in one transaction (models/db.py `Pinned`): the key is
taken first, every write of the request is a savepoint of it, its reads see them, and the
answer is stored under the key before the one COMMIT. So the key exists exactly when the
effect does: a crash before COMMIT leaves neither (the retry does the work), a crash after
leaves both (the retry gets the stored answer). A concurrent duplicate waits on the key's
row until the first commits, then replays its answer; if the first rolled back, it runs.
Live events are published after the COMMIT, never for work that did not happen.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.viewer import Viewer
from core.broker import Broker
from core.db_faults import database_unavailable
from core.errors import (
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    OutcomeUnknown,
    RequestTimedOut,
    ServiceUnavailable,
)
from models.db import Pinned, pinned
from models.idempotency import StoredAnswer, claim, keep_answer, stored_answer
from portico.database_outage import outcome_unknown_graphql, request_timed_out, unavailable_graphql
from schema.context import Context

log = logging.getLogger("portico.idempotency")

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Codes that say the database failed during the request: its transaction is rolled back
# instead of kept, so nothing happened, the answer says so, and a retry does the work.
_DATABASE_FAILED = {ServiceUnavailable.code, OutcomeUnknown.code}


@dataclass(frozen=True, slots=True)
class Claim:
    viewer: str
    key: str
    request_hash: str


def viewer_key(viewer: Viewer) -> str:
    """Whose keys these are: the person (staff member, or portal customer and contact);
    a staff preview of the portal is its own session's."""
    if viewer.preview:
        return f"preview:{viewer.session_id}"
    if viewer.is_staff:
        return f"staff:{viewer.staff_user_id}"
    if viewer.is_portal:
        return f"portal:{viewer.customer_id}:{viewer.contact_id or '-'}"
    return "anonymous"


def _refusal(error: type[IdempotencyKeyInvalid | IdempotencyKeyReused]) -> Response:
    refused = {"message": error.message, "extensions": {"code": error.code}}
    return JSONResponse({"data": None, "errors": [refused]}, status_code=error.status)


async def claim_for(request: Request, viewer: Viewer) -> Claim | Response | None:
    """The request's key, when it carries one and is a mutation; a refusal when the key is
    malformed; None otherwise (queries are safe to repeat: the header is ignored)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return _refusal(IdempotencyKeyInvalid)
    digest = hashlib.sha256()
    operations: object
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()  # kept by Starlette: Strawberry reads the same form
        operations = _json(form.get("operations"))
        for name, value in sorted(form.multi_items(), key=lambda item: item[0]):
            digest.update(name.encode() + b"\0")
            if isinstance(value, UploadFile):
                digest.update(await value.read())
                await value.seek(0)
            else:
                digest.update(value.encode())
            digest.update(b"\0")
    else:
        operations = _json(await request.body())
        digest.update(orjson.dumps(operations, option=orjson.OPT_SORT_KEYS))
    if not _is_mutation(operations):
        return None
    return Claim(viewer_key(viewer), key, digest.hexdigest())


def _json(raw: object) -> object:
    try:
        return orjson.loads(raw) if isinstance(raw, str | bytes) else None
    except orjson.JSONDecodeError:
        return None


def _is_mutation(operations: object) -> bool:
    if not isinstance(operations, dict) or not isinstance(operations.get("query"), str):
        return False
    try:
        operation = get_operation_ast(parse(operations["query"]), operations.get("operationName"))
    except GraphQLError:
        return False  # the executor answers the syntax error as usual
    return operation is not None and operation.operation is OperationType.MUTATION


def replay(stored: StoredAnswer, claimed: Claim) -> Response:
    if stored.request_hash != claimed.request_hash:
        return _refusal(IdempotencyKeyReused)
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type=stored.content_type,
        headers={REPLAYED_HEADER: "true"},
    )


@dataclass
class HeldEvents:
    """The request's broker while its transaction is open: events wait for the COMMIT."""

    broker: Broker
    held: list[tuple[str, str]] = field(default_factory=list)

    async def publish(self, topic: str, payload: str) -> None:
        self.held.append((topic, payload))

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        return self.broker.subscribe(topic)

    async def release(self) -> None:
        for topic, payload in self.held:
            try:
                await self.broker.publish(topic, payload)
            except Exception:  # the work is saved; a subscriber re-reads on reconnect
                log.exception("could not publish an event on %s", topic)


def _failed_retryably(response: Response) -> Callable[[], Response] | None:
    """How to answer when the executed request met a database failure, None otherwise."""
    if response.status_code == RequestTimedOut.status:
        return request_timed_out
    try:
        errors = orjson.loads(bytes(response.body)).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return None
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    if RequestTimedOut.code in codes:
        return request_timed_out
    if codes & _DATABASE_FAILED:
        return unavailable_graphql
    return None


async def run_once(
    claimed: Claim, context: Context, execute: Callable[[], Awaitable[Response]]
) -> Response:
    """Answer from the key when it has an answer; otherwise run the request in one
    transaction that takes the key, does the work and stores the answer."""
    db = context.db
    stored = await _read_stored(context, claimed)
    if stored is not None:
        return replay(stored, claimed)
    await context.reader.close()
    async with db.admitted(context.viewer.organization_id):  # within its tenant's share
        conn = await db.write_connection()
        try:
            return await _run_in(conn, claimed, context, execute)
        finally:
            with contextlib.suppress(Exception):  # a connection the outage broke
                await conn.close()  # rolls back whatever was not committed


async def _read_stored(context: Context, claimed: Claim) -> StoredAnswer | None:
    async with context.db.connect() as conn:
        return await stored_answer(conn, claimed.viewer, claimed.key)


async def _run_in(
    conn: AsyncConnection,
    claimed: Claim,
    context: Context,
    execute: Callable[[], Awaitable[Response]],
) -> Response:
    await conn.begin()
    try:
        await claim(conn, claimed.viewer, claimed.key, claimed.request_hash)
    except IntegrityError:
        # A duplicate committed while this one waited on its key: answer as it did.
        await conn.rollback()
        stored = await stored_answer(conn, claimed.viewer, claimed.key)
        await conn.rollback()
        if stored is None:  # it expired meanwhile, which a retry will see
            return unavailable_graphql()
        return replay(stored, claimed)
    pin = Pinned(conn)
    token = pinned.set(pin)
    broker, events = context.broker, None
    if broker is not None:
        events = HeldEvents(broker)
        context.broker = events
    await context.reader.pin(conn)
    try:
        response = await execute()
    finally:
        pin.open = False
        pinned.reset(token)
        await context.reader.unpin()
        context.broker = broker
    refusal = _failed_retryably(response)
    if refusal is not None:
        with contextlib.suppress(Exception):  # closing the connection rolls back anyway
            await conn.rollback()
        return refusal()
    body = bytes(response.body)
    content_type = response.headers.get("content-type", "application/json")
    await keep_answer(conn, claimed.viewer, claimed.key, response.status_code, content_type, body)
    try:
        await conn.commit()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        context.db.outage.failed("COMMIT of an idempotent mutation", exc)
        return outcome_unknown_graphql()
    if events is not None:
        await events.release()
    return response
