"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.access import row_scope, sees_whole_tenant
from auth.viewer import Viewer
from core.broker import Broker
from core.settings import Settings
from models.clock import Clock
from models.db import Database, ReadScope, pinned_here
from models.loaders import Loaders
from models.written import written_rows


@dataclass
class Context:
    request: Request | WebSocket | None  # the socket of a subscription's connection
    response: Response | WebSocket | None  # the sub-response; the socket again on one
    db: Database
    viewer: Viewer
    reader: ReadScope
    loaders: Loaders
    extras: dict[str, Any] = field(default_factory=dict)
    plan_reads: bool = False  # answer queries with one planned statement
    broker: Broker | None = None  # live events (core/broker.py); None: nobody listens
    # The WebSocket `connection_init` payload (graphql-transport-ws), set by Strawberry.
    connection_params: dict[str, Any] | None = None

    @property
    def clock(self) -> Clock:
        """The request's one instant: "now" and "today" for everything it reads and checks."""
        return self.loaders.clock

    @property
    def settings(self) -> Settings:
        return self.db.settings

    @property
    def client_ip(self) -> str | None:
        client = self.request.client if self.request else None
        return client.host if client else None

    @property
    def user_agent(self) -> str | None:
        return self.request.headers.get("user-agent") if self.request else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction; reads after it see what it wrote."""
        if pinned_here() is not None:  # an idempotent mutation: a savepoint of its one
            async with self.db.write() as session:
                yield session
            self.loaders.clear()
            self._hold_written(session)
            return
        # Give the read connection back first: a request holding one pooled connection
        # while it waits for another would, under load, leave the pool with nothing but
        # waiters. (It reopens lazily for the reads after the write.)
        await self.reader.close()
        # One organization's writes hold at most its share of the pool (a locked row of
        # theirs stalls only them).
        async with self.db.admitted(self.viewer.organization_id), self.db.write() as session:
            yield session
        # From here a failure may leave the request half done (core/errors.py).
        self.extras["committed"] = True
        # The loaders may hold rows the write changed.
        await self.reader.close()
        self.loaders.clear()
        self._hold_written(session)

    def _hold_written(self, session: AsyncSession) -> None:
        """The rows the transaction inserted, as the loaders would read them back: the payload
        that shows them costs no statement. Only rows of the staff member's organization,
        of tables they see whole (auth/access.py)."""
        organization_id = self.viewer.organization_id
        scope = self.loaders.scope
        for table, row in written_rows(session.sync_session):
            tenant = row["id"] if table.name == "organizations" else row.get("organization_id")
            if tenant == organization_id and sees_whole_tenant(scope, table):
                self.loaders.prime(table, row)

    def as_viewer(self, viewer: Viewer) -> None:
        """Act for a new viewer from here on (after sign-in): fresh loaders, new scope."""
        self.viewer = viewer
        self.loaders = Loaders(self.reader, row_scope(viewer), self.loaders.clock)


def make_context(
    db: Database,
    viewer: Viewer,
    request: Request | WebSocket | None = None,
    response: Response | WebSocket | None = None,
    *,
    plan_reads: bool = False,
    broker: Broker | None = None,
) -> Context:
    reader = db.reader()
    return Context(
        request=request,
        response=response,
        db=db,
        viewer=viewer,
        reader=reader,
        loaders=Loaders(reader, row_scope(viewer)),
        plan_reads=plan_reads,
        broker=broker,
    )
