"""`node` and `nodes`: one lookup for every type, with one answer for "not yours"."""

import uuid

from core.ids import decode_id, encode_id
from tests.helpers import GraphQLClient, Tenant, error_codes

NODE = "query N($id: ID!) { node(id: $id) { __typename id ... on Customer { name } } }"
NODES = "query N($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
CREATE = """
mutation C($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }
"""


async def _customer(gql: GraphQLClient, tenant: Tenant, name: str) -> str:
    data = await gql.data(CREATE, {"input": {"name": name}}, token=tenant.staff_token)
    return data["createCustomer"]["customer"]["id"]


async def test_node_finds_an_own_record(gql, tenant):
    customer_id = await _customer(gql, tenant, "Noor")
    data = await gql.data(NODE, {"id": customer_id}, token=tenant.staff_token)
    assert data["node"] == {"__typename": "Customer", "id": customer_id, "name": "Noor"}


async def test_not_found_is_one_answer_for_every_reason(gql, tenant, other_tenant):
    theirs = await _customer(gql, other_tenant, "Theirs")
    mine = await _customer(gql, tenant, "Mine")
    _, row_id = decode_id(mine)
    candidates = [
        theirs,  # another organization's customer
        encode_id("Customer", uuid.uuid4()),  # nobody's
        encode_id("Invoice", row_id),  # an own row under the wrong type
        encode_id("Nonsense", uuid.uuid4()),  # unknown type
        "not-a-global-id",  # malformed
    ]
    answers = []
    for global_id in candidates:
        response = await gql.post(NODE, {"id": global_id}, token=tenant.staff_token)
        body = response.json()
        assert error_codes(body) == ["NOT_FOUND"]
        answers.append((response.status_code, body))
    assert all(answer == answers[0] for answer in answers)


async def test_nodes_keeps_order_and_nulls_what_is_not_visible(gql, tenant, other_tenant):
    first = await _customer(gql, tenant, "First")
    second = await _customer(gql, tenant, "Second")
    theirs = await _customer(gql, other_tenant, "Theirs")
    data = await gql.data(NODES, {"ids": [second, theirs, first]}, token=tenant.staff_token)
    assert data["nodes"] == [
        {"__typename": "Customer", "id": second},
        None,
        {"__typename": "Customer", "id": first},
    ]


async def test_anonymous_node_lookup_finds_nothing(gql, tenant):
    customer_id = await _customer(gql, tenant, "Hidden")
    result = await gql(NODE, {"id": customer_id})
    assert error_codes(result) == ["NOT_FOUND"]
