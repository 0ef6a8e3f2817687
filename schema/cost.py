"""The cost budget of a query, measured after validation and before any resolver runs.

After Saleor's query-cost validator: every field costs 1, and a field that takes `first`
(a connection) or `ids` (`nodes`) multiplies the cost of what is selected under it by
that many items, so `customers(first: 100) { nodes { cars(first: 100) { nodes { vin } } } }`
costs about 100 x 100. Fragments are followed and variables take their request values,
so the measure depends on the variables too: it is kept per text, operation and
variables, and runs as the last step of validation (the other rules stay in the
validation cache, whose key is the document alone).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.extensions import SchemaExtension

from schema.limits import Limits, too_complex

CACHE_SIZE = 512
_costs: OrderedDict[tuple[str, str | None, bytes], int] = OrderedDict()


def measure(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation that will run (the largest one if the name is missing)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    walk = _Walk(schema, fragments, dict(variables or {}))
    costs = [walk.selections(o.selection_set, _root(schema, o)) for o in operations]
    return max(costs, default=0)


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLNamedType | None:
    return schema.get_root_type(operation.operation)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.visiting: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.visiting:  # cycles fail validation anyway
                    continue
                self.visiting.add(name)
                inner = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selections(fragment.selection_set, inner)
                self.visiting.discard(name)
        return total

    def field(self, node: FieldNode, parent: Any) -> int:
        definition = self._definition(node.name.value, parent)
        if definition is None:
            return 1
        children = self.selections(node.selection_set, get_named_type(definition.type))
        return 1 + self._multiplier(node, definition) * children

    def _definition(self, name: str, parent: Any) -> Any:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    def _multiplier(self, node: FieldNode, definition: Any) -> int:
        given = {a.name.value: a.value for a in node.arguments or ()}
        if "first" in definition.args:
            value = self._value(given.get("first"), definition.args["first"].default_value)
            return value if isinstance(value, int) and value > 1 else 1
        if "ids" in definition.args:
            value = self._value(given.get("ids"), None)
            return len(value) if isinstance(value, list) and value else 1
        return 1

    def _value(self, node: Any, default: Any) -> Any:
        if node is None:
            return default
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value, default)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return default


def cached_cost(
    schema: GraphQLSchema,
    document: Any,
    query: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    try:
        frozen = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # values orjson cannot encode: measure without remembering
        return measure(schema, document, operation_name, variables)
    key = (query, operation_name, frozen)
    if key in _costs:
        _costs.move_to_end(key)
        return _costs[key]
    cost = _costs[key] = measure(schema, document, operation_name, variables)
    if len(_costs) > CACHE_SIZE:
        _costs.popitem(last=False)
    return cost


class QueryCost(SchemaExtension):
    """Refuse a valid document whose cost is over budget, before execution starts.

    Listed after ValidationCache, whose validation runs on entering this step; the
    refusal is set before the step ends, so Strawberry returns it instead of executing.
    """

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if not execution.pre_execution_errors and execution.graphql_document is not None:
            cost = cached_cost(
                execution.schema._schema,
                execution.graphql_document,
                execution.query or "",
                execution.operation_name,
                execution.variables,
            )
            if cost > self.limits.cost:
                message = f"Query cost {cost} is over the limit of {self.limits.cost}."
                extensions = too_complex(message, "cost", cost=cost, maxCost=self.limits.cost)
                execution.pre_execution_errors = [GraphQLError(message, extensions=extensions)]
        yield
