"""What the bench modules share: sizes, database addresses, result paths, the tokens file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
RAW_DIR = RESULTS_DIR / "raw"

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
ADMIN_DATABASE = "test"  # any database that exists: used to drop and create the bench one


@dataclass(frozen=True)
class Size:
    """How much data a benchmark database holds."""

    name: str
    organizations: int
    customers_per_org: int


SIZES = {
    "small": Size("small", organizations=2, customers_per_org=500),
    "large": Size("large", organizations=20, customers_per_org=500),
}


def database_name(size: str) -> str:
    return f"portico_bench_{size}"


def database_url(size: str) -> str:
    """The asyncpg address (postgresql://...) of the benchmark database of `size`."""
    return f"{SERVER_URL}/{database_name(size)}"


def admin_url() -> str:
    return f"{SERVER_URL}/{ADMIN_DATABASE}"


def sqlalchemy_url(url: str) -> str:
    """The same address for SQLAlchemy's asyncpg dialect (what Portico's DATABASE_URL takes)."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def sqlite_path(size: str) -> Path:
    """The SQLite file `bench.generate --sqlite` fills with the same rows as the PostgreSQL
    database of `size` (under raw/, ignored by git)."""
    return RAW_DIR / f"{database_name(size)}.sqlite"


def sqlite_url(size: str) -> str:
    """Portico's DATABASE_URL for that file (SQLAlchemy's aiosqlite dialect)."""
    return f"sqlite+aiosqlite:///{sqlite_path(size)}"


def tokens_path(size: str) -> Path:
    return RAW_DIR / f"tokens-{size}.json"


def load_tokens(size: str) -> dict[str, Any]:
    """What `bench.generate` wrote for `size`: sessions, customers, cursors."""
    path = tokens_path(size)
    if not path.exists():
        raise SystemExit(
            f"{path} is missing: run `.venv/bin/python -m bench.generate --size {size}`"
        )
    return json.loads(path.read_text())
