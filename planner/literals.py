"""Literal argument values lifted into variables, so that one plan serves them all.

A client that writes `node(id: "Q3Vz...")` into the text sends a new document for every
customer: each would be planned again, and a cache keyed by text would fill with plans that
differ by one value. Here the literal values of a query's field arguments become variables
(`$_lit0: ID!`), the plan is built and cached for the lifted text, and each request's
values are bound as its parameters, as if the client had sent variables.

Only values whose literal the executor accepts exactly when the same value comes as a
variable are lifted: a scalar or enum argument (not a list or an input object), its
literal of the kind the type reads (a string for String, an enum name for an enum), and a
value that coerces. Anything else stays literal, and a document with nothing to lift keeps
its own text. The lifted text is only ever planned and answered from: an answer that needs
the executor (an error, a missing row) is given by the executor for the client's own text.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    get_named_type,
    get_nullable_type,
    parse,
)
from graphql.pyutils import Undefined
from graphql.utilities import coerce_input_value, value_from_ast_untyped

# The literal kinds each built-in scalar reads (custom scalars read strings).
_KINDS: dict[str, tuple[type[ValueNode], ...]] = {
    "String": (StringValueNode,),
    "ID": (StringValueNode, IntValueNode),
    "Int": (IntValueNode,),
    "Float": (IntValueNode, FloatValueNode),
    "Boolean": (BooleanValueNode,),
}
PREFIX = "_lit"

# Recent texts and what lifting made of them (None: nothing to lift, or not a query).
# Bounded in entries and in the length of the texts kept.
KNOWN_TEXTS = 512
LONGEST_KEPT = 8 * 1024
_known: OrderedDict[tuple[Any, ...], Lifted | None] = OrderedDict()


@dataclass(frozen=True, slots=True)
class Lifted:
    query: str  # the text with the lifted literals as variables
    values: dict[str, Any]  # each lifted variable's value, as a client would send it

    def variables(self, given: dict[str, Any] | None) -> dict[str, Any]:
        return {**(given or {}), **self.values}

    def document(self) -> DocumentNode:
        return parse(self.query)


def lifted(
    schema: GraphQLSchema,
    query: str,
    operation_name: str | None,
    max_tokens: int,
    document: DocumentNode | None = None,
) -> Lifted | None:
    """`lift` for a text, parsed here unless `document` is its parse (recent texts are
    remembered)."""
    key = (id(schema), query, operation_name)
    if key in _known:
        _known.move_to_end(key)
        return _known[key]
    if document is None:
        try:
            document = parse(query, max_tokens=max_tokens)
        except GraphQLError:
            document = None  # the executor reports it
    lifted = None if document is None else lift(schema, document, query, operation_name)
    if len(query) <= LONGEST_KEPT:
        _known[key] = lifted
        if len(_known) > KNOWN_TEXTS:
            _known.popitem(last=False)
    return lifted


def lift(
    schema: GraphQLSchema, document: DocumentNode, query: str, operation_name: str | None
) -> Lifted | None:
    """The query with its liftable literals as variables, or None when there is none (or
    the document is not one query operation)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    operation = operations[0]
    if operation_name is not None and (
        operation.name is None or operation.name.value != operation_name
    ):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: list[tuple[ValueNode, GraphQLInputType]] = []
    root = schema.query_type
    if root is None or operation.loc is None:
        return None
    _walk(schema, root, operation.selection_set, fragments, set(), found)
    if not found:
        return None
    taken = {v.variable.name.value for v in operation.variable_definitions or ()}
    if any(name.startswith(PREFIX) for name in taken):
        return None  # the client's own names: left as they are
    values: dict[str, Any] = {}
    declarations: list[str] = []
    edits: list[tuple[int, int, str]] = []
    for number, (node, input_type) in enumerate(sorted(found, key=_start)):
        value = value_from_ast_untyped(node)
        try:
            coerces = coerce_input_value(value, input_type) is not Undefined
        except GraphQLError:
            coerces = False
        if not coerces:
            return None  # the executor reports the literal, at its place in the text
        name = f"{PREFIX}{number}"
        values[name] = value
        declarations.append(f"${name}: {input_type}")
        assert node.loc is not None  # parsed with locations
        edits.append((node.loc.start, node.loc.end, f"${name}"))
    edits.append(_declaration_edit(query, operation, ", ".join(declarations)))
    text = query
    for start, end, replacement in sorted(edits, key=lambda edit: edit[0], reverse=True):
        text = text[:start] + replacement + text[end:]
    return Lifted(text, values)


def _start(found: tuple[ValueNode, Any]) -> int:
    loc = found[0].loc
    return loc.start if loc is not None else 0


def _declaration_edit(
    query: str, operation: OperationDefinitionNode, declarations: str
) -> tuple[int, int, str]:
    """Where the new variables are declared: after the existing ones, after the name, after
    the `query` keyword, or in front of a shorthand `{ ... }`."""
    if operation.variable_definitions:
        last = operation.variable_definitions[-1].loc
        assert last is not None
        return (last.end, last.end, f", {declarations}")
    if operation.name is not None and operation.name.loc is not None:
        end = operation.name.loc.end
        return (end, end, f"({declarations})")
    assert operation.loc is not None
    start = operation.loc.start
    if query.startswith("query", start):
        return (start + 5, start + 5, f"({declarations})")
    return (start, start, f"query({declarations}) ")


def _walk(
    schema: GraphQLSchema,
    parent: GraphQLObjectType | Any,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
    found: list[tuple[ValueNode, GraphQLInputType]],
) -> None:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields = getattr(parent, "fields", {})
            field = fields.get(selection.name.value)
            if field is None:
                continue  # __typename and the like
            for argument in selection.arguments or ():
                definition = field.args.get(argument.name.value)
                if definition is not None and _liftable(argument.value, definition.type):
                    found.append((argument.value, definition.type))
            inner = get_named_type(field.type)
            _walk(schema, inner, selection.selection_set, fragments, seen, found)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner = parent if condition is None else schema.get_type(condition.name.value)
            _walk(schema, inner, selection.selection_set, fragments, seen, found)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            seen.add(name)  # a fragment's literals are lifted once, wherever it is spread
            inner = schema.get_type(fragment.type_condition.name.value)
            _walk(schema, inner, fragment.selection_set, fragments, seen, found)


def _liftable(value: ValueNode, input_type: GraphQLInputType) -> bool:
    named = get_nullable_type(input_type)
    if isinstance(named, GraphQLEnumType):
        return isinstance(value, EnumValueNode)
    if not isinstance(named, GraphQLScalarType):
        return False  # lists and input objects keep their literals
    return isinstance(value, _KINDS.get(named.name, (StringValueNode,)))
