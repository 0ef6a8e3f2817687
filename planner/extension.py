"""The schema extension that answers planned queries before the executor runs.

It runs after parsing, validation and the limits, so every query it answers was valid;
it answers only when the whole query could be planned, on PostgreSQL or SQLite. Plans are
cached per document, viewer shape and the shape of the variables: a variable that only
fills parameters (a node's id, a cursor, a search) keys the plan by what its value does to
the statement (the id's type, whether a cursor is given, how many words are searched, and
which are numbers), and each request's values are bound as parameters; any other variable
keys it by its value. A document's variable roles are learned when it is first planned.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import ExecutionResult, OperationDefinitionNode, OperationType
from strawberry.extensions import SchemaExtension

from core.errors import NotFound
from core.ids import decode_id
from models.search import search_shape
from planner.filled import fill
from planner.literals import lifted
from planner.roles import CURSOR, NODE_ID, SEARCH, SHAPE, VALUE
from planner.variables import coerce_variables
from planner.viewer import viewer_params, viewer_shape

if TYPE_CHECKING:
    from auth.viewer import Viewer
    from models.loaders import Scope
    from planner.plan import Plan

log = logging.getLogger("portico.planner")

# Bounds of the plan cache, least recently used first out: entries, and bytes as the plans
# weigh them (Plan.weight: a frozen staff customer page about 130 KB, a node look-up about
# 10 KB; measured, bench/README.md "Memory").
CACHE_SIZE = 1024
CACHE_BYTES = 48 * 1024 * 1024
UNPLANNED_BYTES = 512  # a remembered "not planned": its key
_plans: OrderedDict[Any, Plan | None] = OrderedDict()
_weights: dict[Any, int] = {}
# Per document (schema, text, operation name): the role of each variable in its plans.
_roles: OrderedDict[Any, dict[str, str]] = OrderedDict()
ABSENT = "absent"


def _operations(document: Any) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = _operations(document)
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


@dataclass
class CacheStats:
    """Lookups of the plan cache since the process started (read by the bench)."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    bytes: int = 0  # the weight of the plans held


STATS = CacheStats()


def cache_stats() -> dict[str, int]:
    return {**asdict(STATS), "plans": len(_plans), "documents": len(_roles)}


def _cached(key: Any, count_miss: bool = True) -> tuple[bool, Plan | None]:
    """The plan kept under `key`, if any. `count_miss`: a miss here is a request planned
    (the prepared path's misses go on to the ordinary path, which counts them)."""
    if key in _plans:
        _plans.move_to_end(key)
        STATS.hits += 1
        return True, _plans[key]
    if count_miss:
        STATS.misses += 1
    return False, None


def _remember(key: Any, plan: Plan | None) -> None:
    _plans[key] = plan
    _plans.move_to_end(key)
    weigh(key)


def weigh(key: Any) -> None:
    """(Re)weigh the plan under `key` (it grows when it is frozen) and keep the bounds."""
    if key not in _plans:
        return
    plan = _plans[key]
    weight = UNPLANNED_BYTES if plan is None else plan.weight()
    STATS.bytes += weight - _weights.get(key, 0)
    _weights[key] = weight
    while len(_plans) > CACHE_SIZE or (STATS.bytes > CACHE_BYTES and len(_plans) > 1):
        old, _ = _plans.popitem(last=False)
        STATS.bytes -= _weights.pop(old, 0)
        STATS.evictions += 1


def cache_key(
    query: str | None,
    operation_name: str | None,
    context: Any,
    variables: dict[str, Any],
    viewer: tuple[Viewer, Scope] | None = None,
) -> Any:
    """Plans are shared by requests with the same text, variables and shape of viewer,
    served by the same schema (whose limits the text passed). The viewer is the context's
    unless another is named."""
    who, scope = viewer or (context.viewer, context.loaders.scope)
    document = (context.extras.get("schema"), query, operation_name)
    roles = _roles.get(document, {})
    dialect = context.db.dialect
    shape = tuple(
        (name, _shape_of(value, roles.get(name, SHAPE)))
        for name, value in sorted(variables.items())
    )
    return (*document, dialect, viewer_shape(who, scope), shape)


