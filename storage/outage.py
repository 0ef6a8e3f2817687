"""A storage that stops taking writes (disk full, read-only, gone), logged as the database's
outages are (core/outage_watch.py): the first refusal logs one warning, the others are
only counted, and the first write the storage takes again logs one line with the count.
Under load a full disk would otherwise write a warning per refused upload and per
readiness probe.
"""

from __future__ import annotations

import logging
import time
import weakref

from storage.backend import Storage, StorageUnavailable

log = logging.getLogger("portico.storage")


class StorageOutage:
    def __init__(self) -> None:
        self.down_since: float | None = None
        self.refused = 0  # uploads refused since the outage began

    def failed(self, what: str, exc: StorageUnavailable, *, refused: bool = True) -> None:
        """`what` met the storage refusing a write; `refused`: an upload was turned away."""
        self.refused += refused
        if self.down_since is not None:
            return
        self.down_since = time.monotonic()
        log.warning(
            "storage unavailable: uploads are refused until it takes writes again (first: %s: %s)",
            what,
            exc,
        )

    def writable(self) -> None:
        """The storage took a write."""
        if self.down_since is None:
            return
        down = time.monotonic() - self.down_since
        refused, self.down_since, self.refused = self.refused, None, 0
        log.info(
            "storage takes writes again after %.1f s, %d uploads refused meanwhile", down, refused
        )


_outages: weakref.WeakKeyDictionary[Storage, StorageOutage] = weakref.WeakKeyDictionary()


def outage_of(storage: Storage) -> StorageOutage:
    """The outage record of one storage backend (one per process and STORAGE_DIR)."""
    outage = _outages.get(storage)
    if outage is None:
        outage = _outages[storage] = StorageOutage()
    return outage
