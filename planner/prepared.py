"""Prepared answers for queries already planned: straight from the HTTP body to the plan.

A plan exists only for a document that went the whole way once (parsing, validation,
limits, permissions for this shape of viewer) and was answered by the plan. The same text,
operation, variables and viewer shape meet the same verdicts, so a repeat skips the GraphQL
machinery and sends PostgreSQL's JSON as the response body, untouched.

Two ways in:
- `answer_with_session`, before the session is checked: the viewer this token stood for
  last time picks the plan, and one statement checks the session and computes the answer.
  The answer is sent only when the session row gives exactly that viewer again; otherwise
  the request goes the ordinary way, which checks the session on its own.
- `answer`, after the ordinary session check.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response

from auth.access import row_scope
from auth.sessions import touch_if_due, viewer_from_row
from auth.tokens import token_hash
from auth.viewer import Viewer
from models.loaders import Scope
from planner.extension import _cached, _missing, cache_key
from planner.filled import fill
from planner.literals import lifted
from planner.plan import PLANNED, Plan
from planner.viewer import viewer_params

if TYPE_CHECKING:  # the context is the request's (schema/context.py); only its type here
    from schema.context import Context

# Which viewer each recent token stood for: only a guess of the plan to try. It grants
# nothing: the session row read with the answer decides.
KNOWN_TOKENS = 10_000
_known: OrderedDict[str, tuple[Viewer, Scope]] = OrderedDict()


def remember(token: str | None, viewer: Viewer) -> None:
    """After an ordinary session check: the viewer this token stands for."""
    if not token:
        return
    hashed = token_hash(token)
    _known[hashed] = (viewer, row_scope(viewer))
    _known.move_to_end(hashed)
    if len(_known) > KNOWN_TOKENS:
        _known.popitem(last=False)


_UNREAD = object()


async def _body(request: Request) -> dict[str, Any] | None:
    """The JSON body of a GraphQL POST, read once per request."""
    read = getattr(request.state, "portico_body", _UNREAD)
    if read is not _UNREAD:
        return cast(dict[str, Any] | None, read)  # what this function stored below
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    json_post = request.method == "POST" and content_type == "application/json"
    body = _graphql_body(await request.body()) if json_post else None
    request.state.portico_body = body
    return body


def _graphql_body(raw: bytes) -> dict[str, Any] | None:
    if b"\\u0000" in raw:
        return None  # a NUL the executor refuses (schema/text.py); SQL would fail on it
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("query"), str):
        return None
    # Anything else malformed is the executor's to refuse with its 400 (GraphQL over HTTP):
    # variables and extensions are objects or null, the operation name a string or null.
    variables, extensions = parsed.get("variables"), parsed.get("extensions")
    name = parsed.get("operationName")
    well_formed = (
        (variables is None or isinstance(variables, dict))
        and (extensions is None or isinstance(extensions, dict))
        and (name is None or isinstance(name, str))
    )
    return parsed if well_formed else None


def _plan(
    body: dict[str, Any], context: Context, viewer: tuple[Viewer, Scope]
) -> tuple[Plan, dict[str, Any]] | None:
    """The cached plan for this body and viewer, with its parameters for these variables."""
    query, name, variables = body["query"], body.get("operationName"), body.get("variables") or {}
    schema = context.extras.get("graphql_schema")
    lift = None
    if schema is not None:
        lift = lifted(schema, query, name, context.settings.max_query_tokens)
    if lift is not None:
        query, variables = lift.query, lift.variables(variables)
    try:
        key = cache_key(query, name, context, variables, viewer)
    except TypeError:  # values JSON cannot hold
        return None
    plan = _cached(key, count_miss=False)[1]
    if plan is not None and plan.too_deep:
        return None
    params = None if plan is None else plan.params_for(variables)
    return None if plan is None or params is None else (plan, params)


async def _response(raw: Any, plan: Plan, context: Context) -> Response | None:
    text = raw.encode() if isinstance(raw, str) else orjson.dumps(raw)
    if plan.required and any(_missing(orjson.loads(text), path) for path in plan.required):
        return None  # the executor raises the error that belongs there
    if plan.fills:
        text = orjson.dumps(await fill(orjson.loads(text), context))
    return Response(b'{"data":' + text + b"}", media_type="application/json")


async def answer_with_session(
    request: Request,
    context: Context,
    token: str | None,
    admit: Callable[[Viewer], None] = lambda viewer: None,
) -> Response | None:
    """The planned response with the session checked in the same statement, or None.
    `admit` is told the viewer it runs for before it runs (it may refuse by raising)."""
    if not context.plan_reads or not token:
        return None
    hashed = token_hash(token)
    known = _known.get(hashed)
    body = await _body(request)
    if known is None or body is None:
        return None
    planned = _plan(body, context, known)
    if planned is None:
        return None
    plan, plan_params = planned
    viewer, scope = known
    admit(viewer)
    params = {
        **plan_params,
        **viewer_params(viewer, scope),
        **context.clock.params,
        "token_hash": hashed,
    }
    text_form = plan.with_session_text(context.db.engine.dialect, params)
    if text_form is None:
        return None
    found = await context.reader.text_row(*text_form)
    row = None if found is None else plan.decoded("with_session", found)
    if row is None or viewer_from_row(row) != viewer:
        _known.pop(hashed, None)  # ended or changed: the ordinary way decides
        return None
    await touch_if_due(context.reader, row)
    context.as_viewer(viewer)
    return await _response(row[PLANNED], plan, context)


async def answer(request: Request, context: Context) -> Response | None:
    """The planned response for the viewer already checked, or None for the ordinary way."""
    if not context.plan_reads:
        return None
    body = await _body(request)
    if body is None:
        return None
    planned = _plan(body, context, (context.viewer, context.loaders.scope))
    if planned is None:
        return None
    plan, plan_params = planned
    params = {
        **plan_params,
        **viewer_params(context.viewer, context.loaders.scope),
        **context.clock.params,
    }
    text_form = plan.as_text(context.db.engine.dialect, params)
    raw: Any
    if text_form is None:
        raw = (await context.reader.rows(plan.select(), params))[0]["data"]
    else:
        raw = await context.reader.text_value(*text_form)
    return await _response(raw, plan, context)
