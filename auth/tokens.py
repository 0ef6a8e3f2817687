"""Random secrets handed to clients, and the hashes that are all the database keeps."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """SHA-256 hex: a database dump alone can redeem nothing."""
    return hashlib.sha256(token.encode()).hexdigest()
