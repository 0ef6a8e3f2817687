"""The chaos suite's bounded subset (bench/chaos; the whole: `python -m bench.chaos`):
kill -9 of PostgreSQL under mixed reads and writes, and a held row lock, each on a private
PostgreSQL of the suite's own. No acknowledged write is lost or stored twice, no shed write
is stored, the server is back to normal within 10 s, and the other organization is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.chaos import scenarios
from tests.conftest import IN_CI
from tests.private_postgres import BIN, PrivatePostgres, available


@pytest.fixture
async def postgres() -> AsyncIterator[PrivatePostgres]:
    if not available():
        message = f"no PostgreSQL server binaries at {BIN} (set TEST_POSTGRES_BIN)"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires them", pytrace=False)
        pytest.skip(message)
    # Directly under /tmp: the server's account must reach it (pytest's tmp_path is private).
    with tempfile.TemporaryDirectory(prefix="portico-chaos-") as directory:
        server = PrivatePostgres(Path(directory))
        await asyncio.to_thread(server.init)
        await asyncio.to_thread(server.start)
        try:
            yield server
        finally:
            with contextlib.suppress(RuntimeError):  # already stopped
                await asyncio.to_thread(server.stop)


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
