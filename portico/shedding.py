"""Load shedding: a process works on at most MAX_REQUESTS_IN_FLIGHT requests at once.

A request beyond them waits at most ADMISSION_WAIT_MS for a turn, then is answered at once
with 503 `OVERLOADED` and `Retry-After`, unrun: under overload the requests admitted keep
their usual latency instead of every request queueing behind every other. Once signed in,
a request counts against its organization, which holds at most TENANT_SLOT_SHARE of the
turns: one business's stuck requests cannot take every turn of the process.
"""

from __future__ import annotations

import logging
import time

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.admission import Admission, Overloaded, Tenant, Turn
from core.errors import OVERLOADED, OVERLOADED_MESSAGE, OVERLOADED_RETRY_AFTER
from core.settings import Settings

log = logging.getLogger("portico.shedding")

# Probes answer whatever the load: a busy process is not a dead one.
UNGATED_PATHS = frozenset({"/healthz", "/readyz"})
TURN_KEY = "portico_turn"
WARN_EVERY_SECONDS = 10.0  # one warning line per stretch of overload, not one per request


def overloaded(path: str) -> Response:
    """The refusal: GraphQL's envelope on /graphql, a plain code and message elsewhere."""
    headers = {"Retry-After": OVERLOADED_RETRY_AFTER}
    if path == "/graphql":
        error = {"message": OVERLOADED_MESSAGE, "extensions": {"code": OVERLOADED}}
        return JSONResponse({"data": None, "errors": [error]}, status_code=503, headers=headers)
    body = {"code": OVERLOADED, "message": OVERLOADED_MESSAGE}
    return JSONResponse(body, status_code=503, headers=headers)


class Shedding:
    """Admits HTTP requests to the process's turns (see the module's description)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.gate: Admission | None = None
        if settings.max_requests_in_flight > 0:
            self.gate = Admission(
                settings.max_requests_in_flight,
                tenant_share=settings.tenant_slot_share,
                wait_seconds=settings.admission_wait_ms / 1000,
            )
        self.refused = 0
        self._warned_at = -WARN_EVERY_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.gate is None or scope["type"] != "http" or scope["path"] in UNGATED_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            turn = await self.gate.acquire()
        except Overloaded:
            self._note_refusal()
            await overloaded(scope["path"])(scope, receive, send)
            return
        scope.setdefault("state", {})[TURN_KEY] = (self, turn)
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.release(turn)

    def _note_refusal(self) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning(
                "overloaded: %d requests in flight; refusing with 503 (%d refused so far)",
                self.gate.in_use if self.gate else 0,
                self.refused,
            )

    def claim(self, turn: Turn, tenant: Tenant) -> None:
        """Count the request against its tenant (`Overloaded` beyond the tenant's share)."""
        assert self.gate is not None
        try:
            self.gate.claim(turn, tenant)
        except Overloaded:
            self._note_refusal()
            raise


def claim_for_tenant(scope: Scope, tenant: Tenant) -> None:
    """Called once a request's organization is known; nothing when requests are not gated."""
    held = scope.get("state", {}).get(TURN_KEY)
    if held is not None:
        shedding, turn = held
        shedding.claim(turn, tenant)
