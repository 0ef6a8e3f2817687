"""Clients known to an address: one that signed in to it (staff or portal) within 30 days.
The sign-in throttles (resolvers/throttle.py) never delay a known client for failures
made elsewhere. Kept in the database (models/rate_limits.py)."""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncSession

from models.rate_limits import hit

KNOWN_SECONDS = 30 * 24 * 3600  # a client stays known to an address this long


def known_key(family: str, email: str, client_ip: str | None) -> str:
    """The record of `client_ip` being known to `email` (family: "staff" or "portal")."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"known:{family}:{digest}:{client_ip or 'unknown'}"


async def remember_client(
    session: AsyncSession, family: str, email: str, client_ip: str | None
) -> None:
    """Know this client for `email` (inside the write that signs someone in)."""
    await hit(session, known_key(family, email, client_ip), 1 << 30, KNOWN_SECONDS)
