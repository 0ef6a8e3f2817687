"""Text that cannot be stored is refused before anything runs.

A NUL character ("\\u0000") is valid JSON and valid GraphQL, but PostgreSQL refuses it in
text and JSON columns; a lone surrogate ("\\ud800") is not text at all and fails the
moment it is encoded. Reaching a resolver, either became an unexpected error with a stack
trace. This check reads every string of the variables (keys too) and every string literal
of the document, and refuses the document as a validation error that names the variable
or points at the literal. JSON bodies with lone surrogates never get this far
(portico/app.py decodes with orjson, which refuses them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

MESSAGE = "holds text that cannot be stored (a NUL character or a lone surrogate)."


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable_value(value: Any) -> bool:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return all(_storable_value(k) and _storable_value(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable_value(v) for v in value)
    return True


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[StringValueNode] = []

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if not storable(node.value):
            self.bad.append(node)


# Documents (by text) whose string literals are all storable: most requests send one of a
# few documents, so their literals are read once, not on every request. Bounded: cleared
# when full.
_CLEAN_DOCUMENTS: set[str] = set()
CLEAN_DOCUMENTS_MAX = 2048


def _bad_literals(query: str | None, document: Any) -> list[StringValueNode]:
    if query is not None and query in _CLEAN_DOCUMENTS:
        return []
    literals = _Literals()
    visit(document, literals)
    if query is not None and not literals.bad:
        if len(_CLEAN_DOCUMENTS) >= CLEAN_DOCUMENTS_MAX:
            _CLEAN_DOCUMENTS.clear()
        _CLEAN_DOCUMENTS.add(query)
    return literals.bad


class StorableText(SchemaExtension):
    """Listed after ValidationCache: adds its refusals to the cached verdict's."""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        errors = [
            GraphQLError(f"Variable '${name}' {MESSAGE}")
            for name, value in (execution.variables or {}).items()
            if not _storable_value(value) or not storable(name)
        ]
        if execution.graphql_document is not None:
            bad = _bad_literals(execution.query, execution.graphql_document)
            errors += [GraphQLError(f"This string {MESSAGE}", node) for node in bad]
        if errors:
            # A new list: the validation cache's own must not change.
            execution.pre_execution_errors = [*(execution.pre_execution_errors or []), *errors]
        yield
