"""Which fields the planner can answer, and which send a query to the executor.

`unplannable_fields` lists every field of a row type (and of the root query) that no
planner rule covers: a query selecting one of them is answered by the executor, so a field
added without its SQL shows up here (tests/test_planner.py holds the list).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema

from models.derived import DERIVED
from planner.computed import COMPUTED

# Root fields the planner answers (planner/plan.py Planner.root_field).
PLANNED_ROOTS = frozenset(
    {
        "viewer",
        "node",
        "organization",
        "customers",
        "cars",
        "invoices",
        "estimates",
        "contracts",
        "conversations",
        "billingPlans",
        "appointments",
        "auditEvents",
        "staffUsers",
    }
)


def unplannable_fields(schema: GraphQLSchema, row_types: dict[str, tuple[Any, Any]]) -> list[str]:
    """`row_types`: the schema's row types (schema.node.ROW_TYPES)."""
    missing: list[str] = []
    query = schema.query_type
    assert query is not None
    missing += [f"Query.{name}" for name in sorted(query.fields) if name not in PLANNED_ROOTS]
    for type_name, (cls, table) in sorted(row_types.items()):
        gql_type = schema.type_map.get(type_name)
        if not isinstance(gql_type, GraphQLObjectType):
            continue
        for name, gql_field in sorted(gql_type.fields.items()):
            if not _plannable(type_name, cls, table.name, gql_field):
                missing.append(f"{type_name}.{name}")
    return missing


def _plannable(type_name: str, cls: Any, table_name: str, gql_field: Any) -> bool:
    definition = (gql_field.extensions or {}).get("strawberry-definition")
    if definition is None:
        return False
    python_name = definition.python_name
    return (
        python_name == "id"
        or getattr(definition, "plan", None) is not None
        or python_name in cls.__copied__
        or (type_name, python_name) in COMPUTED
        or python_name in DERIVED.get(table_name, {})
    )
