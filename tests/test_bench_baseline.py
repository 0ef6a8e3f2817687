"""The bench's hand-written baseline answers every workload exactly as Portico does.

A small bench data set (one organization of 60 customers: estimate decisions, stored
documents, audit events, unread messages, appointments around today) is generated into a
database of this test's own, both servers are started as the bench starts them, and
`bench.baseline.check` compares their answers over each workload's rotation: ids, searches,
cursors, weeks, literals, and a token without a session. PostgreSQL only (the baseline is
asyncpg); skipped with the rest of the PostgreSQL half when none is reachable.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from bench import generate
from bench.baseline import check
from bench.common import Size, database_name, database_url, load_tokens, tokens_path
from bench.servers import running_servers
from bench.workloads import WORKLOADS
from tests.conftest import _admin


@pytest.fixture
async def bench_size(postgres_database: str) -> AsyncIterator[Size]:
    """A bench size of this test's own (postgres_database skips or fails without a server):
    its database and tokens file are removed afterwards."""
    size = Size(f"t{uuid.uuid4().hex[:10]}", organizations=1, customers_per_org=60)
    yield size
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database_name(size.name)}" WITH (FORCE)')
    finally:
        await admin.close()
    tokens_path(size.name).unlink(missing_ok=True)


async def test_the_baseline_answers_every_workload_as_portico_does(bench_size: Size):
    await generate.generate(bench_size, seed=1, now=generate.today_utc())
    tokens = load_tokens(bench_size.name)
    with running_servers(database_url(bench_size.name), workers=1) as servers:
        lines = await check(servers.portico_url, servers.baseline_url, tokens)
    different = [line for line in lines if not line.startswith("OK")]
    assert not different, different
    compared = {line.split()[1] for line in lines}
    expected = {
        name
        for name, workload in WORKLOADS.items()
        if workload.baseline_path is not None and not workload.writes
    }
    assert expected <= compared, expected - compared  # every workload was compared
    assert len(expected) >= 17
    # Most answers are Portico's bytes exactly (the others: links signed in another second).
    assert sum("byte-equal" in line for line in lines) > len(lines) // 2
