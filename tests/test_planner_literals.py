"""Literal argument values become variables for planning (planner/literals.py): the lifted
text is written out by hand here, and checked against graphql-core's own validation and
value coercion, not against the lifting code."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import Visitor, parse, type_from_ast, validate, value_from_ast, visit
from graphql.execution.values import get_variable_values
from graphql.utilities import value_from_ast_untyped

from planner.literals import lift, lifted
from schema.root import build_schema

SCHEMA = build_schema()._schema


def _lift(query: str, name: str | None = None) -> Any:
    return lift(SCHEMA, parse(query), query, name)


@pytest.mark.parametrize(
    ("query", "text", "values"),
    [
        (
            '{ node(id: "Q3VzdG9tZXI6MQ") { id } }',
            "query($_lit0: ID!) { node(id: $_lit0) { id } }",
            {"_lit0": "Q3VzdG9tZXI6MQ"},
        ),
        (
            'query { customers(search: "lee", first: 5) { totalCount } }',
            "query($_lit0: String, $_lit1: Int!) { customers(search: $_lit0, first: $_lit1) "
            "{ totalCount } }",
            {"_lit0": "lee", "_lit1": 5},
        ),
        (
            "query Cars($after: String) { cars(status: IN_STORAGE, after: $after) { totalCount } }",
            "query Cars($after: String, $_lit0: CarStatus) { cars(status: $_lit0, "
            "after: $after) { totalCount } }",
            {"_lit0": "IN_STORAGE"},
        ),
        (  # a fragment's literal is lifted once, wherever the fragment is spread
            '{ a: node(id: "QQ") { ...F } b: node(id: 7) { ...F } }\n'
            "fragment F on Customer { cars(first: 2) { totalCount } }",
            "query($_lit0: ID!, $_lit1: ID!, $_lit2: Int!) { a: node(id: $_lit0) { ...F } "
            "b: node(id: $_lit1) { ...F } }\n"
            "fragment F on Customer { cars(first: $_lit2) { totalCount } }",
            {"_lit0": "QQ", "_lit1": 7, "_lit2": 2},
        ),
        (  # escapes: the variable holds the string the literal means
            r'{ customers(search: "say \"hi\" \u00e9") { totalCount } }',
            "query($_lit0: String) { customers(search: $_lit0) { totalCount } }",
            {"_lit0": 'say "hi" é'},
        ),
    ],
)
def test_literals_become_declared_variables(query: str, text: str, values: dict[str, Any]):
    result = _lift(query)
    assert result is not None
    assert (result.query, result.values) == (text, values)
    lifted_document = parse(result.query)
    assert validate(SCHEMA, lifted_document) == []
    # Each variable coerces to what graphql-core makes of the literal it replaced.
    (operation,) = [d for d in lifted_document.definitions if d.kind == "operation_definition"]
    coerced = get_variable_values(SCHEMA, operation.variable_definitions, result.values)
    assert not isinstance(coerced, list)
    for definition in operation.variable_definitions:
        name = definition.variable.name.value
        if name not in values:
            continue  # the client's own
        input_type = type_from_ast(SCHEMA, definition.type)
        assert coerced.coerced[name] == value_from_ast(_literal_of(query, values[name]), input_type)


def _literal_of(query: str, value: Any) -> Any:
    """The literal node in `query` whose untyped value is `value`."""
    found: list[Any] = []

    class Find(Visitor):
        def enter_argument(self, node: Any, *_: Any) -> None:
            if node.value.kind != "variable" and value_from_ast_untyped(node.value) == value:
                found.append(node.value)

    visit(parse(query), Find())
    return found[0]


@pytest.mark.parametrize(
    "query",
    [
        "{ customers(first: 5) { totalCount } }\n{ cars { totalCount } }",  # two operations
        'mutation { archiveCustomer(input: {id: "x"}) { userErrors { code } } }',
        "{ invoices(status: [OPEN]) { totalCount } }",  # a list keeps its literal
        "{ customers { totalCount } }",  # nothing to lift
        "{ customers(first: 2147483648) { totalCount } }",  # no Int: the executor says so
        '{ customers(first: "5") { totalCount } }',  # a string is no Int literal
        '{ cars(status: "IN_STORAGE") { totalCount } }',  # nor an enum literal
        'query($_lit0: Int!) { customers(first: $_lit0, search: "a") { totalCount } }',
    ],
)
def test_what_is_not_lifted(query: str):
    assert _lift(query) is None


def test_the_operation_name_must_be_the_documents():
    query = 'query A { customers(search: "a") { totalCount } }'
    assert _lift(query, "B") is None
    assert _lift(query, "A") is not None


def test_directive_arguments_and_variable_defaults_keep_their_literals():
    query = (
        'query Q($n: Int = 3) { customers(first: $n, search: "x") '
        "{ totalCount @include(if: true) } }"
    )
    result = _lift(query)
    assert result is not None
    assert result.query == (
        "query Q($n: Int = 3, $_lit0: String) { customers(first: $n, search: $_lit0) "
        "{ totalCount @include(if: true) } }"
    )


def test_unparsable_texts_are_left_to_the_executor():
    assert lifted(SCHEMA, "{ customers(", None, 5000) is None
    assert lifted(SCHEMA, '{ node(id: "a") { id } }', None, 3) is None  # over the token limit
