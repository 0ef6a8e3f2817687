"""Stripe webhook signatures: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The HMAC covers `"<t>." + body` with the endpoint's secret. Unlike the SDK, a timestamp too
far in the future is refused as well as one too old: a signature is only good near the moment
it was made, whichever way the clocks disagree.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

DEFAULT_TOLERANCE = 300


class BadSignature(Exception):
    """The webhook is not provably Stripe's, or not from now; answer 400 and change nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _signature(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value Stripe would send for this body."""
    return f"t={timestamp},v1={_signature(payload, secret, timestamp)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise BadSignature("malformed signature header")
        if key == "t":
            if timestamp is not None or not value.isdigit():
                raise BadSignature("malformed signature header")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
        # Other schemes (v0, future versions) are ignored, as Stripe advises.
    if timestamp is None:
        raise BadSignature("no timestamp in signature header")
    if not signatures:
        raise BadSignature("no v1 signature in signature header")
    return timestamp, signatures


def verify_event(
    payload: bytes,
    header: str | None,
    secret: str,
    *,
    now: int | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """The event object from a webhook body whose signature and timestamp hold."""
    if not header:
        raise BadSignature("missing signature header")
    if not secret:
        raise BadSignature("no webhook secret configured")
    timestamp, signatures = _parse_header(header)
    expected = _signature(payload, secret, timestamp)
    # Compare against every v1 value in constant time (several appear while a secret rolls).
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise BadSignature("no matching signature")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        raise BadSignature("timestamp outside the tolerance")
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadSignature("body is not JSON") from exc
    if not isinstance(event, dict):
        raise BadSignature("body is not a JSON object")
    return event
