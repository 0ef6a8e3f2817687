"""Staff manage cars; ownership moves only on purpose and is recorded."""

import uuid
from typing import Any

from tests.billing import RECORD_PAYMENT, open_invoice
from tests.helpers import GraphQLClient, Tenant, not_found_at, user_errors
from tests.portal import make_customer, sign_in_by_invite
from tests.test_derived import both_ways

CREATE_CUSTOMER = """
mutation C($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }
"""
CREATE_CAR = """
mutation Car($input: CreateCarInput!) {
  createCar(input: $input) {
    car { id make model year vin status owner { id } events(first: 10) { nodes { kind data } } }
    userErrors { field code }
  }
}
"""
UPDATE_CAR = """
mutation Update($input: UpdateCarInput!) {
  updateCar(input: $input) {
    car { id status events(first: 10) { nodes { kind data } } }
    userErrors { field code }
  }
}
"""
ASSIGN = """
mutation Assign($input: AssignCarInput!) {
  assignCar(input: $input) {
    car { id owner { id } events(first: 10) { nodes { kind data } } }
    userErrors { field message code }
  }
}
"""
CARS = """
query Cars($search: String) { cars(search: $search) { totalCount nodes { make model year } } }
"""


async def _customer(gql: GraphQLClient, tenant: Tenant, name: str) -> str:
    data = await gql.data(CREATE_CUSTOMER, {"input": {"name": name}}, token=tenant.staff_token)
    return data["createCustomer"]["customer"]["id"]


async def _car(gql: GraphQLClient, tenant: Tenant, **fields) -> dict:
    data = await gql.data(CREATE_CAR, {"input": fields}, token=tenant.staff_token)
    return data["createCar"]


async def test_create_car_checks_the_vin(gql, tenant):
    good = await _car(gql, tenant, make="Porsche", model="911", year=1995, vin="wp0aa2993sl123456")
    assert good["userErrors"] == []
    assert good["car"]["vin"] == "WP0AA2993SL123456"
    assert good["car"]["status"] == "IN_STORAGE"
    bad = await _car(gql, tenant, make="Ford", model="GT40", vin="WP0AA2993SL12345O")
    assert user_errors(bad) == [(["input", "vin"], "INVALID")]
    classic = await _car(
        gql, tenant, make="Jaguar", model="E-Type", year=1963, vin="879041", vinUnchecked=True
    )
    assert classic["userErrors"] == [] and classic["car"]["vin"] == "879041"
    duplicate = await _car(gql, tenant, make="Porsche", model="911", vin="WP0AA2993SL123456")
    assert user_errors(duplicate) == [(["input", "vin"], "DUPLICATE")]
    future = await _car(gql, tenant, make="Tesla", model="Roadster", year=2999)
    assert user_errors(future) == [(["input", "year"], "INVALID")]


async def test_assigning_a_car_owned_by_another_customer_needs_a_transfer(gql, tenant):
    alex = await _customer(gql, tenant, "Alex")
    blair = await _customer(gql, tenant, "Blair")
    car = (await _car(gql, tenant, make="Ferrari", model="308", ownerId=alex))["car"]
    assert car["owner"] == {"id": alex}

    refused = (
        await gql.data(
            ASSIGN, {"input": {"carId": car["id"], "customerId": blair}}, token=tenant.staff_token
        )
    )["assignCar"]
    assert refused["car"] is None
    assert user_errors(refused) == [(["input", "carId"], "OWNED_BY_ANOTHER_CUSTOMER")]

    moved = (
        await gql.data(
            ASSIGN,
            {"input": {"carId": car["id"], "customerId": blair, "transfer": True}},
            token=tenant.staff_token,
        )
    )["assignCar"]
    assert moved["userErrors"] == []
    assert moved["car"]["owner"] == {"id": blair}
    owner_changes = [e for e in moved["car"]["events"]["nodes"] if e["kind"] == "OWNER_CHANGE"]
    assert len(owner_changes) == 2  # first owner at creation, then the transfer
    assert {"from", "to"} <= set(owner_changes[0]["data"])


async def test_status_changes_are_recorded_as_events(gql, tenant):
    car = (await _car(gql, tenant, make="BMW", model="M1"))["car"]
    data = await gql.data(
        UPDATE_CAR, {"input": {"id": car["id"], "status": "IN_SERVICE"}}, token=tenant.staff_token
    )
    events = data["updateCar"]["car"]["events"]["nodes"]
    assert events == [{"kind": "STATUS_CHANGE", "data": {"old": "IN_STORAGE", "new": "IN_SERVICE"}}]


