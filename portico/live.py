"""GraphQL over WebSocket on `/graphql`: subscriptions only, graphql-transport-ws only.

A connection is signed in once, in `on_ws_connect`, from the `connection_init` payload
(`{"authorization": "Bearer <token>"}`), else an `Authorization` header on the handshake,
else the session cookie; without a live session it is closed with 4403. Each subscription
then checks the session again when it starts, for every event it delivers and at least
every `RECHECK_SECONDS` (resolvers/live.py), so sign-out, expiry and revocation stop it.

Queries and mutations are refused over the socket: they would run for the viewer decided
when the connection opened, and HTTP already serves them with a check per request.

While the database cannot be reached the session cannot be read either: `connection_init`
is then answered by closing the socket with 4503 `SERVICE_UNAVAILABLE` (as HTTP answers
503), which graphql-ws clients retry; the next connection after the outage is served.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.websocket_origin import is_same_origin, normalize_origin
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from auth.cookies import COOKIE_NAME, read_session_cookie
from auth.sessions import viewer_for_token
from core.db_faults import database_unavailable
from core.errors import ServiceUnavailable
from core.settings import Settings
from schema.context import Context
from schema.limits import parse_within

MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
# Bearer tokens are no ambient credential: any origin may open a socket and present one.
# The cookie is honoured only from Portico's own origin or the portal's (see _cookie).
ALLOWED_ORIGINS = ("*",)
# The 4xxx counterpart of HTTP 503. graphql-ws treats only a few 4xxx codes as fatal (4400,
# 4401, 4409, 4429, 4500 ...), so its clients reconnect after this one with their backoff.
UNAVAILABLE_CLOSE_CODE = 4503
# The code of a subscription sent over HTTP (refused with 400).
WEBSOCKET_REQUIRED = "WEBSOCKET_REQUIRED"

log = logging.getLogger("portico.outage")


def _bearer(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _cookie(websocket: WebSocket, settings: Settings) -> str | None:
    """The session cookie, where the handshake cannot be a cross-site page's.

    Browsers send cookies with any page's WebSocket handshake; a page of another site must
    not act with them, so the cookie counts only without an Origin (not a browser), from
    the same origin, or from the portal client's.
    """
    cookie = websocket.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    origin = websocket.headers.get("origin")
    portal = normalize_origin(settings.portal_url) if settings.portal_url else None
    trusted = (
        origin is None
        or is_same_origin(origin, websocket.headers.get("host"))
        or (portal is not None and normalize_origin(origin) == portal)
    )
    return read_session_cookie(settings, cookie) if trusted else None


def connection_token(context: Context) -> str | None:
    params = context.connection_params or {}
    token = _bearer(params.get("authorization", params.get("Authorization")))
    websocket = context.request
    if token is None and isinstance(websocket, WebSocket):
        token = _bearer(websocket.headers.get("authorization"))
        token = token or _cookie(websocket, context.settings)
    return token


async def authenticate(context: Context) -> None:
    """Sign the connection in, or refuse it (Strawberry closes it with 4403)."""
    try:
        viewer = await viewer_for_token(context.reader, connection_token(context))
    finally:
        # A socket lives for hours: hold a pool connection only while an event is read.
        await context.reader.close()
    if not (viewer.is_staff or viewer.is_portal):
        raise ConnectionRejectionError({"message": "Sign in to continue."})
    context.as_viewer(viewer)


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames; the view encodes JSON as bytes (for
    HTTP), which Strawberry would send as binary frames that clients do not parse."""

    async def send_json(self, message: Any) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


def is_subscription(query: Any, operation_name: Any, max_tokens: int) -> bool | None:
    """Whether the operation that would run is a subscription; None when Strawberry should
    judge the request (no query, no operation to pick). Raises GraphQLError for a document
    that cannot be parsed within `max_tokens` (schema/limits.py)."""
    if not isinstance(query, str) or not isinstance(operation_name, str | None):
        return None
    operation = get_operation_ast(parse_within(query, max_tokens), operation_name)
    return None if operation is None else operation.operation is OperationType.SUBSCRIPTION


class SubscriptionOverHttp(Exception):
    """A subscription sent as an HTTP request: it can only be served over the WebSocket."""


def subscription_over_http() -> Response:
    error = {
        "message": "Subscriptions are served over WebSocket (graphql-transport-ws) on "
        "/graphql; HTTP serves queries and mutations.",
        "extensions": {"code": WEBSOCKET_REQUIRED},
    }
    return JSONResponse({"data": None, "errors": [error]}, status_code=400)


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, answering queries and mutations with an error, and a sign-in
    the database cannot answer with a coded close."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # One warning per outage, not one per refused connection.
            self.context.db.outage.failed("WebSocket connection refused", exc)
            await self.websocket.close(code=UNAVAILABLE_CLOSE_CODE, reason=ServiceUnavailable.code)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged:
            refusal = self._refusal(message)
            if refusal is not None:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal.formatted]}
                )
                return
        await super().handle_subscribe(message)

    def _refusal(self, message: SubscribeMessage) -> GraphQLError | None:
        """Why the document is not run: it cannot be parsed within the token limit (the
        executor's stream would end without a word), or it is no subscription."""
        try:
            payload = message["payload"]
            query, name = payload["query"], payload.get("operationName")
        except (KeyError, TypeError):
            return None  # Strawberry answers a malformed message
        try:
            subscription = is_subscription(query, name, self.context.settings.max_query_tokens)
        except GraphQLError as error:
            return error
        if subscription is False:
            return GraphQLError(
                "Only subscriptions are served over WebSocket; send queries and mutations "
                "as HTTP POST requests.",
                extensions={"code": "BAD_REQUEST"},
            )
        return None
