"""The Starlette application: routes, the GraphQL view, and the database lifespan."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from auth.cookies import COOKIE_NAME, read_session_cookie
from auth.sessions import viewer_for_token
from auth.viewer import ANONYMOUS, ViewerKind
from core import request_id
from core.admission import Overloaded
from core.broker import Broker, InProcessBroker
from core.db_faults import database_busy, database_unavailable
from core.errors import may_have_happened
from core.settings import Settings, get_settings
from models.db import Database
from planner import prepared
from planner.extension import cache_stats
from portico import graphql_http, ide, idempotency, live, log_redaction
from portico.background import run_background
from portico.database_outage import (
    DatabaseOutage,
    outcome_unknown_graphql,
    request_timed_out,
    unavailable_graphql,
)
from portico.downloads import download
from portico.exports import export_csv, export_link
from portico.http_security import healthz, middleware, readyz
from portico.integrations import telematics_readings
from portico.pages import (
    confirm_email_page,
    reset_password_page,
    sign_in_page,
    staff_invite_page,
    staff_reset_page,
    stripe_onboarding_done,
    stripe_onboarding_refresh,
)
from portico.pg_broker import PostgresBroker
from portico.request_limits import shared_store
from portico.shedding import claim_for_tenant, overloaded
from portico.twilio_webhook import twilio_webhook
from portico.uploads import multipart_refusal
from portico.webhooks import stripe_webhook
from schema.context import Context, make_context
from schema.introspection import may_introspect
from schema.root import build_schema

if TYPE_CHECKING:
    from cross_web import AsyncHTTPRequestAdapter  # Strawberry's, for its signatures
    from strawberry.http import GraphQLRequestData
    from strawberry.types import ExecutionResult, SubscriptionExecutionResult

log = logging.getLogger("portico")
GC_GENERATION_0 = 20_000


class SessionEnded(Exception):
    """A bearer token was sent, but its session is over (expired, signed out, revoked)."""


def bearer_token(request: Request | WebSocket) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def cookie_token(request: Request | WebSocket, settings: Settings) -> str | None:
    """The signed session cookie's token.

    A cookie rides along with any request a browser makes, including forged cross-site
    ones; it counts only on a JSON POST, which no plain HTML form can send.
    """
    cookie = request.cookies.get(COOKIE_NAME)
    return read_session_cookie(settings, cookie) if cookie and _json_post(request) else None


def _json_post(request: Request | WebSocket) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.scope.get("method") == "POST" and content_type == "application/json"


class PorticoGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with Portico's per-request context."""

    graphql_transport_ws_handler_class = live.SubscriptionsOnlyHandler
    websocket_adapter_class = live.TextFrames

    def __init__(
        self,
        db: Database,
        *,
        plan_reads: bool = True,
        broker: Broker | None = None,
        introspection: str = "on",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.db = db
        self.plan_reads = plan_reads
        self.broker = broker
        self.introspection = introspection

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses what is not valid UTF-8, lone surrogates ("\ud800") included,
        # with a JSONDecodeError: a 400, where the json module let them through to SQL.
        return orjson.loads(data)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        # One per request: the prepared path for planned queries creates it before Strawberry.
        existing = getattr(request.state, "portico_sub_response", None)
        if existing is None:
            existing = request.state.portico_sub_response = await super().get_sub_response(request)
        return existing

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = self._new_context(request, response)
        if isinstance(request, WebSocket):
            return context  # signed in by on_ws_connect, from the connection_init payload
        await self._sign_in(context, request, self._token(request))
        return context

    def _new_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = make_context(
            self.db, ANONYMOUS, request, response, plan_reads=self.plan_reads, broker=self.broker
        )
        # Plans are kept per schema: an app with other limits never answers from this one's.
        context.extras["schema"] = id(self.schema)
        # Literals are lifted into variables by its types (planner/literals.py).
        context.extras["graphql_schema"] = getattr(self.schema, "_schema", None)
        request.state.portico_context = context
        return context

    def _token(self, request: Request) -> str | None:
        return bearer_token(request) or cookie_token(request, self.db.settings)

    async def _sign_in(self, context: Context, request: Request, token: str | None) -> None:
        viewer = await viewer_for_token(context.reader, token)
        if viewer.kind is ViewerKind.ANONYMOUS:
            if bearer_token(request):
                # Revocation, sign-out and expiry take effect on the very next request.
                raise SessionEnded()
            return
        context.as_viewer(viewer)
        if context.plan_reads:
            prepared.remember(token, viewer)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await live.authenticate(context)
        return UNSET

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL only for those who may introspect (in production: signed-in staff)."""
        context: Context = request.state.portico_context
        viewer = context.viewer
        cookie = read_session_cookie(self.db.settings, request.cookies.get(COOKIE_NAME))
        if viewer.kind is ViewerKind.ANONYMOUS and cookie:  # a page view, so no JSON POST
            viewer = await viewer_for_token(context.reader, cookie)
        if not may_introspect(self.introspection, viewer):
            return Response("Not Found", status_code=404)
        return ide.page(request)  # from the package's own files: no CDN, works offline

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """Refuse a subscription sent over HTTP: the executor would run it as a query, its
        event stream would be no value, and the client would get an internal error."""
        if (
            not isinstance(request_data, list)
            and self._get_stream_transport(request_data.protocol) is None
        ):
            query, tokens = request_data.query, self.db.settings.max_query_tokens
            # The keyword test spares queries a parse; the parse is the one execution reuses.
            if isinstance(query, str) and "subscription" in query:
                try:
                    subscription = live.is_subscription(query, request_data.operation_name, tokens)
                except GraphQLError:  # Strawberry reports it while parsing
                    subscription = None
                if subscription:
                    raise live.SubscriptionOverHttp()
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            root_value=root_value,
            sub_response=sub_response,
        )

    async def process_result(self, request: Any, result: Any) -> Any:
        """A request error (nothing executed) asked for as graphql-response+json answers
        400 without `data`; application/json keeps 200 with `data: null`."""
        response = await super().process_result(request, result)
        if (
            isinstance(request, Request)
            and isinstance(response, dict)
            and _media_type(request) == graphql_http.GRAPHQL_RESPONSE
            and graphql_http.is_request_error(response)
        ):
            sub_response = await self.get_sub_response(request)
            sub_response.status_code = graphql_http.REQUEST_ERROR_STATUS
            return graphql_http.as_request_error(response)
        return response

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(request, WebSocket):  # a subscription lives as long as it is open
            return await self._run(request, *args, **kwargs)
        try:
            # One budget for the whole request: cancelling it rolls back its transaction
            # and returns its pooled connection.
            async with asyncio.timeout(self.db.settings.request_timeout_seconds):
                return await self._run(request, *args, **kwargs)
        except TimeoutError:
            log.warning("request over its %ss budget", self.db.settings.request_timeout_seconds)
            return request_timed_out()

    async def _run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            if isinstance(request, Request) and request.method == "POST":
                refused = multipart_refusal(request, self.db.settings)
                if refused is not None:
                    return refused
                sub_response = await self.get_sub_response(request)
                context = self._new_context(request, sub_response)
                token = self._token(request)
                planned = await _prepared_answer(
                    # A planned read counts against its organization's share like any other.
                    prepared.answer_with_session(
                        request,
                        context,
                        token,
                        lambda viewer: claim_for_tenant(request.scope, viewer.organization_id),
                    )
                )
                if planned is None:
                    await self._sign_in(context, request, token)
                    # From here the request counts against its organization's share.
                    claim_for_tenant(request.scope, context.viewer.organization_id)
                    planned = await _prepared_answer(prepared.answer(request, context))
                if planned is not None:
                    return planned
                kwargs["context"] = context
                claimed = await idempotency.claim_for(request, context.viewer)
                if isinstance(claimed, Response):
                    return claimed  # a malformed key
                if claimed is not None:
                    execute = functools.partial(super().run, request, *args, **kwargs)
                    return await idempotency.run_once(claimed, context, execute)
            return await super().run(request, *args, **kwargs)
        except SessionEnded:
            claim_for_tenant(request.scope, None)  # its credential stands for nobody now
            return session_ended()
        except live.SubscriptionOverHttp:
            return live.subscription_over_http()
        except Overloaded:  # no turn came free in time, or its tenant holds its share
            return overloaded("/graphql")
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except Exception as exc:
            if database_busy(exc):  # a held lock or a slow statement: retryable, no trace
                log.warning("database statement stopped: GraphQL request timed out (%s)", exc)
                return request_timed_out()
            if not database_unavailable(exc):
                raise
            self.db.outage.failed("GraphQL request refused", exc)
            if may_have_happened(exc, getattr(request.state, "portico_context", None)):
                return outcome_unknown_graphql()  # an earlier transaction of it committed
            return unavailable_graphql()
        finally:
            opened: Context | None = getattr(request.state, "portico_context", None)
            if opened is not None:
                await opened.reader.end()
            if isinstance(request, Request):
                await request.close()  # uploaded files spooled to disk


def _media_type(request: Request) -> str:
    return graphql_http.wanted_media_type(request.headers.get("accept"))


async def _prepared_answer(answering: Coroutine[Any, Any, Response | None]) -> Response | None:
    """A planned answer, or None: a fault of the prepared path never costs a response."""
    try:
        return await answering
    except (ClientDisconnect, Overloaded):
        raise
    except Exception as exc:
        if database_unavailable(exc) or database_busy(exc):
            raise  # the executor would fail (or wait) the same way
        log.exception("prepared planned answer failed; the executor answers")
        return None


def session_ended() -> Response:
    body = {
        "data": None,
        "errors": [
            {
                "message": "Your session has ended. Sign in again.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


PLAN_STATS_ENV = "PORTICO_PLAN_STATS"


def plan_cache_route(settings: Settings) -> list[Route]:
    """`GET /debug/plan-cache`: the plan cache's counters (bench/ reads them), only where
    PORTICO_PLAN_STATS=1 is set and never in production."""
    if os.environ.get(PLAN_STATS_ENV) != "1" or settings.production:
        return []

    async def plan_cache(request: Request) -> Response:
        return JSONResponse(cache_stats())

    return [Route("/debug/plan-cache", plan_cache, methods=["GET"])]


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    *,
    run_mail_worker: bool = True,
    plan_reads: bool = True,
) -> Starlette:
    """The ASGI app; tests hand in their own database (and deliver mail themselves)."""
    settings = settings or (db.settings if db else get_settings())
    settings.check()
    owns_db = db is None
    db = db or Database(settings)
    request_id.install_log_field()
    log_redaction.install()  # the access log names link and download URLs
    schema = build_schema(settings)
    # Several processes share PostgreSQL, so live events go through it; SQLite is one process.
    broker: Broker = PostgresBroker(db) if db.dialect == "postgresql" else InProcessBroker()
    graphql = PorticoGraphQL(
        db,
        plan_reads=plan_reads,
        broker=broker,
        introspection=settings.introspection_mode,
        schema=schema,
        graphql_ide=None if settings.introspection_mode == "off" else "graphiql",
        allow_queries_via_get=False,
        multipart_uploads_enabled=True,  # guarded: portico/uploads.py
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        max_subscriptions_per_connection=live.MAX_SUBSCRIPTIONS_PER_CONNECTION,
        connection_init_wait_timeout=live.CONNECTION_INIT_TIMEOUT,
        allowed_origins=live.ALLOWED_ORIGINS,
    )

    rate_store = shared_store(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything built at start-up (schema, statements, modules) lives as long as the
        # process: move it out of the collector's sight, so collections stay short, and
        # collect young objects less often (requests allocate many short-lived ones).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_GENERATION_0, 20, 20)
        # The outbox is delivered by this process unless a separate `portico worker` does it.
        stop = asyncio.Event()
        background = None
        if run_mail_worker and settings.run_worker_in_server:
            background = asyncio.create_task(run_background(db, stop), name="background")
        if isinstance(broker, PostgresBroker):
            broker.start()
        access_log = asyncio.create_task(db.access_log.run(stop), name="access log")
        try:
            yield
        finally:
            stop.set()
            if background is not None:
                await background
            await access_log  # its last batch is written before the database closes
            if isinstance(broker, PostgresBroker):
                await broker.close()
            if rate_store is not None:
                await rate_store.aclose()
            if owns_db:
                await db.dispose()

    # GraphiQL's files, where its page is served.
    ide_routes = [Route(f"{ide.PREFIX}{{name}}", ide.asset, methods=["GET"])]
    app = Starlette(
        routes=[
            *(ide_routes if settings.introspection_mode != "off" else []),
            *plan_cache_route(settings),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz(db), methods=["GET"]),
            Route("/portal/sign-in", sign_in_page, methods=["GET"]),
            Route("/portal/reset-password", reset_password_page, methods=["GET"]),
            Route("/portal/confirm-email", confirm_email_page, methods=["GET"]),
            Route("/staff/accept-invite", staff_invite_page, methods=["GET"]),
            Route("/staff/reset-password", staff_reset_page, methods=["GET"]),
            Route("/webhooks/stripe", stripe_webhook(db, settings), methods=["POST"]),
            Route("/webhooks/twilio", twilio_webhook(db, settings), methods=["POST"]),
            Route("/stripe/onboarding/done", stripe_onboarding_done, methods=["GET"]),
            Route("/stripe/onboarding/refresh", stripe_onboarding_refresh, methods=["GET"]),
            Route("/downloads/{token}", download, methods=["GET"]),
            Route("/exports/{kind}.csv", export_csv, methods=["GET"]),
            Route("/exports/links/{token}", export_link, methods=["GET"]),
            Route("/integrations/telematics/readings", telematics_readings(db), methods=["POST"]),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(graphql_http.NegotiatedMediaType),  # sees every answer of /graphql
            *middleware(settings, rate_store),
            Middleware(DatabaseOutage, watch=db.outage),
        ],
    )
    app.state.db = db
    app.state.settings = settings
    app.state.broker = broker
    app.state.rate_store = rate_store
    return app
