"""The chaos suite's bounded subset (bench/chaos; the whole: `python -m bench.chaos`):
kill -9 of PostgreSQL under mixed reads and writes, and a held row lock, each on a private
PostgreSQL of the suite's own. No acknowledged write is lost or stored twice, no shed write
is stored, the server is back to normal within 10 s, and the other organization is served.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.chaos import scenarios
from tests.private_postgres import PrivatePostgres, running


@pytest.fixture
async def postgres() -> AsyncIterator[PrivatePostgres]:
    async with running("portico-chaos-") as server:
        yield server


async def test_kill_9_of_postgresql_under_writes_loses_nothing(
    postgres: PrivatePostgres, tmp_path: Path
):
    report = await scenarios.postgres_killed(postgres, tmp_path, clients=8, seconds=8)
    print(f"\n{report.text()}")
    assert report.acknowledged > 0 and report.stored >= report.acknowledged
    assert report.recovery_seconds is not None
    assert not report.problems, report.text()


async def test_a_held_row_lock_stalls_only_its_organization(
    postgres: PrivatePostgres, tmp_path: Path
):
    report = await scenarios.held_lock(postgres, tmp_path, stuck_clients=20, seconds=5)
    print(f"\n{report.text()}")
    assert report.acknowledged > 0
    assert not report.problems, report.text()
