"""Calling an address an organization gave us (a webhook endpoint) without letting it
reach anything inside: server-side request forgery refused by construction.

An address is public or refused: loopback, private, shared (carrier NAT), link-local (and
so the cloud metadata address 169.254.169.254), multicast, unspecified, reserved and
documentation ranges, IPv4 and IPv6 alike; an IPv4-mapped or -translated IPv6 address is
judged as the IPv4 address it carries, and a mapped loopback is refused even where
loopback is allowed. A name is resolved right before connecting and every address it
resolves to must pass; the connection then goes to the address that was checked (never
resolved again, so a name cannot rebind in between), with the name kept for the Host
header and for TLS (SNI and certificate checks). Redirects are never followed, the answer
is read up to a size, and the whole exchange is bounded in time.

`allow_loopback` (WEBHOOK_ALLOW_LOOPBACK, refused in production) lets tests and
development reach 127.0.0.0/8 and ::1, and only those, over http or https.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
MAX_HEADER_BYTES = 16_384
# Named for the reason they are refused; most are also outside `is_global`.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The address may not be called; the message says why, for the person who gave it."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect and what to say."""

    scheme: str
    host: str  # the name (or literal) as given, for Host and TLS
    port: int
    path: str  # path and query, as sent on the request line


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    latency_ms: int
    body: bytes  # at most the size asked for


def address_refused(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why this address may not be called, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address):
        carried = ip.ipv4_mapped or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        )
        if carried is not None:
            if carried.is_loopback:
                return "a loopback address written as IPv6"
            return address_refused(carried)
        if ip.sixtofour is not None or ip.teredo is not None:
            return "a tunnelled address"
    if ip in _METADATA:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_reserved:
        return "not a public address"
    return None


def parse_target(url: str, *, allow_loopback: bool = False) -> Target:
    """The URL's parts, or Refused for anything but a plain https (or, where loopback is
    allowed, http) URL with a host and no credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise Refused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise Refused("The URL holds spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("The URL cannot be read.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_loopback):
        raise Refused("The URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise Refused("The URL may not hold a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("The URL has no host.")
    if parts.fragment:
        raise Refused("The URL may not hold a fragment (#).")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve_checked(target: Target, *, allow_loopback: bool = False) -> IPAddress:
    """The address to connect to: every address the host resolves to must be callable
    (one refused address refuses the name), and the first is used. Raises Refused."""
    literal = _literal(target.host)
    if literal is not None:
        found = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            raise Refused(f"The host {target.host} could not be resolved.") from None
        found = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    if not found:
        raise Refused(f"The host {target.host} could not be resolved.")
    for ip in found:
        reason = address_refused(ip, allow_loopback=allow_loopback)
        if reason is not None:
            raise Refused(f"The host {target.host} is {reason} ({ip}), which is refused.")
    if target.scheme == "http" and not all(ip.is_loopback for ip in found):
        raise Refused("The URL must start with https:// (plain http is for loopback only).")
    return found[0]


async def check_url(url: str, *, allow_loopback: bool = False) -> Target:
    """Refused unless the URL is one `post` would call now."""
    target = parse_target(url, allow_loopback=allow_loopback)
    await resolve_checked(target, allow_loopback=allow_loopback)
    return target


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    seconds: float,
    max_bytes: int,
    allow_loopback: bool = False,
) -> Answer:
    """POST `body` to `url` once: checked and resolved right now, connected to the checked
    address, no redirect followed (a 3xx is an answer like any other), at most `max_bytes`
    of the answer read, all within `seconds`. Raises Refused, TimeoutError or
    OSError (refused, reset, TLS) when there is no answer."""
    target = parse_target(url, allow_loopback=allow_loopback)
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        ip = await resolve_checked(target, allow_loopback=allow_loopback)
        tls = ssl.create_default_context() if target.scheme == "https" else None
        reader, writer = await asyncio.open_connection(
            str(ip),
            target.port,
            ssl=tls,
            server_hostname=target.host if tls else None,
            limit=MAX_HEADER_BYTES,
        )
        try:
            lines = [
                f"POST {target.path} HTTP/1.1",
                f"Host: {_host_header(target)}",
                "User-Agent: Portico-Webhooks/1",
                "Content-Type: application/json",
                f"Content-Length: {len(body)}",
                "Connection: close",
                *(f"{name}: {value}" for name, value in headers.items()),
            ]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            status = await _read_head(reader)
            latency = int((time.monotonic() - started) * 1000)
            answer = await _read_some(reader, max_bytes)
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):  # the peer went first
                await writer.wait_closed()
    return Answer(status, latency, answer)


async def _read_head(reader: asyncio.StreamReader) -> int:
    """The status code, having read (and dropped) the headers, at most MAX_HEADER_BYTES."""
    try:
        line = await reader.readline()
        version, _, rest = line.decode("latin-1").partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise OSError("the endpoint did not answer in HTTP/1.x")
        status = int(rest[:3])
        size = len(line)
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            size += len(header)
            if size > MAX_HEADER_BYTES:
                raise OSError("the endpoint's answer has headers over 16 KiB")
    except (ValueError, asyncio.LimitOverrunError) as exc:
        raise OSError(f"the endpoint's answer cannot be read: {exc}") from None
    return status


async def _read_some(reader: asyncio.StreamReader, max_bytes: int) -> bytes:
    """Up to `max_bytes` of the body; the rest is never read."""
    chunks: list[bytes] = []
    left = max_bytes
    while left > 0 and (chunk := await reader.read(min(left, 8192))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
