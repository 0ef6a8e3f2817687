"""Background loops while the database (or another service they need, such as the mail
server) is down: one warning when an outage starts, one info line when it ends, and a
growing pause between tries, instead of a stack trace per poll."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core.db_faults import database_unavailable

# The longest pause between tries while the database stays down: a returning database is
# noticed within this, and a long outage costs a few attempts a minute.
MAX_WAIT_SECONDS = 30.0
MIN_WAIT_SECONDS = 0.1  # never a busy loop, even with no interval


class OutageWatch:
    """Follows one loop's rounds. `failed` says whether an error was an outage (logged
    only when it starts; the caller logs any other error itself); `wait` is the pause
    before the next round: `interval` normally, doubling up to `max_wait` while down.
    `service` names what is down, and `is_outage` tells its outages from other errors
    (the database's by default)."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        interval: float,
        max_wait: float = MAX_WAIT_SECONDS,
        *,
        service: str = "database",
        is_outage: Callable[[BaseException], bool] = database_unavailable,
    ) -> None:
        self.logger = logger
        self.what = what
        self.service = service
        self.is_outage = is_outage
        self.interval = interval
        self.max_wait = max(max_wait, interval)
        self.wait = interval
        self.down_since: float | None = None

    def failed(self, exc: BaseException) -> bool:
        if not self.is_outage(exc):
            return False
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.logger.warning(
                "%s unavailable: %s paused, trying again with backoff up to %g s (%s)",
                self.service,
                self.what,
                self.max_wait,
                exc,
            )
        self.wait = min(max(self.wait * 2, MIN_WAIT_SECONDS), self.max_wait)
        return True

    def succeeded(self) -> None:
        self.wait = self.interval
        if self.down_since is not None:
            down = time.monotonic() - self.down_since
            self.down_since = None
            self.logger.info(
                "%s reachable again: %s resumed after %.1f s", self.service, self.what, down
            )


class RequestOutage:
    """The same for request paths, one per database (so per process): the first request
    refused in an outage logs one warning, the others are only counted, and the first
    new connection the database accepts afterwards logs one line with the count."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.down_since: float | None = None
        self.refused = 0

    def failed(self, what: str, exc: BaseException) -> None:
        self.refused += 1
        if self.down_since is not None:
            return
        self.down_since = time.monotonic()
        self.logger.warning(
            "database unavailable: requests are refused until it is back (first: %s: %s)",
            what,
            exc,
        )

    def reachable(self) -> None:
        if self.down_since is None:
            return
        down = time.monotonic() - self.down_since
        refused, self.down_since, self.refused = self.refused, None, 0
        self.logger.info(
            "database reachable again: requests served after %.1f s, %d refused meanwhile",
            down,
            refused,
        )
