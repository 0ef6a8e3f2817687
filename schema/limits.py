"""Limits every document must pass before anything runs: depth, aliases, tokens.

The depth and alias rules are built once, here. Strawberry's limiter extensions build a
new rule class per instance, and extensions are created per request: the validation
cache is keyed by the rule classes, so per-request rules would never hit the cache.
"""

from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000

RULES = [depth_rule(MAX_DEPTH, None, None), alias_rule(MAX_ALIASES)]


def limit_rules() -> SchemaExtension:
    return AddValidationRules(RULES)


def limit_tokens() -> SchemaExtension:
    return MaxTokensLimiter(max_token_count=MAX_TOKENS)
