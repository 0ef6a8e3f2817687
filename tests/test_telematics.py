"""Telematics: an organization's integration posts readings with a narrow key; the portal
shows the latest only where the organization allows it."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from models import TelematicsReading
from tests.helpers import error_codes
from tests.portal import make_car, make_customer, sign_in_by_invite

CREATE_KEY = """
mutation K($name: String!) {
  createIntegrationKey(input: {name: $name}) {
    integrationKey { id prefix scope } secret userErrors { field code }
  }
}
"""
REVOKE_KEY = """
mutation R($id: ID!) { revokeIntegrationKey(input: {id: $id}) { integrationKey { revokedAt } } }
"""
URL = "/integrations/telematics/readings"


def _reading(car: str, **extra):
    return {"carId": car, "recordedAt": datetime.now(UTC).isoformat(), **extra}


async def _count(db, organization_id) -> int:
    async with db.connect() as conn:
        return await conn.scalar(
            sa.select(sa.func.count())
            .select_from(TelematicsReading)
            .where(TelematicsReading.organization_id == organization_id)
        )


async def test_an_integration_posts_readings_with_its_key(
    gql, http, db, smtp, tenant, other_tenant
):
    refused = await gql(CREATE_KEY, {"name": "Tracker"}, token=tenant.staff_token)
    assert error_codes(refused) == ["OWNER_REQUIRED"]
    made = (await gql.data(CREATE_KEY, {"name": "Tracker"}, token=tenant.owner_token))[
        "createIntegrationKey"
    ]
    secret = made["secret"]
    assert secret.startswith("ptk_" + made["integrationKey"]["prefix"])
    auth = {"Authorization": f"Bearer {secret}"}
    customer_id, email = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "Cayenne")
    foreign_customer, _ = await make_customer(gql, other_tenant)
    foreign_car = await make_car(gql, other_tenant, foreign_customer, "Macan")

    nobody = await http.post(URL, json={"readings": [_reading(car_id)]})
    assert nobody.status_code == 401
    wrong = await http.post(
        URL,
        json={"readings": [_reading(car_id)]},
        headers={"Authorization": "Bearer ptk_nope_nope"},
    )
    assert wrong.status_code == 401
    bad = await http.post(
        URL,
        headers=auth,
        json={
            "readings": [
                _reading(car_id, odometer=42000),
                _reading(car_id, latitude=123.0, recordedAt="yesterday"),
            ]
        },
    )
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["error"]["problems"]}
    assert fields == {"readings.1.latitude", "readings.1.recordedAt"}
    theirs = await http.post(URL, headers=auth, json={"readings": [_reading(foreign_car)]})
    assert theirs.status_code == 422  # another organization's car is not this key's
    assert await _count(db, tenant.organization_id) == 0  # all or nothing

    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    stored = await http.post(
        URL,
        headers=auth,
        json={
            "readings": [
                _reading(car_id, recordedAt=earlier, odometer=41000),
                _reading(
                    car_id,
                    odometer=42000,
                    engineHours=812.3,
                    latitude=41.9,
                    longitude=-87.6,
                    faultCodes=["p0301"],
                ),
            ]
        },
    )
    assert stored.status_code == 201 and stored.json() == {"stored": 2}
    query = """query C($id: ID!) { node(id: $id) { ... on Car { mileage
      telematicsReadings(first: 1) { nodes { odometer engineHours faultCodes latitude } } } } }"""
    car = (await gql.data(query, {"id": car_id}, token=tenant.staff_token))["node"]
    assert car["mileage"] == 42000
    assert car["telematicsReadings"]["nodes"] == [
        {"odometer": 42000, "engineHours": "812.3", "faultCodes": ["P0301"], "latitude": 41.9}
    ]

    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    hidden = await gql(query, {"id": car_id}, token=token)
    assert error_codes(hidden) == ["SECTION_DISABLED"]
    await gql.data(
        "mutation { updatePortalSettings(input: {showTelematics: true}) { userErrors { code } } }",
        token=tenant.owner_token,
    )
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    shown = await gql.data(query, {"id": car_id}, token=token)
    assert shown["node"]["telematicsReadings"]["nodes"][0]["odometer"] == 42000

    await gql.data(REVOKE_KEY, {"id": made["integrationKey"]["id"]}, token=tenant.owner_token)
    revoked = await http.post(URL, headers=auth, json={"readings": [_reading(car_id)]})
    assert revoked.status_code == 401
