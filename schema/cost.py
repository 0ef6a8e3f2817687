"""The cost budget of a query, measured after validation and before any resolver runs.

After Saleor's query-cost validator: every field costs 1, and a field that takes `first`
(a connection) or `ids` (`nodes`) multiplies the cost of what is selected under it by
that many items, so `customers(first: 100) { nodes { cars(first: 100) { nodes { vin } } } }`
costs about 100 x 100. Only what will run is counted: the operation the executor will
pick, fragments followed, `@skip`/`@include` applied, and every argument as the resolver
will receive it, from the variables coerced the way the executor coerces them
(planner/variables.py: `100.0` is 100, a variable left out takes its declared default).
Variables that cannot be coerced are refused here with the executor's own errors.

The measure depends on the variables too: it is kept per text, operation and variables,
and runs as the last step of validation (the other rules stay in the validation cache,
whose key is the document alone).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.extensions import SchemaExtension

from planner.variables import (
    VariableValues,
    arguments_of,
    coerce_variables,
    included,
    operation_of,
)
from schema.limits import Limits, too_complex

CACHE_SIZE = 512
_costs: OrderedDict[tuple[str, str | None, bytes], int] = OrderedDict()


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: VariableValues,
) -> int:
    """The cost of `operation` with these coerced variables."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables)
    return walk.selections(operation.selection_set, schema.get_root_type(operation.operation))


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
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
            if not included(selection, self.variables):
                continue
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
        if "first" not in definition.args and "ids" not in definition.args:
            return 1
        try:
            arguments = arguments_of(definition, node, self.variables)
        except GraphQLError:  # the executor answers an error for this field: nothing under it
            return 1
        first = arguments.get("first")
        if isinstance(first, int) and first > 1:
            return first
        ids = arguments.get("ids")
        return len(ids) if isinstance(ids, list) and ids else 1


def cost_of(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str,
    operation_name: str | None,
    raw_variables: Mapping[str, Any] | None,
) -> int | list[GraphQLError]:
    """The cost of what will run, or the executor's errors for variables it cannot coerce.

    Costs are remembered per text, operation and raw variables: the same raw values
    always coerce to the same ones.
    """
    operation = operation_of(document, operation_name)
    if operation is None:  # the executor refuses to pick an operation: nothing runs
        return 0
    variables = coerce_variables(schema, operation, raw_variables)
    if isinstance(variables, list):
        return variables
    try:
        frozen = orjson.dumps(raw_variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # values orjson cannot encode: measure without remembering
        return measure(schema, document, operation, variables)
    key = (query, operation_name, frozen)
    if key in _costs:
        _costs.move_to_end(key)
        return _costs[key]
    cost = _costs[key] = measure(schema, document, operation, variables)
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
            cost = cost_of(
                execution.schema._schema,
                execution.graphql_document,
                execution.query or "",
                execution.operation_name,
                execution.variables,
            )
            if isinstance(cost, list):  # the variable errors the executor would answer
                execution.pre_execution_errors = cost
            elif cost > self.limits.cost:
                message = f"Query cost {cost} is over the limit of {self.limits.cost}."
                extensions = too_complex(message, "cost", cost=cost, maxCost=self.limits.cost)
                execution.pre_execution_errors = [GraphQLError(message, extensions=extensions)]
        yield
