"""Turns at a bounded resource (a process's requests in flight, its pooled connections),
with a bounded wait and a bounded share per tenant.

Turns are given first come, first served. A request that finds every turn taken waits at
most `wait_seconds`, behind at most as many waiters as there are turns at the process's
gate (beyond them it would not get one in time: it is refused at once); a tenant that
already holds its share waits for one of its own turns to end (others' waiters go ahead of
it). Either way, a request not admitted in time is refused with `Overloaded`, which the
server answers at once with 503 and `Retry-After`: waiting longer would only add to the
latency of every request behind it.

The wait is for bursts (a page sending a few requests at once to an idle process), not for
overload: once a request has been refused for want of a turn (the process's, or its
tenant's), the next that finds none is refused at once, without waiting, until
`QUIET_SECONDS` pass without a refusal. Under sustained overload, a queue only adds its wait
to the latency of the requests it admits (measured: bench/results/overload.md).
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

Tenant = uuid.UUID | None  # None: not known yet (before sign-in) or no tenant at all
QUIET_SECONDS = 1.0  # as long as `Retry-After`: the refused come back after about that
_PROCESS = "process"  # the key of refusals for want of a turn of the process's


class Overloaded(Exception):
    """No turn came free in time, or the tenant holds its whole share: refused unrun."""


@dataclass(eq=False)
class Turn:
    """One admitted request's turn; `tenant` is whom it counts against."""

    tenant: Tenant = None


@dataclass(eq=False)
class _Waiter:
    tenant: Tenant
    granted: asyncio.Future[Turn] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Admission:
    """At most `slots` turns at once, each tenant at most `tenant_slots` of them."""

    def __init__(
        self, slots: int, *, tenant_share: float, wait_seconds: float, queue: bool = True
    ) -> None:
        self.slots = slots
        # Waiters at most as many as turns (`queue`), or any number (the pool's: the requests
        # reaching it are bounded already, by the process's turns when those are on).
        self.max_waiting = slots if queue else None
        # At least one turn each, and short of the whole (a tenant alone cannot shut the
        # others out) unless the share is 1: no bound per tenant.
        share = math.floor(slots * tenant_share)
        self.tenant_slots = slots if tenant_share >= 1 else max(1, min(slots - 1, share))
        self.wait_seconds = wait_seconds
        self.in_use = 0
        self.held: Counter[Tenant] = Counter()
        self._waiters: deque[_Waiter] = deque()
        # When a request was last refused for want of a turn: of the process's (`_PROCESS`),
        # or of its tenant's share (the tenant).
        self._refused_at: dict[Tenant | str, float] = {}

    def _may_take(self, tenant: Tenant) -> bool:
        return tenant is None or self.held[tenant] < self.tenant_slots

    def _ahead(self) -> bool:
        """Someone waits who may take a free turn (waiters held back by their own
        tenant's share are no reason for anyone else to wait)."""
        return any(self._may_take(waiter.tenant) for waiter in self._waiters)

    def _queue_full(self, tenant: Tenant) -> bool:
        """No room to wait: as many waiters as turns, or (for a tenant at its share) as
        many of its own as its share: a stuck tenant's waiters leave the rest of the
        queue to others."""
        if self.max_waiting is None:
            return False
        if len(self._waiters) >= self.max_waiting:
            return True
        if tenant is None or self._may_take(tenant):
            return False
        return sum(waiter.tenant == tenant for waiter in self._waiters) >= self.tenant_slots

    def _grant(self, tenant: Tenant) -> Turn:
        self.in_use += 1
        if tenant is not None:
            self.held[tenant] += 1
        return Turn(tenant)

    def _short(self, tenant: Tenant) -> list[Tenant | str]:
        """What a request lacks: a turn of the process's, one of its tenant's, or both."""
        short: list[Tenant | str] = []
        if self.in_use >= self.slots or self._ahead():
            short.append(_PROCESS)
        if not self._may_take(tenant):
            short.append(tenant)
        return short

    def _refuse(self, short: list[Tenant | str]) -> Overloaded:
        now = time.monotonic()
        if len(self._refused_at) > 10_000:  # tenants refused long ago are no news
            self._refused_at = {
                key: at for key, at in self._refused_at.items() if now - at < QUIET_SECONDS
            }
        for key in short:
            self._refused_at[key] = now
        return Overloaded()

    def _overloaded(self, short: list[Tenant | str]) -> bool:
        """A request short of the same refused within the last `QUIET_SECONDS`."""
        now = time.monotonic()
        return any(now - self._refused_at.get(key, -math.inf) < QUIET_SECONDS for key in short)

    async def acquire(self, tenant: Tenant = None) -> Turn:
        """A turn, at once when one is free, or within `wait_seconds` unless overloaded;
        else `Overloaded`."""
        if self.in_use < self.slots and self._may_take(tenant) and not self._ahead():
            return self._grant(tenant)  # the common case: no wait, no timer
        short = self._short(tenant)
        if self.wait_seconds <= 0 or self._queue_full(tenant) or self._overloaded(short):
            raise self._refuse(short)
        waiter = _Waiter(tenant)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.wait_seconds):
                return await asyncio.shield(waiter.granted)
        except (TimeoutError, asyncio.CancelledError) as exc:
            if waiter.granted.done() and not waiter.granted.cancelled():
                self.release(waiter.granted.result())  # granted as the wait ran out
            else:
                waiter.granted.cancel()
                self._waiters.remove(waiter)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._refuse(short) from None

    def claim(self, turn: Turn, tenant: Tenant) -> None:
        """Count a turn taken before its tenant was known (or guessed) against the tenant
        it turns out to have; `Overloaded` (the turn still held, to be released) when that
        tenant's share is used."""
        if turn.tenant == tenant:
            return
        if turn.tenant is not None:  # counted against a tenant guessed wrong: no longer
            self._uncount(turn.tenant)
            turn.tenant = None
            self._wake()
        if tenant is None:
            return
        if self.held[tenant] >= self.tenant_slots:
            raise Overloaded()
        self.held[tenant] += 1
        turn.tenant = tenant

    def _uncount(self, tenant: uuid.UUID) -> None:
        self.held[tenant] -= 1
        if not self.held[tenant]:
            del self.held[tenant]

    def release(self, turn: Turn) -> None:
        self.in_use -= 1
        if turn.tenant is not None:
            self._uncount(turn.tenant)
        self._wake()

    def _wake(self) -> None:
        """Hand free turns to the longest waiting requests that may take one."""
        if not self._waiters:
            return
        for waiter in list(self._waiters):
            if self.in_use >= self.slots:
                return
            if waiter.granted.done():
                continue
            if self._may_take(waiter.tenant):
                self._waiters.remove(waiter)
                waiter.granted.set_result(self._grant(waiter.tenant))
