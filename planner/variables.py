"""A request's variables as the executor will see them: coerced by graphql-core itself.

The limits (schema/cost.py) and the planner (planner/) read argument values before the
executor runs. Reading the raw JSON instead measures something else than what runs:
`100.0` is the Int 100 to the executor, a variable left out takes its declared default,
and an explicit null is a null, not the default. Both therefore read the values built by
the function the executor itself calls (`get_variable_values`), with its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLSchema,
    GraphQLSkipDirective,
    OperationDefinitionNode,
    SelectionNode,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

__all__ = ["VariableValues", "arguments_of", "coerce_variables", "included", "operation_of"]


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation the executor will run (None when it will refuse to pick one)."""
    return get_operation_ast(document, name)


def coerce_variables(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    raw: Mapping[str, Any] | None,
) -> VariableValues | list[GraphQLError]:
    """The coerced values (declared defaults applied, absent ones left out), or exactly
    the errors the executor answers for these variables."""
    return get_variable_values(schema, operation.variable_definitions or (), dict(raw or {}))


def arguments_of(field: GraphQLField, node: FieldNode, variables: VariableValues) -> dict[str, Any]:
    """The arguments the resolver will receive (schema defaults applied).

    Raises GraphQLError where the executor reports an error on this field instead (a null
    for a non-null argument, a literal a custom scalar refuses).
    """
    return get_argument_values(field, node, variables)


def included(node: SelectionNode, variables: VariableValues) -> bool:
    """False when `@skip`/`@include` leave this selection out (as the executor decides)."""
    for directive in node.directives or ():
        if directive.name.value == "skip" and _if(GraphQLSkipDirective, directive, variables):
            return False
        if directive.name.value == "include" and not _if(
            GraphQLIncludeDirective, directive, variables
        ):
            return False
    return True


def _if(definition: Any, directive: DirectiveNode, variables: VariableValues) -> bool:
    return get_argument_values(definition, directive, variables)["if"] is True
