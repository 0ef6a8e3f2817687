"""The signature every delivery carries, Stripe-style:

    Portico-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>

The receiver recomputes it over the raw body and compares in constant time, and refuses a
timestamp too far from its own clock (a replay). The README shows the check in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Portico-Signature"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
