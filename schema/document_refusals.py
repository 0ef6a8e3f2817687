"""What a document refused before it runs tells the client: a stable code, and nothing
about the schema it did not already name.

graphql-core explains refusals helpfully: "Unknown argument 'frist'. Did you mean
'first'?", "Unknown type 'Customr'. Did you mean 'Customer'?", "Did you mean the enum
value 'PASSWORD'?", in validation rules and in variable coercion alike. Those suggestions
rebuild the schema that introspection hides (clairvoyance does exactly that), so every
one is cut, in every environment. For viewers who may not introspect, the type names the
messages carry are hidden too ("Field 'customers' of type '<hidden>' must have a
selection of subfields", "on field 'customers'" for "'Query.customers'"): without them a
guessed field name leads nowhere. Parse errors carry GRAPHQL_PARSE_FAILED, the other
refusals GRAPHQL_VALIDATION_FAILED unless they have a code of their own (limits,
introspection).

Client errors are logged at INFO, without a stack: they are the client's doing.
Nothing logged quotes the client's input, which may hold link tokens and passwords.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from schema.introspection import may_introspect
from schema.masking import is_client_error

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
# graphql-core's pyutils.did_you_mean, and the " Did you mean 'x { ... }'?" of leaf rules.
_SUGGESTION = re.compile(r"\s*Did you mean\b[^?]*\?", re.DOTALL)
_ECHO = re.compile(r": |\s*Found\b")  # where graphql-core starts quoting the input

log = logging.getLogger("portico.graphql")


HIDDEN = "'<hidden>'"
# "of type 'X'", "on type 'X'", "expecting type 'X'", "Expected type 'X'", "required type".
_TYPE = re.compile(r"(\b[Tt]ype\s+)'[^']*'")
_ENUM = re.compile(r"\bin '[^']*' enum\b")  # "Value 'X' does not exist in 'Y' enum."
# Schema coordinates: 'Query.customers' -> 'customers', 'Mutation.f(input:)' -> 'f(input:)'.
_MEMBER = re.compile(r"'[A-Za-z_]\w*\.([A-Za-z_]\w*(?:\([A-Za-z_]\w*:\))?)'")
_SCALAR = re.compile(r"\b[A-Za-z_]\w* cannot represent\b")  # "Int cannot represent ..."


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def without_type_names(message: str) -> str:
    message = _TYPE.sub(lambda m: m.group(1) + HIDDEN, message)
    message = _ENUM.sub(f"in {HIDDEN} enum", message)
    message = _MEMBER.sub(r"'\1'", message)
    return _SCALAR.sub("The value cannot represent", message)


def refusal(error: GraphQLError, parsed: bool, hide_types: bool) -> GraphQLError:
    """`error` as the client sees it: no suggestion, no type names if `hide_types`, a
    code. A copy: validation errors are cached and shared between requests."""
    if error.path is not None:
        return error  # a resolver's error: MaskUnexpected and the resolvers decide
    message = without_suggestions(error.message)
    if hide_types:
        message = without_type_names(message)
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", VALIDATION_FAILED if parsed else PARSE_FAILED)
    return GraphQLError(
        message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        extensions,
    )


class Refusals(SchemaExtension):
    """Runs after MaskUnexpected (listed before it): rewrites the errors the client gets."""

    def __init__(self, introspection: str) -> None:
        super().__init__()
        self.introspection = introspection

    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        result: Any = execution.result
        if result is None or not getattr(result, "errors", None):
            return
        parsed = execution.graphql_document is not None
        viewer = getattr(execution.context, "viewer", None)
        hide = not may_introspect(self.introspection, viewer)
        result.errors = [refusal(error, parsed, hide) for error in result.errors]


def log_errors(errors: list[GraphQLError]) -> None:
    """Schema.process_errors. Unexpected errors with their stack; a client's mistakes as one
    INFO line. Neither quotes the document (Strawberry's logger did, literal tokens and
    all), and a refusal is cut before the values it echoes ("...: <value>", "Found: ...")."""
    for error in errors:
        if not is_client_error(error):
            where = ".".join(str(p) for p in error.path or ()) or "-"
            log.error("unexpected error at %s: %s", where, error.message, exc_info=_cause(error))
        elif error.path is None:
            code = (error.extensions or {}).get("code", VALIDATION_FAILED)
            log.info("refused (%s): %s", code, _ECHO.split(without_suggestions(error.message))[0])
        else:
            log.info("refused at %s: %s", ".".join(map(str, error.path)), error.message)


def _cause(error: GraphQLError) -> BaseException | None:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original
