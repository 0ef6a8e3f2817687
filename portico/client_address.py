"""The client's address: the direct peer, unless that peer is a trusted proxy.

Rate limits, audit events, sessions and signatures record `scope["client"]`. A client
can write any `X-Forwarded-For` it likes, so the header counts only when the peer is in
TRUSTED_PROXIES (empty by default: it never counts). Then the header is read from the
right, skipping trusted proxies, and the first address that is not one is the client:
addresses further left were written by whoever sent the request to the first proxy.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from core.networks import Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: object, proxies: tuple[Network, ...]) -> bool:
    if address is None:  # a peer that is no IP address (a Unix socket) is nobody's proxy
        return False
    return any(address in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """Who the client is, given the direct peer and its `X-Forwarded-For` header."""
    if not proxies or not forwarded_for or not _trusted(_address(peer), proxies):
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:  # garbage: nothing left of it can be believed
            break
        client = str(address)
        if not _trusted(address, proxies):
            break
    return client


class ClientAddress:
    """ASGI middleware, outermost: every later step sees the client's real address."""

    def __init__(self, app: ASGIApp, proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if self.proxies and client and scope["type"] in ("http", "websocket"):
            forwarded = Headers(scope=scope).get("x-forwarded-for")
            host = client_address(client[0], forwarded, self.proxies)
            if host != client[0]:
                scope["client"] = (host, client[1])
        await self.app(scope, receive, send)
