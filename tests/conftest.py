"""Shared fixtures: one migrated database per dialect, an HTTP client, tenants.

Every test that takes `db` (or anything built on it) runs twice: on SQLite and on
PostgreSQL. PostgreSQL runs get a database of their own, created for this test session
and dropped after it. Without a reachable PostgreSQL the PostgreSQL half is skipped and
the run says so loudly; under CI=true that is a failure instead.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from core.settings import settings_from_env
from models.db import Database
from models.migrate import upgrade
from portico.app import create_app
from tests.helpers import SUITE_LIMITS, GraphQLClient, Tenant, make_tenant
from tests.smtp import SmtpServer

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
_postgres_skipped: list[str] = []
# Fixtures shared by the payment test modules.
pytest_plugins = ["tests.payments"]


def _pg_url(database: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{database}"


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sqlite") / "portico-test.db"


@pytest.fixture(scope="session")
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this session, dropped afterwards."""
    name = f"portico_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await _admin()
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable ({exc!r})"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        _postgres_skipped.append(message)
        pytest.skip(message)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield name
    await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def dialect(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(dialect: str, request: pytest.FixtureRequest, sqlite_path: Path) -> str:
    if dialect == "sqlite":
        return f"sqlite+aiosqlite:///{sqlite_path}"
    return _pg_url(request.getfixturevalue("postgres_database"))


@pytest.fixture
def scratch_database_url(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """An empty database of the dialect under test, for migration tests."""
    if dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        return
    request.getfixturevalue("postgres_database")  # skips or fails when unreachable
    name = f"portico_scratch_{uuid.uuid4().hex[:12]}"
    _run_admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _run_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def admin_execute(sql: str) -> None:
    """One statement as the PostgreSQL administrator (CREATE or DROP DATABASE)."""
    admin = await _admin()
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


def _run_admin(sql: str) -> None:
    import asyncio

    asyncio.run(admin_execute(sql))


@pytest.fixture(scope="session")
async def db(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A migrated database of the dialect under test, shared by the session, with a
    storage directory of its own (`db.settings.storage_dir`).

    Tests keep out of each other's way by working in tenants of their own.
    """
    storage_dir = tmp_path_factory.mktemp("storage")
    env = {"DATABASE_URL": database_url, "STORAGE_DIR": str(storage_dir), **SUITE_LIMITS}
    database = Database(settings_from_env(env))
    await upgrade(database.engine)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def app(db: Database) -> Any:
    return create_app(db=db, run_mail_worker=False)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
async def tenant(db: Database, gql: GraphQLClient) -> Tenant:
    """A new organization with an owner and a staff member, both signed in."""
    return await make_tenant(db, gql)


@pytest.fixture
async def other_tenant(db: Database, gql: GraphQLClient) -> Tenant:
    return await make_tenant(db, gql)


class _Records(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def errors_logged_fail_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """An ERROR line in the log means a bug (client mistakes are INFO, outages WARNING), so
    any ERROR logged while a test runs fails it, even when the answer looked right: a
    planner exception, for one, is answered by the executor instead. A test that provokes
    an unexpected error on purpose says so with `@pytest.mark.logs_errors`."""
    handler = _Records(logging.ERROR)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("logs_errors") is None:
        lines = "\n".join(handler.format(r) for r in handler.records)
        planner = any(r.name.startswith("portico.planner") for r in handler.records)
        what = "the planner failed (the executor answered instead)" if planner else "ERROR logged"
        pytest.fail(f"{what}:\n{lines}")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it accepts."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class StatementCounter:
    """Counts the SQL statements an engine runs (BEGIN/COMMIT excluded)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN (models/db.py)
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(db: Database) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    sa.event.remove(db.engine.sync_engine, "before_cursor_execute", counter)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _postgres_skipped:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_postgres_skipped[0], red=True, bold=True)
        terminalreporter.write_line(
            "Only the SQLite half of the suite ran. Start PostgreSQL (or set TEST_POSTGRES_URL) "
            "to run the rest; under CI=true this is a failure.",
            red=True,
            bold=True,
        )


# --- Stripe peers (tests/stripe_stub.py, tests/localstripe.py) ---------------------------------
# Both run once per session on loopback and are emptied before each test that uses them.
# The imports stay here so that this block is self-contained.

from tests.localstripe import LocalStripe  # noqa: E402
from tests.stripe_stub import StripeStub  # noqa: E402


@pytest.fixture(scope="session")
def _stripe_stub_server() -> Iterator[StripeStub]:
    stub = StripeStub()
    stub.start()
    yield stub
    stub.stop()


@pytest.fixture
def stripe_stub(_stripe_stub_server: StripeStub) -> StripeStub:
    """The stub Stripe API (`.url` is its base address), with no objects, keys or faults."""
    _stripe_stub_server.reset()
    return _stripe_stub_server


@pytest.fixture(scope="session")
def _localstripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    server = LocalStripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def localstripe(_localstripe_server: LocalStripe) -> str:
    """The base URL of a running localstripe, its objects flushed."""
    _localstripe_server.flush()
    return _localstripe_server.url


# --- The Twilio peer (tests/twilio_stub.py) ----------------------------------------------------

from tests.twilio_stub import TwilioStub  # noqa: E402


@pytest.fixture(scope="session")
def _twilio_stub_server() -> Iterator[TwilioStub]:
    stub = TwilioStub()
    stub.start()
    yield stub
    stub.stop()


@pytest.fixture
def twilio_stub(_twilio_stub_server: TwilioStub) -> TwilioStub:
    """The stub Twilio Messages API (`.url` is its base address), with no requests or faults."""
    _twilio_stub_server.reset()
    return _twilio_stub_server
