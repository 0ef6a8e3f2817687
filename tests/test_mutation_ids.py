"""One error channel for bad input: an ID in a mutation's input that names nothing the
viewer may see (malformed, of another type, unknown, another business's) is a NOT_FOUND
user error naming the field, never a top-level error, and changes nothing.

Every mutation whose input holds an ID is tried, from the schema itself: a new mutation
is covered without being listed here.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)

from core.ids import encode_id
from schema.root import schema
from tests.helpers import GraphQLClient, Tenant
from tests.portal import make_customer, sign_in_by_invite

MUTATIONS = schema._schema.mutation_type
SCALARS = {
    "String": "Some text",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Date": "2030-01-15",
    "DateTime": "2030-01-15T10:00:00+00:00",
    "Decimal": "1",
    "JSON": {},
}
# Multipart uploads need a file part; tests/test_files.py tries their IDs.
UPLOADS = {"Upload"}


def _needs_upload(input_type: GraphQLInputObjectType) -> bool:
    return any(
        get_named_type(f.type).name in UPLOADS and isinstance(f.type, GraphQLNonNull)
        for f in input_type.fields.values()
    )


def _id_paths(input_type: GraphQLInputObjectType, prefix: str = "") -> list[str]:
    paths = []
    for name, field in input_type.fields.items():
        named = get_named_type(field.type)
        path = f"{prefix}{name}"
        if named.name == "ID":
            paths.append(path)
        elif isinstance(named, GraphQLInputObjectType) and not _is_list(field.type):
            paths += _id_paths(named, f"{path}.")
    return paths


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _value(type_: Any, name: str) -> Any:
    """A plausible value for a required field."""
    nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(nullable, GraphQLList):
        return [_value(nullable.of_type, name)]
    if isinstance(nullable, GraphQLEnumType):
        return next(iter(nullable.values))
    if isinstance(nullable, GraphQLInputObjectType):
        return _required(nullable)
    assert isinstance(nullable, GraphQLScalarType)
    if nullable.name == "ID":
        return encode_id("Nothing", uuid.uuid4())
    if "email" in name.lower():
        return f"{uuid.uuid4().hex[:8]}@example.test"
    if nullable.name == "String" and "token" in name.lower():
        return "x" * 43
    return SCALARS[nullable.name]


def _required(input_type: GraphQLInputObjectType) -> dict[str, Any]:
    return {
        name: _value(field.type, name)
        for name, field in input_type.fields.items()
        if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
    }


def _set(data: dict[str, Any], path: str, value: Any, list_field: bool) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    if rest:
        inner = dict(data.get(head) or {})
        data[head] = _set(inner, rest, value, list_field)
    else:
        data[head] = [value] if list_field else value
    return data


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name, field in MUTATIONS.fields.items():
        if "input" not in field.args:
            continue
        input_type = get_named_type(field.args["input"].type)
        if _needs_upload(input_type):
            continue
        cases += [(name, path) for path in _id_paths(input_type)]
    return cases


def _field_type(input_type: GraphQLInputObjectType, path: str) -> Any:
    head, _, rest = path.partition(".")
    field = input_type.fields[head]
    return _field_type(get_named_type(field.type), rest) if rest else field.type


@pytest.mark.parametrize("bad", ["malformed", "unknown"])
async def test_an_id_that_names_nothing_is_a_user_error_on_its_field(
    gql: GraphQLClient, db, tenant: Tenant, smtp, bad: str
):
    customer_id, email = await make_customer(gql, tenant)
    portal = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    wrong: list[str] = []
    for name, path in _cases():
        field = MUTATIONS.fields[name]
        input_type = get_named_type(field.args["input"].type)
        payload_type = get_named_type(field.type)
        value = "not-an-id" if bad == "malformed" else encode_id("Customer", uuid.uuid4())
        data = _set(_required(input_type), path, value, _is_list(_field_type(input_type, path)))
        selection = "userErrors { field code }"
        query = (
            f"mutation M($input: {input_type.name}!) {{ {name}(input: $input) {{ {selection} }} }}"
        )
        if "userErrors" not in payload_type.fields:
            wrong.append(f"{name}: its payload has no userErrors")
            continue
        answers = []
        for token in (tenant.owner_token, portal):
            result = await gql(query, {"input": data}, token=token)
            answers.append(result)
            codes = {e.get("extensions", {}).get("code") for e in result.get("errors", [])}
            if not codes & {"FORBIDDEN", "OWNER_REQUIRED", "UNAUTHENTICATED", "SECTION_DISABLED"}:
                break  # the viewer this mutation is for
        result = answers[-1]
        if "errors" in result:
            wrong.append(f"{name}.{path}: top-level {result['errors'][0]}")
            continue
        user_errors = result["data"][name]["userErrors"]
        if not user_errors:
            wrong.append(f"{name}.{path}: accepted")
        # Every ID of this input names nothing: a NOT_FOUND must name one of them.
        ids = {("input", *p.split(".")) for p in _id_paths(input_type)}
        for error in user_errors:
            at = tuple(p for p in error["field"] or () if not p.isdigit())
            if error["code"] == "NOT_FOUND" and at not in ids:
                wrong.append(f"{name}.{path}: NOT_FOUND on a field that is no ID {error}")
    assert wrong == [], "\n".join(wrong)


async def test_another_business_s_id_is_answered_like_an_unknown_one(
    gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant
):
    theirs, _ = await make_customer(gql, other_tenant, "Not Yours")
    unknown = encode_id("Customer", uuid.uuid4())
    update = """mutation U($input: UpdateCustomerInput!) {
      updateCustomer(input: $input) { customer { id } userErrors { field message code } } }"""
    invoice = """mutation I($input: CreateInvoiceInput!) {
      createInvoice(input: $input) { invoice { id } userErrors { field message code } } }"""
    for query, data in (
        (update, {"name": "Mine now"}),
        (invoice, {"currency": "USD"}),
    ):
        key = "id" if query is update else "customerId"
        foreign = await gql.data(query, {"input": {**data, key: theirs}}, token=tenant.staff_token)
        missing = await gql.data(query, {"input": {**data, key: unknown}}, token=tenant.staff_token)
        assert foreign == missing
        [payload] = foreign.values()
        assert payload["userErrors"] == [
            {"field": ["input", key], "message": "Not found.", "code": "NOT_FOUND"}
        ]
    still = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Customer { name } } }",
        {"id": theirs},
        token=other_tenant.staff_token,
    )
    assert still["node"]["name"] == "Not Yours"
