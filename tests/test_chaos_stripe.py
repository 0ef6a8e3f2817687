"""The chaos suite's Stripe and disk scenarios, small (the whole: `python -m bench.chaos`):
Stripe's events for invoices with payments in flight, duplicated, shuffled and delivered
through a kill -9 of PostgreSQL, end every invoice as an independent model of the events
says, each applied once; uploads onto a disk that fills up, turns read-only and gets its
space back lose nothing, leave no file without its row, are refused STORAGE_UNAVAILABLE,
and /readyz follows the disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.chaos import disk_faults, stripe_faults
from tests.private_postgres import PrivatePostgres, running


@pytest.fixture
async def postgres() -> AsyncIterator[PrivatePostgres]:
    async with running("portico-chaos-") as server:
        yield server


async def test_a_webhook_storm_through_a_killed_database_applies_every_event_once(
    postgres: PrivatePostgres, tmp_path: Path
):
    report = await stripe_faults.webhook_storm(postgres, tmp_path, invoices=9, seconds=5)
    print(f"\n{report.text()}")
    assert report.acknowledged > 0 and report.recovery_seconds is not None
    assert not report.problems, report.text()


async def test_uploads_onto_a_full_then_read_only_disk_lose_nothing(
    postgres: PrivatePostgres, tmp_path: Path
):
    report = await disk_faults.full_disk(postgres, tmp_path, clients=3, seconds=1.0)
    print(f"\n{report.text()}")
    if report.skipped:
        pytest.skip(report.skipped)
    assert report.acknowledged > 0 and report.recovery_seconds is not None
    assert not report.problems, report.text()
