"""The short way for queries already planned: straight from the HTTP body to the plan.

A plan exists only for a document that went the whole way once (parsing, validation,
limits, permissions for this shape of viewer) and was answered by the plan. The same text,
operation, variables and viewer shape meet the same verdicts, so a repeat skips the GraphQL
machinery and sends PostgreSQL's JSON as the response body, untouched.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from planner.extension import _cached, _missing, cache_key
from planner.viewer import viewer_params
from schema.context import Context


async def answer(request: Request, context: Context) -> Response | None:
    """The planned response, or None when the request must take the ordinary way."""
    if not context.plan_reads or request.method != "POST":
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return None
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return None
    key = cache_key(body["query"], body.get("operationName"), context, variables)
    known, plan = _cached(key)
    if not known or plan is None:
        return None
    params = {**plan.params, **viewer_params(context.viewer, context.loaders.scope)}
    text_form = plan.as_text(context.db.engine.dialect, params)
    raw: Any
    if text_form is None:
        raw = (await context.reader.rows(plan.statement, params))[0]["data"]
    else:
        raw = await context.reader.text_value(*text_form)
    text = raw.encode() if isinstance(raw, str) else orjson.dumps(raw)
    if plan.required and any(_missing(orjson.loads(text), path) for path in plan.required):
        return None  # the executor raises the error that belongs there
    return Response(b'{"data":' + text + b"}", media_type="application/json")
