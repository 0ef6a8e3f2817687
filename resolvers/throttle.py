"""Sign-in attempts slow down guessing without letting anyone lock out the rightful person.

A fixed allowance per address (N attempts an hour) is a weapon: N wrong passwords, or N
link requests, from anywhere shut the address's owner out for the rest of the hour. Here
instead:

- Only failures count (a wrong password; for link requests, every request, since each one
  sends an email). Successes never count, and one clears its client's record.
- Delays grow: after `free` failures in a row, the next attempt waits `base` seconds after
  the last failure, then twice that, and so on up to `cap`. Refused attempts count nothing,
  so waiting out a delay always works. Records are forgotten after an hour without failures.
- Two records per attempt: the address from this client (`pair`, strict), and the address
  from everywhere (`address`, loose, short cap), which bounds guessing spread over many
  clients. A client that has signed in to the address before (within 30 days) is known and
  skips the `address` record: an attacker's failures elsewhere never delay the owner's own
  browser, and delay a new one by at most the `address` cap.

The limits are in the README (Security). Kept in the database (models/rate_limits.py),
so every server process shares them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from strawberry import Info

from domain.known_clients import KNOWN_SECONDS, known_key, remember_client
from models.rate_limits import failures_since, forget, hits_now, record_failure
from resolvers.rate_limits import RateLimited

QUIET_SECONDS = 3600  # a record without a failure for this long starts again


@dataclass(frozen=True)
class Throttle:
    free: int  # failures in a row before any delay
    base: float  # the first delay, seconds
    cap: float  # the longest delay, seconds

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * 2 ** (failures - self.free))


@dataclass(frozen=True)
class Attempt:
    name: str
    family: str  # attempts of one family share who is known: "staff" or "portal"
    pair: Throttle  # this address from this client
    address: Throttle  # this address from every client it does not know


STAFF_PASSWORD = Attempt("staff-password", "staff", Throttle(5, 1, 900), Throttle(20, 1, 60))
PORTAL_PASSWORD = Attempt("portal-password", "portal", Throttle(5, 1, 900), Throttle(20, 1, 60))
PORTAL_LINK = Attempt("portal-link", "portal", Throttle(3, 60, 900), Throttle(5, 60, 900))
# Keyed by the staff member's id: a stolen session cannot guess the password it lacks.
STAFF_CHANGE_PASSWORD = Attempt(
    "staff-change-password", "staff-session", Throttle(5, 1, 900), Throttle(5, 1, 900)
)
STAFF_RESET = Attempt("staff-reset", "staff", Throttle(3, 60, 900), Throttle(5, 60, 900))


def _client(info: Info) -> str:
    return info.context.client_ip or "unknown"


def address_key(attempt: Attempt, email: str) -> str:
    """The per-address record's key; the per-client ones add `:<client address>`. The
    address is hashed: keys stay short (the column holds 300 characters) and the table
    holds no email addresses."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"throttle:{attempt.name}:{digest}"


def _keys(info: Info, attempt: Attempt, email: str) -> tuple[str, str]:
    address = address_key(attempt, email)
    return f"{address}:{_client(info)}", address


async def check(info: Info, attempt: Attempt, email: str) -> None:
    """Refuse (RATE_LIMITED, with the seconds to wait) while a delay runs; counts nothing."""
    pair_key, address_key = _keys(info, attempt, email)
    async with info.context.db.write() as session:
        wait = _remaining(attempt.pair, *await failures_since(session, pair_key, QUIET_SECONDS))
        known = await hits_now(
            session, known_key(attempt.family, email, info.context.client_ip), KNOWN_SECONDS
        )
        if not known:
            failures, since = await failures_since(session, address_key, QUIET_SECONDS)
            wait = max(wait, _remaining(attempt.address, failures, since))
    if wait > 0:
        raise RateLimited(retryAfterSeconds=max(1, math.ceil(wait)))


def _remaining(throttle: Throttle, failures: int, since: float) -> float:
    return throttle.delay(failures) - since


async def failed(info: Info, attempt: Attempt, email: str) -> None:
    """Count a failure (for link requests: a request) against the address and the client."""
    async with info.context.db.write() as session:
        for key in _keys(info, attempt, email):
            await record_failure(session, key, QUIET_SECONDS)


async def succeeded(info: Info, attempt: Attempt, email: str) -> None:
    """Clear this client's record for the address, and know the client from now on."""
    async with info.context.db.write() as session:
        await forget(session, _keys(info, attempt, email)[0])
        await remember_client(session, attempt.family, email, info.context.client_ip)
