"""Limits every document must pass before anything runs: tokens, depth, aliases (cost:
schema/cost.py).

The depth and alias rules are built once per set of limits (`Limits.rules` is cached).
Strawberry's limiter extensions build a new rule class per instance, and extensions are
created per request: the validation cache is keyed by the rule classes, so per-request
rules would never hit the cache.

Each refusal carries `extensions.code = QUERY_TOO_COMPLEX`, which limit (`limit`) and by
how much, so clients can tell a too-deep query from a too-costly one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
    parse,
)
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from core.errors import QUERY_TOO_COMPLEX
from schema.document_refusals import PARSE_FAILED

TOKENS_MESSAGE = "Document contains more than"  # graphql-core's parser, when max_tokens is hit


@dataclass(frozen=True)
class Limits:
    depth: int = 10
    aliases: int = 30
    tokens: int = 5000
    cost: int = 50_000

    @classmethod
    def of(cls, settings: Any) -> Limits:
        return cls(
            depth=settings.max_query_depth,
            aliases=settings.max_query_aliases,
            tokens=settings.max_query_tokens,
            cost=settings.max_query_cost,
        )

    @property
    def rules(self) -> tuple[type[ValidationRule], ...]:
        return _rules(self.depth, self.aliases)


def too_complex(message: str, limit: str, **extensions: object) -> dict[str, object]:
    """The extensions of a refusal: which limit, and the figures."""
    return {"code": QUERY_TOO_COMPLEX, "limit": limit, **extensions}


@cache
def _rules(max_depth: int, max_aliases: int) -> tuple[type[ValidationRule], ...]:
    return (_coded_depth_rule(max_depth), _alias_rule(max_aliases))


def _coded_depth_rule(max_depth: int) -> type[ValidationRule]:
    """Strawberry's depth rule, its errors given our code (it reports them while built)."""
    base = depth_rule(max_depth, None, None)

    # A class made by Strawberry at run time: mypy cannot take it as a base.
    class DepthRule(base):  # type: ignore[misc, valid-type]
        def __init__(self, context: ValidationContext) -> None:
            report = context.on_error

            def coded(error: GraphQLError) -> None:
                extensions = too_complex(error.message, "depth", maxDepth=max_depth)
                report(GraphQLError(error.message, error.nodes, extensions=extensions))

            # graphql-core reports through this method; swapped while the base reports.
            context.on_error = coded  # type: ignore[method-assign]
            try:
                super().__init__(context)
            finally:
                context.on_error = report  # type: ignore[method-assign]  # as above

    return DepthRule


def _alias_rule(max_aliases: int) -> type[ValidationRule]:
    """Aliases in every operation, fragments spread into it included."""

    class AliasRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            fragments = {
                d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)
            }
            operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
            count = sum(count_fields_with_alias(o, fragments) for o in operations)
            if count > max_aliases:
                message = f"{count} aliases found. Allowed: {max_aliases}"
                extensions = too_complex(message, "aliases", aliases=count, maxAliases=max_aliases)
                context.report_error(GraphQLError(message, extensions=extensions))

    return AliasRule


def limit_rules(limits: Limits) -> SchemaExtension:
    return AddValidationRules(list(limits.rules))


@lru_cache(maxsize=256)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def parse_within(query: str, max_tokens: int) -> DocumentNode:
    """The parsed document, or a GraphQLError (a syntax error; over `max_tokens`, coded
    QUERY_TOO_COMPLEX; any other, GRAPHQL_PARSE_FAILED). Shared: the HTTP and WebSocket edges
    read the operation first."""
    try:
        return _parse(query, max_tokens)
    except GraphQLError as error:
        if TOKENS_MESSAGE in error.message:
            error.extensions = too_complex(error.message, "tokens", maxTokens=max_tokens)
        else:
            error.extensions = {"code": PARSE_FAILED}
        raise


class CachedParse(SchemaExtension):
    """Parse once per text (bounded cache), stopping after `tokens` tokens.

    Strawberry's ParserCache, with the token refusal given our code and other syntax
    errors GRAPHQL_PARSE_FAILED: graphql-core's parser raises them, and nothing after the
    parse step sees them.
    """

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.query:
            execution.graphql_document = parse_within(execution.query, self.limits.tokens)
        yield
