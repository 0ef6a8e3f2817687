"""Answers while the database cannot be reached: a quick, coded refusal instead of a hang or
a stack trace, so that clients and load balancers retry. Nothing is kept between requests,
so the first request after the database returns is served as usual (the pool's pre-ping
replaces the connections the outage broke)."""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db_faults import database_unavailable
from core.errors import OutcomeUnknown, RequestTimedOut, ServiceUnavailable
from core.outage_watch import RequestOutage
from portico.log_redaction import redact

log = logging.getLogger("portico.outage")

RETRY_AFTER_SECONDS = "5"


def unavailable_graphql() -> Response:
    """A GraphQL request refused before it ran (its viewer could not even be read)."""
    error = {"message": ServiceUnavailable.message, "extensions": {"code": ServiceUnavailable.code}}
    return JSONResponse(
        {"data": None, "errors": [error]},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def outcome_unknown_graphql() -> Response:
    """A GraphQL request whose database went away while (or after) saving its change."""
    error = {"message": OutcomeUnknown.message, "extensions": {"code": OutcomeUnknown.code}}
    return JSONResponse(
        {"data": None, "errors": [error]},
        status_code=OutcomeUnknown.status,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def unavailable_http() -> Response:
    body = {"code": ServiceUnavailable.code, "message": ServiceUnavailable.message}
    return JSONResponse(body, status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})


class DatabaseOutage:
    """HTTP 503 for a route that failed because the database is unreachable, when nothing of
    its response has been sent yet; every other error goes on as before."""

    def __init__(self, app: ASGIApp, watch: RequestOutage) -> None:
        self.app = app
        self.watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            self.watch.failed(f"{redact(str(scope.get('path')))} answered 503", exc)
            await unavailable_http()(scope, receive, send)


def request_timed_out() -> Response:
    """A GraphQL request that ran out of its time budget (REQUEST_TIMEOUT_SECONDS), or whose
    statement the database stopped for waiting too long (a timeout, a locked row)."""
    error = {"message": RequestTimedOut.message, "extensions": {"code": RequestTimedOut.code}}
    return JSONResponse({"data": None, "errors": [error]}, status_code=RequestTimedOut.status)
