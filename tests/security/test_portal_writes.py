"""Portal writes go through one gate (auth/access.py `require_write`): a section the business
has switched off, or a contact scope that does not cover it, refuses every write into it with
SECTION_DISABLED, the code a read of the section answers (tests/test_portal_options.py), and
nothing is stored: a write never reaches what a read cannot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from models.db import Database
from models.enums import ContractStatus
from models.tables import appointments, condition_reports, contracts, messages
from tests.helpers import GraphQLClient, Tenant, error_codes
from tests.portal import make_car, make_customer, sign_in_by_invite
from tests.smtp import SmtpServer

SETTINGS = """
mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { portalSettings { enabled } }
}
"""
REQUEST = """
mutation R($input: RequestAppointmentInput!) {
  requestAppointment(input: $input) { appointment { id } userErrors { field code } }
}
"""
SEND = """
mutation S($input: SendMyMessageInput!) {
  sendMyMessage(input: $input) { message { id } userErrors { field code } }
}
"""
INSPECT = """
mutation I($input: SubmitInspectionInput!) {
  submitInspection(input: $input) { conditionReport { id } userErrors { field code } }
}
"""


def _soon(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(days=3, hours=hours)).isoformat()


async def _rows(db: Database, table: sa.Table) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


CASES = [
    # (switch, mutation, table, input builder)
    (
        "showAppointments",
        REQUEST,
        appointments,
        lambda customer, car: {"startsAt": _soon(0), "endsAt": _soon(1), "carId": car},
    ),
    ("showMessages", SEND, messages, lambda customer, car: {"body": "Hello"}),
    (
        "showCars",
        INSPECT,
        condition_reports,
        lambda customer, car: {"carId": car, "kind": "PRE_TRIP", "items": []},
    ),
]


@pytest.mark.parametrize(("switch", "mutation", "table", "build"), CASES)
async def test_a_switched_off_section_refuses_portal_writes_into_it(
    gql: GraphQLClient,
    db: Database,
    tenant: Tenant,
    smtp: SmtpServer,
    switch: str,
    mutation: str,
    table: sa.Table,
    build: Any,
):
    await gql.data(
        SETTINGS, {"input": {"allowAppointmentRequests": True}}, token=tenant.owner_token
    )
    customer_id, email = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "Carrera")
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await gql.data(SETTINGS, {"input": {switch: False}}, token=tenant.owner_token)
    before = await _rows(db, table)
    refused = await gql(mutation, {"input": build(customer_id, car_id)}, token=session)
    assert error_codes(refused) == ["SECTION_DISABLED"]
    assert await _rows(db, table) == before
    # Switched on again, the same write goes through: the gate, not the input, refused.
    await gql.data(SETTINGS, {"input": {switch: True}}, token=tenant.owner_token)
    done = await gql(mutation, {"input": build(customer_id, car_id)}, token=session)
    assert "errors" not in done, done
    assert await _rows(db, table) == before + 1


CREATE_CONTRACT = """
mutation C($input: CreateContractInput!) {
  createContract(input: $input) { contract { id } userErrors { field code } }
}
"""
SEND_CONTRACT = """
mutation S($id: ID!) { sendContract(input: {id: $id}) { contract { id } userErrors { code } } }
"""
SIGN_CONTRACT = """
mutation G($input: SignContractInput!) {
  signContract(input: $input) { contract { status } userErrors { field code } }
}
"""


async def test_signing_a_contract_passes_the_gate_of_the_documents_section(
    gql: GraphQLClient, db: Database, tenant: Tenant, smtp: SmtpServer
):
    """Contracts are in the documents section: switched off, a signature is refused as every
    other portal write is (it answered NOT_FOUND on contractId, as for a missing contract)."""
    customer_id, email = await make_customer(gql, tenant)
    session = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    made = await gql.data(
        CREATE_CONTRACT,
        {"input": {"customerId": customer_id, "title": "Waiver", "terms": "Terms."}},
        token=tenant.staff_token,
    )
    contract_id = made["createContract"]["contract"]["id"]
    await gql.data(SEND_CONTRACT, {"id": contract_id}, token=tenant.staff_token)
    signing = {"input": {"contractId": contract_id, "signerName": "Alex", "consent": True}}
    await gql.data(SETTINGS, {"input": {"showDocuments": False}}, token=tenant.owner_token)
    refused = await gql(SIGN_CONTRACT, signing, token=session)
    assert error_codes(refused) == ["SECTION_DISABLED"]
    async with db.connect() as conn:
        status = await conn.scalar(sa.select(contracts.c.status))
    assert status == ContractStatus.SENT
    await gql.data(SETTINGS, {"input": {"showDocuments": True}}, token=tenant.owner_token)
    done = await gql.data(SIGN_CONTRACT, signing, token=session)
    assert done["signContract"] == {"contract": {"status": "SIGNED"}, "userErrors": []}
