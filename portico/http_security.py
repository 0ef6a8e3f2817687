"""The HTTP edge: request ids, security headers, body size, cross-site cookies, CORS, probes.

`Guard` wraps every HTTP request. It gives the request its id (`X-Request-Id`, echoed or
made), adds the security headers to every response, refuses bodies over
`MAX_BODY_BYTES` with 413 before reading them, refuses state-changing requests that ride
on the session cookie from an origin not on the allow-list, and turns anything
unexpected into a logged 500 that says only "Unexpected error." and the request id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.cookies import COOKIE_NAME
from core import request_id
from core.db_faults import database_unavailable
from core.errors import UNEXPECTED, Forbidden, unexpected_extensions
from core.networks import parse_networks
from core.settings import Settings
from models.db import Database
from portico.client_address import ClientAddress
from portico.log_redaction import redact
from portico.request_limits import RequestRate
from portico.shedding import Shedding
from portico.uploads import ENVELOPE_BYTES, UPLOAD_HEADERS
from storage import StorageUnavailable, storage_from_settings
from storage.outage import outage_of

log = logging.getLogger("portico.http")

READY_TIMEOUT_SECONDS = 2.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Nothing of ours is framed, loads from elsewhere, or posts a form to elsewhere. Pages
# that need more (portico/pages.py, GraphiQL's in portico/ide.py) set their own policy.
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=63072000; includeSubDomains"


def origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def allowed_origins(settings: Settings) -> frozenset[str]:
    """Origins that may call with credentials: CORS_ORIGINS, ours and the portal's."""
    own = (origin_of(settings.public_url), origin_of(settings.portal_url))
    return frozenset({*settings.cors_origins, *(o for o in own if o)})


def error_body(message: str, **extensions: object) -> bytes:
    return orjson.dumps({"data": None, "errors": [{"message": message, "extensions": extensions}]})


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.origins = allowed_origins(settings)
        self.max_body = settings.max_body_bytes
        # Uploads are bounded by their own limit (portico/uploads.py checks them exactly).
        self.max_upload_body = max(self.max_body, settings.max_upload_bytes + ENVELOPE_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        rid = request_id.request_id_from(headers.get(request_id.HEADER))
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id.current.set(rid)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self._add_headers(scope, MutableHeaders(scope=message), rid)
            await send(message)

        try:
            refusal, receive = await self._check(scope, headers, receive)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], redact(scope["path"]))
            if started:
                raise
            body = error_body(UNEXPECTED, **unexpected_extensions())
            response = Response(body, status_code=500, media_type="application/json")
            await response(scope, receive, send_with_headers)
        finally:
            request_id.current.reset(token)

    async def _check(
        self, scope: Scope, headers: Headers, receive: Receive
    ) -> tuple[Response | None, Receive]:
        declared = headers.get("content-length")
        limit = self._limit(headers)
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                return self._too_large(limit), receive
        elif "transfer-encoding" in headers:
            # No length given: read up to the limit, then hand the app what was read.
            messages = await self._read_up_to_limit(receive, limit)
            if messages is None:
                return self._too_large(limit), receive
            receive = _replay(messages, receive)
        if self._cross_site_cookie(scope, headers):
            body = error_body("Cross-origin request refused.", code=Forbidden.code)
            return Response(body, status_code=403, media_type="application/json"), receive
        return None, receive

    def _limit(self, headers: Headers) -> int:
        multipart = headers.get("content-type", "").startswith("multipart/form-data")
        return self.max_upload_body if multipart else self.max_body

    def _too_large(self, limit: int) -> Response:
        body = error_body(
            f"The request body is over {limit} bytes.",
            code="PAYLOAD_TOO_LARGE",
            maxBytes=limit,
        )
        return Response(body, status_code=413, media_type="application/json")

    async def _read_up_to_limit(self, receive: Receive, limit: int) -> list[Message] | None:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > limit:
                return None
            if not message.get("more_body", False):
                return messages

    def _cross_site_cookie(self, scope: Scope, headers: Headers) -> bool:
        """A cookie-authenticated write from a foreign page (CSRF), told by its Origin."""
        if scope["method"] in SAFE_METHODS or "authorization" in headers:
            return False
        origin = headers.get("origin")
        if origin is None or COOKIE_NAME not in headers.get("cookie", ""):
            return False
        return origin.rstrip("/") not in self.origins

    def _add_headers(self, scope: Scope, headers: MutableHeaders, rid: str) -> None:
        headers[request_id.HEADER] = rid
        headers.setdefault("x-content-type-options", "nosniff")
        headers.setdefault("referrer-policy", "no-referrer")
        headers.setdefault("x-frame-options", "DENY")
        headers.setdefault("content-security-policy", STRICT_CSP)
        if self.settings.production:
            headers.setdefault("strict-transport-security", HSTS)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


def middleware(settings: Settings, rate_store: Any = None) -> list[Middleware]:
    """Outermost first: the client's address is settled before anything records it, the
    guard sees every response, CORS answers preflights and adds its headers to refusals,
    load shedding refuses what the process cannot take on now, and the rate limit runs
    before any route, planned reads too."""
    return [
        Middleware(ClientAddress, proxies=parse_networks(settings.trusted_proxies)),
        Middleware(Guard, settings=settings),
        Middleware(
            CORSMiddleware,
            allow_origins=sorted(allowed_origins(settings)),
            allow_credentials=True,  # sent back only to an allowed origin
            allow_methods=["GET", "POST"],
            # The upload headers too: a portal on its own origin sends one with every
            # upload (portico/uploads.py), so its preflight must allow it.
            allow_headers=["authorization", "content-type", "x-request-id", *UPLOAD_HEADERS],
            expose_headers=["x-request-id", "retry-after"],
            max_age=600,
        ),
        Middleware(Shedding, settings=settings),
        Middleware(RequestRate, settings=settings, store=rate_store),
    ]


async def healthz(request: Request) -> Response:
    """The process is up and answering; says nothing of the database."""
    return JSONResponse({"status": "ok"})


def readyz(db: Database) -> Callable[[Request], Awaitable[Response]]:
    """The database answers `SELECT 1` and file storage takes a small write, each within a
    short time; 503 naming what failed (`reason`) when not."""
    storage = storage_from_settings(db.settings)

    async def ready(request: Request) -> Response:
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS), db.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            if database_unavailable(exc):  # probed every few seconds: once per outage
                db.outage.failed("readiness check", exc)
            else:
                log.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "unavailable", "reason": "database"}, status_code=503)
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                await storage.check_writable()
        except StorageUnavailable as exc:  # probed every few seconds: once per outage
            outage_of(storage).failed("readiness check", exc, refused=False)
            return JSONResponse({"status": "unavailable", "reason": "storage"}, status_code=503)
        except TimeoutError:
            log.warning("readiness check failed: storage did not take a write in time")
            return JSONResponse({"status": "unavailable", "reason": "storage"}, status_code=503)
        outage_of(storage).writable()
        return JSONResponse({"status": "ok"})

    return ready
