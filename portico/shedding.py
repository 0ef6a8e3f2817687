"""Load shedding: a process works on at most MAX_REQUESTS_IN_FLIGHT requests at once.

A request beyond them waits at most ADMISSION_WAIT_MS for a turn, then is answered at once
with 503 `OVERLOADED` and `Retry-After`, unrun: under overload the requests admitted keep
their usual latency instead of every request queueing behind every other. A request counts
against its organization, which holds at most TENANT_SLOT_SHARE of the turns: one
business's stuck requests cannot take every turn of the process.

The organization is known for sure only after the session is checked, which takes a
database round trip; a turn is taken before that. So the gate guesses it from the
credential (bearer token or session cookie) as last signed in, a dictionary look-up: an
organization at its share waits behind its own turns and is refused without taking one of
the others'. The guess grants nothing: once signed in, the request counts against the
organization its session gives (`claim_for_tenant`), and a wrong guess is corrected.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.cookies import COOKIE_NAME
from core.admission import Admission, Overloaded, Tenant, Turn
from core.errors import OVERLOADED, OVERLOADED_MESSAGE, OVERLOADED_RETRY_AFTER
from core.settings import Settings

log = logging.getLogger("portico.shedding")

# Probes answer whatever the load: a busy process is not a dead one.
UNGATED_PATHS = frozenset({"/healthz", "/readyz"})
TURN_KEY = "portico_turn"
WARN_EVERY_SECONDS = 10.0  # one warning line per stretch of overload, not one per request
KNOWN_CREDENTIALS = 10_000  # credentials whose organization the gate remembers
_COOKIE_PREFIX = COOKIE_NAME.encode() + b"="


def credential_key(scope: Scope) -> str | None:
    """A digest of the request's credential (its Authorization header, else its session
    cookie), read from the raw headers: no parsing beyond that, no signature check."""
    cookie = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return hashlib.sha256(value).hexdigest()
        if name == b"cookie" and _COOKIE_PREFIX in value:
            cookie = value
    if cookie is None:
        return None
    start = cookie.index(_COOKIE_PREFIX) + len(_COOKIE_PREFIX)
    end = cookie.find(b";", start)
    return hashlib.sha256(b"cookie:" + cookie[start : None if end < 0 else end]).hexdigest()


class KnownTenants:
    """Which organization each recent credential signed in as (the gate's guess)."""

    def __init__(self, size: int = KNOWN_CREDENTIALS) -> None:
        self.size = size
        self._tenants: OrderedDict[str, Tenant] = OrderedDict()

    def guess(self, key: str | None) -> Tenant:
        return self._tenants.get(key) if key is not None else None

    def learn(self, key: str | None, tenant: Tenant) -> None:
        if key is None:
            return
        if tenant is None:
            self._tenants.pop(key, None)
            return
        self._tenants[key] = tenant
        self._tenants.move_to_end(key)
        if len(self._tenants) > self.size:
            self._tenants.popitem(last=False)


def overloaded(path: str, waited_seconds: float = 0.0) -> Response:
    """The refusal: GraphQL's envelope on /graphql, a plain code and message elsewhere.
    `Server-Timing` says how long it waited for a turn (0 when refused at once), so a
    client or an operator can tell a queue from a refusal without timing it."""
    headers = {
        "Retry-After": OVERLOADED_RETRY_AFTER,
        "Server-Timing": f"admission;dur={waited_seconds * 1000:.1f}",
    }
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
        self.known = KnownTenants()
        self.refused = 0
        self._warned_at = -WARN_EVERY_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.gate is None or scope["type"] != "http" or scope["path"] in UNGATED_PATHS:
            await self.app(scope, receive, send)
            return
        key = credential_key(scope)
        asked = time.monotonic()
        try:
            turn = await self.gate.acquire(self.known.guess(key))
        except Overloaded:
            self._note_refusal()
            await overloaded(scope["path"], time.monotonic() - asked)(scope, receive, send)
            return
        scope.setdefault("state", {})[TURN_KEY] = (self, turn, key)
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

    def claim(self, turn: Turn, tenant: Tenant, key: str | None) -> None:
        """Count the request against its tenant (`Overloaded` beyond the tenant's share),
        and remember the tenant its credential stands for."""
        assert self.gate is not None
        self.known.learn(key, tenant)
        try:
            self.gate.claim(turn, tenant)
        except Overloaded:
            self._note_refusal()
            raise


def claim_for_tenant(scope: Scope, tenant: Tenant) -> None:
    """Called once a request's organization is known (None: it has none, or its session
    has ended); nothing when requests are not gated. `Overloaded` beyond its share."""
    held = scope.get("state", {}).get(TURN_KEY)
    if held is not None:
        shedding, turn, key = held
        shedding.claim(turn, tenant, key)
