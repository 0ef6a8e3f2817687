"""The Starlette application: routes, the GraphQL view, and the database lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from auth.sessions import viewer_for_token
from models.db import Database
from portico.settings import Settings, get_settings
from schema import build_schema
from schema.context import Context, make_context

log = logging.getLogger("portico")


def bearer_token(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class PorticoGraphQL(GraphQL):
    """Strawberry's ASGI view with Portico's per-request context."""

    def __init__(self, db: Database, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.db = db

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        async with self.db.connect() as conn:
            viewer = await viewer_for_token(conn, bearer_token(request))
            await conn.commit()
        context = make_context(self.db, viewer, request, response)
        request.state.portico_context = context
        return context

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(request, *args, **kwargs)
        finally:
            context: Context | None = getattr(request.state, "portico_context", None)
            if context is not None:
                await context.reader.close()


async def healthz(request: Request) -> Response:
    db: Database = request.app.state.db
    async with db.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    """The ASGI app; tests hand in their own database."""
    settings = settings or (db.settings if db else get_settings())
    settings.check()
    owns_db = db is None
    db = db or Database(settings)
    schema = build_schema(introspection=not settings.production)
    graphql = PorticoGraphQL(
        db,
        schema=schema,
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=False,
        multipart_uploads_enabled=False,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if owns_db:
            await db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.settings = settings
    return app
