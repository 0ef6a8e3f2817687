"""The plan cache keeps its bounds, in entries and in bytes, and counts its look-ups."""

from __future__ import annotations

from typing import Any

import pytest

from planner import extension


class FakePlan:
    def __init__(self, weight: int) -> None:
        self._weight = weight

    def weight(self) -> int:
        return self._weight


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(extension, "_plans", type(extension._plans)())
    monkeypatch.setattr(extension, "_weights", {})
    monkeypatch.setattr(extension, "STATS", extension.CacheStats())
    return extension


def test_plans_beyond_the_byte_bound_leave_least_recently_used_first(empty_cache: Any, monkeypatch):
    monkeypatch.setattr(extension, "CACHE_BYTES", 10_000)
    for i in range(4):
        extension._remember(("doc", i), FakePlan(3_000))  # type: ignore[arg-type]
    assert list(extension._plans) == [("doc", 1), ("doc", 2), ("doc", 3)]
    assert extension.STATS.bytes == 9_000 and extension.STATS.evictions == 1
    assert extension._cached(("doc", 1)) == (True, extension._plans[("doc", 1)])  # now recent
    extension._remember(("doc", 4), FakePlan(3_000))  # type: ignore[arg-type]
    assert list(extension._plans) == [("doc", 3), ("doc", 1), ("doc", 4)]
    # A plan that grows when it is frozen is weighed again.
    grown = extension._plans[("doc", 4)]
    grown._weight = 6_000
    extension.weigh(("doc", 4))
    assert list(extension._plans) == [("doc", 1), ("doc", 4)]
    assert extension.STATS.bytes == 9_000 == sum(extension._weights.values())


def test_the_entry_bound_holds_and_look_ups_are_counted(empty_cache: Any, monkeypatch):
    monkeypatch.setattr(extension, "CACHE_SIZE", 3)
    for i in range(5):
        extension._remember(("doc", i), None)  # "not planned" is remembered too
    assert len(extension._plans) == 3
    assert extension._cached(("doc", 4))[0] is True
    assert extension._cached(("doc", 0))[0] is False
    assert extension._cached(("doc", 0), count_miss=False)[0] is False
    stats = extension.cache_stats()
    assert (stats["hits"], stats["misses"], stats["plans"], stats["evictions"]) == (1, 1, 3, 2)
    assert stats["bytes"] == 3 * extension.UNPLANNED_BYTES
