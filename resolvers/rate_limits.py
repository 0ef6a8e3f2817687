"""Rate limits of the sign-in doors, per address and per client."""

from __future__ import annotations

from strawberry import Info

from models.rate_limits import hit
from portico.errors import ClientError

HOUR = 3600


class RateLimited(ClientError):
    code = "RATE_LIMITED"
    message = "Too many attempts. Try again later."


async def limit(
    info: Info, door: str, email: str | None, *, per_email: int, per_client: int
) -> None:
    """Count this attempt in its own transaction (so refusals count too); raise when over."""
    ctx = info.context
    keys = [(f"{door}:client:{ctx.client_ip or 'unknown'}", per_client)]
    if email:
        keys.append((f"{door}:email:{email.strip().lower()}", per_email))
    async with ctx.db.write() as session:
        allowed = [await hit(session, key, allowance, HOUR) for key, allowance in keys]
    if not all(allowed):
        raise RateLimited(retryAfterSeconds=HOUR)
