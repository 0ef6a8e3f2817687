"""Live messages across processes: two apps (each with its own pool and broker, as two
server processes would have) on one PostgreSQL database."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from core.broker import InProcessBroker
from core.settings import settings_from_env
from portico.app import create_app
from portico.pg_broker import PostgresBroker, listener_dsn
from tests import test_subscriptions as live
from tests.test_subscriptions import listening, next_body, signed_in, staff_sends, subscribe

# The people and the mail clean-up of the subscription tests.
people = live.people
_deliver_our_mail = live._deliver_our_mail

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


def _server(database_url: str, stack: ExitStack) -> TestClient:
    app = create_app(settings_from_env({"DATABASE_URL": database_url}), run_mail_worker=False)
    client = stack.enter_context(TestClient(app, base_url="http://testserver"))
    client.sockets = stack.enter_context(ExitStack())  # type: ignore[attr-defined]
    return client


@pytest.fixture
def two_servers(dialect: str, database_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    if dialect != "postgresql":
        pytest.skip("SQLite is served by one process: its broker is in-process")
    with ExitStack() as stack:
        yield _server(database_url, stack), _server(database_url, stack)


def test_a_message_posted_through_one_process_reaches_a_subscriber_of_another(two_servers, people):
    poster, watcher = two_servers
    assert isinstance(watcher.app.state.broker, PostgresBroker)  # type: ignore[attr-defined]
    tenant = people.tenant
    on_watcher = signed_in(watcher, tenant.owner_token)
    on_poster = signed_in(poster, tenant.staff_token)
    op_watcher, op_poster = subscribe(on_watcher), subscribe(on_poster, people.customer)
    listening(watcher, tenant, 1)
    listening(poster, tenant, 1)

    staff_sends(poster, tenant, people.customer, "from the first process")
    staff_sends(watcher, tenant, people.customer, "from the second process")

    # Each subscriber hears both messages once, in order, whichever process took them.
    for ws, op in ((on_watcher, op_watcher), (on_poster, op_poster)):
        assert next_body(ws, op) == "from the first process"
        assert next_body(ws, op) == "from the second process"


def test_sqlite_keeps_the_in_process_broker(dialect: str, database_url: str):
    if dialect != "sqlite":
        pytest.skip("the PostgreSQL half is above")
    app = create_app(settings_from_env({"DATABASE_URL": database_url}), run_mail_worker=False)
    assert isinstance(app.state.broker, InProcessBroker)


def test_the_listener_address_drops_the_sqlalchemy_driver():
    url = "postgresql+asyncpg://portico:s3cret@db.internal:5433/portico?ssl=require"
    assert listener_dsn(url) == "postgresql://portico:s3cret@db.internal:5433/portico?ssl=require"
