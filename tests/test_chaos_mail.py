"""The chaos suite's mail scenarios, bounded (the whole: `python -m bench.chaos --only
worker_killed,smtp_down`), each on a private PostgreSQL of the suite's own and a real SMTP
server: a server worker SIGKILLed while it sends, and the SMTP server down for a while. No
acknowledged write is lost or stored twice, every committed write's email is sent, a
duplicate only for an email the killed worker held, its held emails out within seconds, and
an SMTP outage costs no duplicate, one warning and one line in the log, and its mail goes out
soon after the server returns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.chaos import mail_faults
from tests.private_postgres import PrivatePostgres, running


@pytest.fixture
async def postgres() -> AsyncIterator[PrivatePostgres]:
    async with running("portico-chaos-mail-") as server:
        yield server


async def test_a_worker_killed_mid_send_loses_no_write_and_its_mail_goes_out_in_seconds(
    postgres: PrivatePostgres, tmp_path: Path
):
    report = await mail_faults.worker_killed(postgres, tmp_path, writers=3, readers=2, seconds=4)
    print(f"\n{report.text()}")
    assert report.acknowledged > 0 and report.stored >= report.acknowledged
    assert not report.problems, report.text()


async def test_an_smtp_outage_delays_mail_without_duplicates_or_a_flood_of_log_lines(
    postgres: PrivatePostgres, tmp_path: Path
):
    report = await mail_faults.smtp_down(postgres, tmp_path, writers=2, readers=2, outage=5)
    print(f"\n{report.text()}")
    assert report.acknowledged > 0
    assert not report.problems, report.text()
