"""The overall request rate, per client address and per session.

Counting every request in the database would add a round trip to every read, planned
ones included. One process counts in memory (token buckets, refilled over a minute);
several processes share counters in Redis when `RATE_LIMIT_URL` names one (fixed
one-minute windows, one round trip of INCR and EXPIRE). Without it, each process counts
alone, so a client may make up to that many times the limit. Sign-in, link and invite
limits are always in the database, shared by all (resolvers/rate_limits.py).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.cookies import COOKIE_NAME
from core.settings import Settings

log = logging.getLogger("portico.limits")
WINDOW_SECONDS = 60
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})


class TokenBucket:
    """At most `limit` hits per key per minute, refilled evenly; `limit <= 0` counts nothing.

    A bucket refills continuously, so there is no window edge at which a client may
    spend two windows' worth at once. A bucket left alone for a minute is full again and
    is dropped, so memory is bounded by the clients seen in the last minute.
    """

    def __init__(self, limit: int, seconds: int = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.rate = limit / seconds if limit > 0 else 0.0
        self.seconds = seconds
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self.swept = 0.0

    def hit(self, key: str, now: float) -> int | None:
        """None when allowed, else the seconds until the next hit would be."""
        if self.limit <= 0:
            return None
        if now - self.swept > self.seconds:
            self._sweep(now)
        tokens, when = self.buckets.get(key, (float(self.limit), now))
        tokens = min(float(self.limit), tokens + (now - when) * self.rate)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))
        self.buckets[key] = (tokens - 1, now)
        return None

    def _sweep(self, now: float) -> None:
        self.swept = now
        self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < self.seconds}


def session_key(headers: Headers) -> str | None:
    """Who the request claims to be: its bearer token or session cookie, hashed."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    credential = token.strip() if scheme.lower() == "bearer" else ""
    if not credential:
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE_NAME:
                credential = value
    return hashlib.sha256(credential.encode()).hexdigest() if credential else None


class SharedWindow:
    """At most `limit` hits per key per minute across every process, counted in Redis.

    If Redis cannot be reached the request goes through (and the failure is logged): the
    limiter protects the service, it must not take it down.
    """

    def __init__(self, store: Any, limit: int, prefix: str) -> None:
        self.redis = store
        self.limit = limit
        self.prefix = prefix

    async def hit(self, key: str, now: float) -> int | None:
        if self.limit <= 0:
            return None
        window = int(now // WINDOW_SECONDS)
        name = f"portico:rate:{self.prefix}:{window}:{key}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(name).expire(name, WINDOW_SECONDS * 2).execute()
        except Exception as error:
            log.warning("rate limit store unavailable: %s", error)
            return None
        if int(count) <= self.limit:
            return None
        return max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS))


def shared_store(settings: Settings) -> Any:
    """The Redis client behind shared counters, or None to count in this process.
    The app closes it when it stops."""
    if not settings.rate_limit_url:
        return None
    import redis.asyncio

    return redis.asyncio.from_url(
        settings.rate_limit_url, socket_timeout=0.5, socket_connect_timeout=0.5
    )


class RequestRate:
    """ASGI middleware: 429 with Retry-After once a client or a session is over its rate."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        store: Any = None,
    ) -> None:
        self.app = app
        if store is not None:
            self.clients: Any = SharedWindow(store, settings.requests_per_minute_per_client, "ip")
            self.sessions: Any = SharedWindow(
                store, settings.requests_per_minute_per_session, "session"
            )
            self.clock = time.time if clock is time.monotonic else clock  # windows of wall time
        else:
            self.clients = TokenBucket(settings.requests_per_minute_per_client)
            self.sessions = TokenBucket(settings.requests_per_minute_per_session)
            self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        now = self.clock()
        client = scope.get("client")
        retry = await self._hit(self.clients, client[0] if client else "unknown", now)
        session = session_key(Headers(scope=scope))
        if retry is None and session is not None:
            retry = await self._hit(self.sessions, session, now)
        if retry is None:
            await self.app(scope, receive, send)
            return
        await too_many_requests(retry, send)

    async def _hit(self, counter: Any, key: str, now: float) -> int | None:
        return await _hit_any(counter, key, now)


async def _hit_any(counter: Any, key: str, now: float) -> int | None:
    found = counter.hit(key, now)
    return await found if hasattr(found, "__await__") else found


async def too_many_requests(retry_after: int, send: Send) -> None:
    body = orjson.dumps(
        {
            "data": None,
            "errors": [
                {
                    "message": "Too many requests. Try again later.",
                    "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": retry_after},
                }
            ],
        }
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
