"""Who may read the schema by introspection: everyone, signed-in staff, or nobody.

`INTROSPECTION` decides (development: everyone; production: staff). The refusal is a
validation rule, so a refused document never runs; the rule set differs only by viewer
kind, so the validation cache holds one entry per text for each.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from auth.viewer import ViewerKind
from core.errors import Forbidden


def may_introspect(mode: str, viewer: Any) -> bool:
    if mode == "on":
        return True
    return mode == "staff" and getattr(viewer, "kind", None) is ViewerKind.STAFF


class NoIntrospection(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule, its own errors given the FORBIDDEN code (the other rules'
    errors keep theirs: schema/document_refusals.py)."""

    def report_error(self, error: GraphQLError) -> None:
        coded = GraphQLError(error.message, error.nodes, extensions={"code": Forbidden.code})
        self.context.report_error(coded)


class IntrospectionGate(SchemaExtension):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        viewer = getattr(execution.context, "viewer", None)
        if not may_introspect(self.mode, viewer):
            execution.validation_rules = (*execution.validation_rules, NoIntrospection)
        yield
