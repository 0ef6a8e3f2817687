"""Values computed in Python in planned answers: the SQL marks them, Python fills them in.

A signed link is signed per request and never stored; a subscription's next bill date
follows a rule written once in Python (domain/billing/proration.py). The statement cannot
write such a value, so it writes `{"@fill": name, <inputs>}` in its place ("@" cannot
begin a GraphQL response key, so no field is mistaken for one), and the answer is walked
once after the statement returns: each marker becomes its value, by the same functions the
executor's fields call. A portal viewer's views of the links handed out are recorded in
one batch, by the executor's rule (domain/access_log.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from graphql import FieldNode

from domain.access_log import Subject, record_access, signed_link
from domain.billing.proration import next_bill_date
from models.enums import AccessAction, BillingTiming
from models.maintenance import is_due, next_due_on
from planner import sql

if TYPE_CHECKING:
    from planner.computed import Context
    from planner.plan import Planner, Source

MARK = "@fill"
Expr = sa.ColumnElement[Any]
# A filler: the marker's inputs, the request's context, and the subjects seen so far.
Filler = Callable[[dict[str, Any], Any, dict[Subject, None]], Any]


def marker(planner: Planner, name: str, inputs: list[tuple[str, Expr]]) -> Expr:
    """Where the value named `name` (one of FILLERS) goes, with what it is computed from."""
    assert name in FILLERS, name
    planner.fills = True
    args: list[Any] = [sql.const(MARK), sql.const(name)]
    for key, value in inputs:
        args += [sql.const(key), value]
    return planner.sql.json_pairs(args)


def link(kind: str, unless_null: str | None = None) -> Any:
    """The planner's entry for a field that gives the signed link of `kind` to its row;
    null where the column `unless_null` is (a document without a file)."""

    def build(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Any:
        if planner.viewer.session_id is None:
            from planner.plan import Unplannable

            raise Unplannable("a link needs a session: the executor reports it")
        mark = marker(planner, "link", [("kind", sql.const(kind)), ("id", source.c.id)])
        if unless_null is None:
            return mark
        return sa.case((source.c[unless_null].is_(None), sa.null()), else_=mark)

    return build


def _link(inputs: dict[str, Any], context: Any, seen: dict[Subject, None]) -> str:
    row_id = uuid.UUID(inputs["id"])
    url, subject = signed_link(context.settings, context.viewer, inputs["kind"], row_id)
    if subject is not None:
        seen[subject] = None
    return url


def _next_bill_date(inputs: dict[str, Any], context: Any, seen: dict[Subject, None]) -> Any:
    end = inputs["end"]
    found = next_bill_date(
        date.fromisoformat(inputs["today"]),
        date.fromisoformat(inputs["start"]),
        inputs["anchor"],
        inputs["months"],
        BillingTiming(inputs["timing"]),
        date.fromisoformat(end) if end is not None else None,
    )
    return found.isoformat() if found is not None else None


def _schedule(inputs: dict[str, Any]) -> dict[str, Any]:
    """A maintenance schedule's columns as models/maintenance.py reads them."""
    last = inputs["last_done_on"]
    return {**inputs, "last_done_on": date.fromisoformat(last) if last is not None else None}


def _next_due_on(inputs: dict[str, Any], context: Any, seen: dict[Subject, None]) -> Any:
    due = next_due_on(_schedule(inputs))
    return due.isoformat() if due is not None else None


def _maintenance_due(inputs: dict[str, Any], context: Any, seen: dict[Subject, None]) -> bool:
    return is_due(_schedule(inputs), date.fromisoformat(inputs["today"]), inputs["mileage"])


FILLERS: dict[str, Filler] = {
    "link": _link,
    "next_bill_date": _next_bill_date,
    "next_due_on": _next_due_on,
    "maintenance_due": _maintenance_due,
}


async def fill(data: Any, context: Any) -> Any:
    """`data` with every marker replaced by its value; the views recorded."""
    seen: dict[Subject, None] = {}  # in order, each once

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if MARK in value:
                return FILLERS[value[MARK]](value, context, seen)
            for key, item in value.items():
                value[key] = walk(item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = walk(item)
        return value

    filled = walk(data)
    if seen:
        await record_access(
            context.db,
            context.viewer,
            AccessAction.VIEW,
            seen,
            ip=context.client_ip,
            user_agent=context.user_agent,
        )
    return filled
