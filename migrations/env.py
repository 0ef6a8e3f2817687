"""Alembic environment: one history for PostgreSQL and SQLite.

SQLite cannot ALTER most things in place, so migrations run in batch mode there
(copy-and-move tables); the metadata naming convention gives batch mode the constraint
names it needs.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString

import models
from core.settings import get_settings, settings_from_env
from models.db import make_engine
from models.types import UTCDateTime

config = context.config
target_metadata = models.metadata


def _settings():
    url = config.attributes.get("database_url")
    if url:
        return settings_from_env({"DATABASE_URL": url})
    return get_settings()


def render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render Portico's column types as plain, importable expressions."""
    if type_ != "type":
        return False
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import models.types")
        return "models.types.UTCDateTime()"
    return False


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = connection.dialect.name if connection is not None else url.split(":")[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=dialect.startswith("sqlite"),
        compare_type=True,
        compare_server_default=False,
        render_item=render_item,
    )


def run_offline() -> None:
    _configure(url=_settings().database_url)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed in by `portico migrate` or the tests
        _run_sync(connection)
        return
    engine = make_engine(_settings())
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_sync)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(run_online())