def learn_roles(
    query: str | None, operation_name: str | None, context: Any, roles: dict[str, str]
) -> None:
    """What the first plan of a document found each variable does."""
    document = (context.extras.get("schema"), query, operation_name)
    _roles[document] = roles
    _roles.move_to_end(document)
    if len(_roles) > CACHE_SIZE:
        _roles.popitem(last=False)


def _shape_of(value: Any, role: str) -> Any:
    """What a variable's value does to the statement (TypeError: JSON cannot hold it)."""
    if role == NODE_ID and isinstance(value, str):
        try:
            return (role, decode_id(value)[0])
        except NotFound:
            return (role, None)  # malformed: the executor answers, and the plan is None
    if role == CURSOR and (value is None or isinstance(value, str)):
        return (role, value is None, bool(value))
    if role == SEARCH and (value is None or isinstance(value, str)):
        return (role, value is None, search_shape(value))
    if role == VALUE and (value is None or isinstance(value, str)):
        return (role, not value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _missing(data: dict[str, Any], path: tuple[str, ...]) -> bool:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value is None


class PlannedReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if getattr(context, "plan_reads", False) and execution.graphql_document is not None:
            try:
                data = await self._answer(execution, context)
            except Exception:  # a planner fault must never cost a response
                log.exception("planned read failed; the executor answers")
                data = None
            if data is not None:
                execution.result = ExecutionResult(data=data, errors=None)
        yield

    async def _answer(self, execution: Any, context: Any) -> dict[str, Any] | None:
        operation = _operation(execution.graphql_document, execution.operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            # Only queries are planned; a mutation's variables may hold uploaded files,
            # which have no place in a plan's cache key.
            return None
        schema = execution.schema._schema
        query, variables = execution.query, execution.variables or {}
        document = execution.graphql_document
        lift = lifted(
            schema, query, execution.operation_name, context.settings.max_query_tokens, document
        )
        if lift is not None:  # planned and cached as if its literals were variables
            query, variables = lift.query, lift.variables(variables)
        try:
            key = cache_key(query, execution.operation_name, context, variables)
        except TypeError:  # values JSON cannot hold (an uploaded file): not planned
            return None
        known, plan = _cached(key)
        if not known:
            # Imported here: planning reads the finished schema, which imports this module.
            from planner.plan import Planner, Unplannable
            from planner.sql import dialect_named

            if lift is not None:
                document = lift.document()
                operation = _operation(document, execution.operation_name)
                if operation is None:
                    return None
            # Planned with the values the executor would use (declared defaults, 100.0 as
            # 100); kept under the raw ones, which always coerce the same way.
            coerced = coerce_variables(schema, operation, variables)
            if isinstance(coerced, list):
                return None  # the executor answers the variable errors
            planner = Planner(
                schema,
                document,
                operation,
                coerced,
                context.viewer,
                context.loaders.scope,
                dialect_named(context.db.dialect),
            )
            try:
                plan = planner.plan()
            except Unplannable as reason:
                log.debug("not planned: %s", reason)
                plan = None
            names = [execution.operation_name]
            if len(_operations(document)) == 1 and names[0] is not None:
                names.append(None)  # clients may leave the name out of a one-operation document
            keys = []
            for name in names:
                if plan is not None:
                    learn_roles(query, name, context, planner.roles)
                keys.append(cache_key(query, name, context, variables))
                _remember(keys[-1], plan)
        if plan is None:
            return None
        planned_params = plan.params_for(variables)
        if planned_params is None:
            return None
        params = {
            **planned_params,
            **viewer_params(context.viewer, context.loaders.scope),
            **context.clock.params,
        }
        dialect = context.db.engine.dialect
        if not known:
            plan.freeze(dialect, params)
            for planned_key in keys:
                weigh(planned_key)  # now its texts, not its tree
        if plan.too_deep:
            return None
        text_form = plan.as_text(dialect, params)
        if text_form is None:
            raw = (await context.reader.rows(plan.select(), params))[0]["data"]
        else:
            raw = await context.reader.text_value(*text_form)
        data = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
        if any(_missing(data, path) for path in plan.required):
            return None  # the executor raises the error that belongs there
        return await fill(data, context) if plan.fills else data
