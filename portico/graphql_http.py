"""The GraphQL-over-HTTP contract of /graphql: which media type a response takes, chosen
by the request's `Accept`, and which status a request error answers with.

Two media types are served. `application/graphql-response+json` (what the GraphQL over
HTTP spec names) answers a request error (a document that does not parse or validate,
variables that do not coerce, no operation to run) with 400 and no `data` entry.
`application/json` (the default: no `Accept`, `*/*`, or a client that prefers it) keeps
answering 200 with `data: null`, as clients written before the spec expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
REQUEST_ERROR_STATUS = 400


def wanted_media_type(accept: str | None) -> str:
    """`application/graphql-response+json` when the client names it and prefers it at
    least as much as `application/json`; `application/json` otherwise. Only a client that
    names the new type gets it: `*/*` (or no `Accept`) keeps the type older clients read."""
    ranges = _ranges(accept or "")
    named = [q for media, q in ranges if media == GRAPHQL_RESPONSE]
    if not named or max(named) <= 0:
        return JSON
    return GRAPHQL_RESPONSE if max(named) >= _quality(ranges, JSON) else JSON


def _ranges(accept: str) -> list[tuple[str, float]]:
    """(media range, q) for each entry of an Accept header; a malformed q counts as 0."""
    ranges = []
    for entry in accept.split(","):
        media, *params = (part.strip() for part in entry.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The q the most specific matching range gives `media_type` (RFC 9110, 12.5.1)."""
    kind = media_type.split("/")[0]
    for candidate in (media_type, f"{kind}/*", "*/*"):
        matching = [q for media, q in ranges if media == candidate]
        if matching:
            return max(matching)
    return 0.0


def is_request_error(response: Mapping[str, Any]) -> bool:
    """Errors raised before execution began: no data, and no error at a field's path (a
    field error that nulls the whole `data` has one, and is answered with 200)."""
    errors = response.get("errors")
    if response.get("data") is not None or not errors:
        return False
    return all("path" not in e for e in errors)


def as_request_error(response: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's shape of a request error: the `data` entry is left out."""
    return {key: value for key, value in response.items() if key != "data"}


class NegotiatedMediaType:
    """Outermost middleware: every JSON answer of /graphql (executed, planned, replayed, or
    refused before the view: rate limits, sizes, origins, load, outages) carries the media
    type the request's `Accept` picked. Other answers (plain-text 400s, GraphiQL's page)
    keep theirs."""

    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        media_type = wanted_media_type(Headers(scope=scope).get("accept"))
        if media_type == JSON:  # what every answer is written as already
            await self.app(scope, receive, send)
            return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith(JSON):
                    headers["content-type"] = f"{media_type}; charset=utf-8"
            await send(message)

        await self.app(scope, receive, labelled)
