"""Issue 7 part 3 (VINs): the ISO 3779 check digit of North American VINs, with
`vinUnchecked` for pre-1981 and foreign numbers. The other checks at the edge:
tests/test_customers.py::test_bad_input_gives_every_user_error_and_writes_nothing and
tests/test_cars.py (VIN letters, duplicates, unchecked classics).
"""

from __future__ import annotations

from domain.formats import vin_check_digit
from resolvers.validation import Checks
from tests.helpers import GraphQLClient, Tenant
from tests.portal import CREATE_CAR, make_customer


def test_check_digits_of_known_vins():
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert vin_check_digit("1HGCM82633A004352") == "3"
    assert vin_check_digit("11111111111111111") == "1"


def test_only_north_american_vins_must_carry_it():
    checks = Checks()
    checks.vin("vin", "1HGCM82603A004352", strict=True)  # 9th character 0, not 3
    assert [p.field for p in checks.problems] == ["vin"]
    foreign = Checks()
    foreign.vin("vin", "WP0AA2993SL123456", strict=True)  # German: no check digit rule
    assert foreign.problems == []
    unchecked = Checks()
    unchecked.vin("vin", "1HGCM82603A004352", strict=False)
    assert unchecked.problems == []


async def test_a_wrong_check_digit_is_a_user_error_unless_unchecked(
    gql: GraphQLClient, tenant: Tenant
):
    owner, _ = await make_customer(gql, tenant)
    car = {"make": "Honda", "model": "Accord", "ownerId": owner, "vin": "1HGCM82603A004352"}
    refused = await gql.data(CREATE_CAR, {"input": car}, token=tenant.staff_token)
    assert refused["createCar"]["userErrors"] == [{"code": "INVALID"}]
    kept = await gql.data(
        CREATE_CAR, {"input": {**car, "vinUnchecked": True}}, token=tenant.staff_token
    )
    assert kept["createCar"]["userErrors"] == []


async def test_unicode_digits_in_a_search_are_text(gql: GraphQLClient, tenant: Tenant):
    """Found by the fuzzer: "²" passed str.isdigit() and then failed int()."""
    await gql.data(
        '{ cars(search: "² 1995") { pageInfo { hasNextPage } } }', token=tenant.staff_token
    )
