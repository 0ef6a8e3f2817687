"""The mutation convention, read from the schema the code builds (README, "The API
contract"): a mutation takes no argument or one, `input: <Name>Input!`; it answers a
non-null `<Name>Payload` whose `userErrors` is a non-null list of non-null `UserError`s
(field, message and a code enum)."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
)

from schema.root import schema

# Mutations that act on the viewer alone, and need nothing from the client (GitHub's and
# Shopify's APIs have such too). A new one is added here on purpose, or it takes `input`.
WITHOUT_INPUT = {
    "signOut",
    "startStripeOnboarding",
    "refreshStripeAccount",
    "startCardSetup",
    "confirmMyPreferences",
}


def _problems(name: str, field: GraphQLField, built: GraphQLSchema) -> list[str]:
    problems = _argument_problems(name, field)
    payload = field.type
    if not isinstance(payload, GraphQLNonNull) or not isinstance(
        payload.of_type, GraphQLObjectType
    ):
        return [*problems, f"{name} must return a non-null payload object"]
    payload_type = payload.of_type
    if not payload_type.name.endswith("Payload"):
        problems.append(f"{name} returns {payload_type.name}, not a ...Payload")
    errors = payload_type.fields.get("userErrors")
    if errors is None:
        return [*problems, f"{payload_type.name} has no userErrors"]
    return problems + _user_errors_problems(payload_type.name, errors, built)


def _argument_problems(name: str, field: GraphQLField) -> list[str]:
    if not field.args:
        return [] if name in WITHOUT_INPUT else [f"{name} takes no input"]
    if name in WITHOUT_INPUT:
        return [f"{name} takes arguments now: take it off WITHOUT_INPUT"]
    if list(field.args) != ["input"]:
        return [f"{name} takes {sorted(field.args)}, not one `input`"]
    kind = field.args["input"].type
    if not isinstance(kind, GraphQLNonNull) or not isinstance(kind.of_type, GraphQLInputObjectType):
        return [f"{name}(input:) must be a non-null input object"]
    if not kind.of_type.name.endswith("Input"):
        return [f"{name}(input:) is {kind.of_type.name}, not an ...Input"]
    return []


def _user_errors_problems(payload: str, errors: GraphQLField, built: GraphQLSchema) -> list[str]:
    shape = errors.type  # [SomeError!]!
    if not (
        isinstance(shape, GraphQLNonNull)
        and isinstance(shape.of_type, GraphQLList)
        and isinstance(shape.of_type.of_type, GraphQLNonNull)
    ):
        return [f"{payload}.userErrors must be [X!]!"]
    item = shape.of_type.of_type.of_type
    user_error = built.get_type("UserError")
    assert isinstance(user_error, GraphQLInterfaceType)
    if not isinstance(item, GraphQLObjectType) or user_error not in item.interfaces:
        return [f"{payload}.userErrors items do not implement UserError"]
    code = item.fields.get("code")
    if code is None or not (
        isinstance(code.type, GraphQLNonNull) and isinstance(code.type.of_type, GraphQLEnumType)
    ):
        return [f"{item.name}.code must be a non-null enum"]
    return []


def test_every_mutation_takes_one_input_and_answers_a_payload_with_user_errors():
    built = schema._schema
    assert built.mutation_type is not None
    mutations = built.mutation_type.fields
    assert len(mutations) > 50  # the check read the real schema
    problems = [p for name, field in mutations.items() for p in _problems(name, field, built)]
    assert problems == []
    assert set(mutations) >= WITHOUT_INPUT, sorted(WITHOUT_INPUT - set(mutations))
