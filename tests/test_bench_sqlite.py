"""The bench's SQLite copy of its data: the same rows and sessions as PostgreSQL's, and
Portico answers every workload on it as it does on PostgreSQL.

A small bench data set (one organization of 60 customers) is generated into a database of
this test's own and, with `sqlite=True`, into a SQLite file migrated by Portico's history;
Portico is served on both as `bench.run --database sqlite` serves it, and `bench.sqlite.check`
compares their answers over each read workload's rotation with the same tokens.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator

import pytest

from bench import generate
from bench import sqlite as on_sqlite
from bench.common import Size, database_name, database_url, load_tokens, sqlite_path, sqlite_url
from bench.servers import running_servers
from bench.workloads import WORKLOADS
from tests.conftest import _admin


@pytest.fixture
async def bench_size(postgres_database: str) -> AsyncIterator[Size]:
    """A bench size of this test's own: its database, SQLite file and tokens are removed
    afterwards."""
    size = Size(f"t{uuid.uuid4().hex[:10]}", organizations=1, customers_per_org=60)
    yield size
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database_name(size.name)}" WITH (FORCE)')
    finally:
        await admin.close()
    path = sqlite_path(size.name)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    from bench.common import tokens_path

    tokens_path(size.name).unlink(missing_ok=True)


async def test_portico_on_the_sqlite_copy_answers_as_on_postgresql(bench_size: Size):
    result = await generate.generate(bench_size, seed=1, now=generate.today_utc(), sqlite=True)
    counts = result["sqlite_counts"]
    assert {k: v for k, v in counts.items() if k != "sessions"} == result["counts"]
    with sqlite3.connect(sqlite_path(bench_size.name)) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 60
        assert (
            conn.execute("SELECT count(*) FROM auth_sessions").fetchone()[0] == counts["sessions"]
        )
    assert counts["sessions"] > 1
    tokens = load_tokens(bench_size.name)
    names = [name for name, workload in WORKLOADS.items() if not workload.writes]
    with running_servers(
        database_url(bench_size.name), workers=1, sqlite_url=sqlite_url(bench_size.name)
    ) as servers:
        assert servers.portico_sqlite is not None
        lines = await on_sqlite.check(
            servers.portico_url, servers.portico_sqlite.url, tokens, names
        )
    different = [line for line in lines if not line.startswith("OK")]
    assert not different, different
    compared = {line.split()[1] for line in lines}
    assert set(names) <= compared, set(names) - compared  # every read workload was compared
