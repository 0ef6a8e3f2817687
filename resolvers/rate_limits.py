"""Rate limits of sign-ins, link requests and invites, per address, client and session.

Kept in the database (models/rate_limits.py) so that every server process shares them;
only actions that write anyway are counted here. The overall request rate is limited in
process, without a database round trip (portico/request_limits.py).
"""

from __future__ import annotations

from strawberry import Info

from core.errors import ClientError
from models.rate_limits import hit, hits_now

HOUR = 3600


class RateLimited(ClientError):
    code = "RATE_LIMITED"
    message = "Too many attempts. Try again later."


async def limit(
    info: Info, action: str, email: str | None, *, per_email: int, per_client: int
) -> None:
    """Count this attempt in its own transaction (so refusals count too); raise when over."""
    ctx = info.context
    keys = [(f"{action}:client:{ctx.client_ip or 'unknown'}", per_client)]
    if email:
        keys.append((f"{action}:email:{email.strip().lower()}", per_email))
    await limit_keys(info, keys)


async def limit_session(info: Info, action: str, *, per_session: int, per_client: int) -> None:
    """Count an action of the signed-in viewer, per session and per client address."""
    ctx = info.context
    keys = [(f"{action}:client:{ctx.client_ip or 'unknown'}", per_client)]
    if ctx.viewer.session_id is not None:
        keys.append((f"{action}:session:{ctx.viewer.session_id}", per_session))
    await limit_keys(info, keys)


async def limit_keys(info: Info, keys: list[tuple[str, int]]) -> None:
    async with info.context.db.write() as session:
        allowed = [await hit(session, key, allowance, HOUR) for key, allowance in keys]
    if not all(allowed):
        raise RateLimited(retryAfterSeconds=HOUR)


async def refuse_when_spent(info: Info, key: str, allowance: int) -> None:
    """Refuse before trying when `key` has used its allowance (failures counted apart)."""
    async with info.context.db.write() as session:
        spent = await hits_now(session, key, HOUR) >= allowance
    if spent:
        raise RateLimited(retryAfterSeconds=HOUR)