async def test_car_search_by_make_model_year_vin_plate(gql, tenant):
    await _car(
        gql, tenant, make="Porsche", model="356 Speedster", year=1957, licensePlate="SPD 356"
    )
    benz = await _car(
        gql,
        tenant,
        make="Mercedes-Benz",
        model="300SL",
        year=1955,
        vin="1980405500123",
        vinUnchecked=True,
    )
    assert benz["userErrors"] == []
    await _car(gql, tenant, make="Lancia", model="Stratos", year=1974)

    async def found(search: str) -> list[str]:
        data = await gql.data(CARS, {"search": search}, token=tenant.staff_token)
        return [n["model"] for n in data["cars"]["nodes"]]

    assert await found("porsche") == ["356 Speedster"]
    assert await found("1955") == ["300SL"]
    assert await found("spd") == ["356 Speedster"]
    assert await found("19804055") == ["300SL"]
    assert await found("lancia 1974") == ["Stratos"]


async def test_cars_of_another_organization_are_not_found(gql, tenant, other_tenant):
    theirs = (await _car(gql, other_tenant, make="Audi", model="Quattro"))["car"]
    mine = await _customer(gql, tenant, "Mine")
    result = await gql(
        ASSIGN, {"input": {"carId": theirs["id"], "customerId": mine}}, token=tenant.staff_token
    )
    not_found_at(result, "carId")
    listed = await gql.data(CARS, {}, token=tenant.staff_token)
    assert listed["cars"]["totalCount"] == 0


CAR_EVENTS = """
query E($id: ID!) { node(id: $id) { ... on Car { events(first: 10) { nodes { kind data } } } } }
"""
PORTAL_CAR_EVENTS = """
{ viewer { customer { cars(first: 5) { nodes { id
    events(first: 10) { nodes { kind data } } } } } } }
"""
AUDIT = """
query A($action: String) { auditEvents(action: $action, first: 10) { nodes { action data } } }
"""


def _raw_ids(value: Any) -> list[str]:
    """Every string inside `value` that is a bare UUID (an internal row id)."""
    if isinstance(value, dict):
        return [i for v in value.values() for i in _raw_ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _raw_ids(v)]
    try:
        uuid.UUID(str(value))
    except ValueError:
        return []
    return [value] if isinstance(value, str) else []


async def test_a_new_owner_sees_nothing_of_the_previous_one_in_car_events(db, gql, smtp, tenant):
    alex, _ = await make_customer(gql, tenant, "Alex")
    blair, blair_email = await make_customer(gql, tenant, "Blair")
    car = (await _car(gql, tenant, make="Ferrari", model="308", ownerId=alex))["car"]
    moved = await gql.data(
        ASSIGN,
        {"input": {"carId": car["id"], "customerId": blair, "transfer": True}},
        token=tenant.staff_token,
    )
    assert moved["assignCar"]["userErrors"] == []
    # Staff: the owners by global id, which `node` finds.
    staff = await both_ways(db, gql, CAR_EVENTS, {"id": car["id"]}, tenant.staff_token)
    changes = [e["data"] for e in staff["node"]["events"]["nodes"] if e["kind"] == "OWNER_CHANGE"]
    assert changes == [{"from": alex, "to": blair}, {"to": alex}]
    assert _raw_ids(staff) == []
    # Blair's portal: the events of the car, without a word about who owned it before.
    token = await sign_in_by_invite(gql, db, smtp, tenant, blair_email, customerId=blair)
    seen = await both_ways(db, gql, PORTAL_CAR_EVENTS, {}, token)
    (portal_car,) = seen["viewer"]["customer"]["cars"]["nodes"]
    kinds = [(e["kind"], e["data"]) for e in portal_car["events"]["nodes"]]
    assert kinds == [("OWNER_CHANGE", {}), ("OWNER_CHANGE", {})]
    assert alex not in str(seen) and _raw_ids(seen) == []


async def test_audit_details_name_records_by_global_id(db, gql, smtp, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer_id)
    paid = await gql.data(
        RECORD_PAYMENT,
        {"input": {"invoiceId": invoice["id"], "amount": 1000, "method": "CASH"}},
        token=tenant.staff_token,
    )
    assert paid["recordPayment"]["userErrors"] == []
    audit = await gql.data(AUDIT, {"action": "payment.recorded"}, token=tenant.staff_token)
    (event,) = audit["auditEvents"]["nodes"]
    assert event["data"] == {"invoice_id": invoice["id"], "amount": 1000}
    everything = await gql.data(AUDIT, {}, token=tenant.staff_token)
    assert everything["auditEvents"]["nodes"] and _raw_ids(everything) == []
