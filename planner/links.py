"""Signed links in planned answers: written by the SQL as a marker, filled in after it.

A link is signed in Python (auth/downloads.py) per request and never stored, so the
statement cannot write it. It writes `{"@link": kind, "id": row id}` in its place instead
("@" cannot begin a GraphQL response key, so no field is mistaken for one), and the answer
is walked once after the statement returns: each marker becomes its link, and the views a
portal viewer leaves are recorded in one batch, by the same rule as the executor's
(domain/access_log.py).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from graphql import FieldNode

from domain.access_log import Subject, record_access, signed_link
from models.enums import AccessAction
from planner import sql

if TYPE_CHECKING:
    from planner.fields import Context
    from planner.plan import Planner, Source

MARK = "@link"


def link(kind: str, unless_null: str | None = None) -> Any:
    """The planner's entry for a field that gives the signed link of `kind` to its row;
    null where the column `unless_null` is (a document without a file)."""

    def build(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Any:
        if planner.viewer.session_id is None:
            from planner.plan import Unplannable

            raise Unplannable("a link needs a session: the executor reports it")
        planner.links = True
        marker = sa.func.json_build_object(
            sql.const(MARK), sql.const(kind), sql.const("id"), source.c.id
        )
        if unless_null is None:
            return marker
        return sa.case((source.c[unless_null].is_(None), sa.null()), else_=marker)

    return build


async def fill_links(data: Any, context: Any) -> Any:
    """`data` with every marker replaced by its link; the views recorded."""
    seen: dict[Subject, None] = {}  # in order, each once

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            if MARK in value:
                row_id = uuid.UUID(value["id"])
                url, subject = signed_link(context.settings, context.viewer, value[MARK], row_id)
                if subject is not None:
                    seen[subject] = None
                return url
            for key, item in value.items():
                value[key] = fill(item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = fill(item)
        return value

    filled = fill(data)
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
