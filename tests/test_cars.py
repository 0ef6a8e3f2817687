"""Staff manage cars; ownership moves only on purpose and is recorded."""

from tests.helpers import GraphQLClient, Tenant, not_found_at, user_errors

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
