"""POST /integrations/telematics/readings: an organization's telematics provider posts
readings with its integration key (`Authorization: Bearer ptk_...`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from auth.integration_keys import integration_for
from domain.cars.telematics import record_readings
from domain.problems import Rejected
from models.db import Database

log = logging.getLogger("portico.integrations")
MAX_BODY = 256_000


def _error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status)


def telematics_readings(db: Database) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        presented = header[7:].strip() if header.lower().startswith("bearer ") else None
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, "TOO_LARGE", "Send at most 256 kB per request.")
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        async with db.write() as session:
            integration = await integration_for(session, presented)
        if integration is None:
            return _error(401, "UNAUTHENTICATED", "A valid integration key is required.")
        if parsed is None:
            return _error(400, "BAD_USER_INPUT", "The body must be JSON.")
        try:
            async with db.write() as session:
                stored = await record_readings(session, integration, parsed)
        except PermissionError:
            return _error(403, "FORBIDDEN", "This key may not post readings.")
        except Rejected as rejected:
            problems = [
                {"field": p.field, "message": p.message, "code": p.code} for p in rejected.problems
            ]
            return _error(422, "BAD_USER_INPUT", "Nothing was stored.", problems=problems)
        return JSONResponse({"stored": len(stored)}, status_code=201)

    return endpoint
