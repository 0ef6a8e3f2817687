"""Collections through the API: staff read an invoice's collection state and change the
settings (OWNER or ADMIN; bad input gives userErrors and changes nothing); staff pause and
resume a customer's collection; a portal viewer reads none of it, and nobody reaches
another organization's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.ids import decode_id, encode_id
from domain.collections.collect import collect
from models.db import Database
from models.enums import LateFeeKind
from models.tables import audit_events, collection_settings
from tests.helpers import GraphQLClient, Tenant, user_errors
from tests.portal import make_customer, sign_in_by_invite
from tests.smtp import SmtpServer
from tests.test_collections import _configure, _invoice

SETTINGS = """
mutation S($input: CollectionSettingsInput!) {
  updateCollectionSettings(input: $input) {
    collectionSettings { remindersEnabled reminderOffsets lateFeeKind lateFeeAmount
      lateFeePercent lateFeeAfterDays lateFeeEveryDays lateFeeCompounds lateFeeTarget }
    userErrors { field code }
  }
}
"""
READ_SETTINGS = "{ organization { collectionSettings { reminderOffsets lateFeeKind } } }"
COLLECTION = """
query C($id: ID!) { node(id: $id) { ... on Invoice { number collection {
  remindersSent { step stepDate recipients } nextStep nextStepDate paused
  lateFees { period amount { amount currency } base { amount } chargedOn feeInvoiceId } } } } }
"""
PAUSE = """
mutation P($input: CustomerCollectionInput!) {
  pauseCollection(input: $input) { customer { id collectionPausedAt } userErrors { field code } }
}
"""
RESUME = """
mutation R($input: CustomerCollectionInput!) {
  resumeCollection(input: $input) { customer { id collectionPausedAt } userErrors { field code } }
}
"""


async def _settings_row(db: Database, tenant: Tenant) -> Any:
    async with db.connect() as conn:
        return (
            (
                await conn.execute(
                    sa.select(collection_settings).where(
                        collection_settings.c.organization_id == tenant.organization_id
                    )
                )
            )
            .mappings()
            .first()
        )


async def test_owner_changes_the_settings_and_bad_input_changes_nothing(
    gql: GraphQLClient, db: Database, tenant: Tenant
):
    data = await gql.data(READ_SETTINGS, token=tenant.staff_token)
    assert data["organization"]["collectionSettings"] == {
        "reminderOffsets": [-3, 0, 7, 14],
        "lateFeeKind": "NONE",
    }
    good = {
        "reminderOffsets": [10, -5, 0],
        "lateFeeKind": "PERCENT",
        "lateFeePercent": "1.5",
        "lateFeeAfterDays": 15,
        "lateFeeEveryDays": 30,
        "lateFeeTarget": "NEXT_INVOICE",
    }
    data = await gql.data(SETTINGS, {"input": good}, token=tenant.owner_token)
    payload = data["updateCollectionSettings"]
    assert payload["userErrors"] == []
    assert payload["collectionSettings"]["reminderOffsets"] == [-5, 0, 10]
    assert payload["collectionSettings"]["lateFeePercent"] == "1.5"
    assert payload["collectionSettings"]["lateFeeEveryDays"] == 30
    before = dict(await _settings_row(db, tenant))
    bad = [
        ({"reminderOffsets": [1, 1]}, "reminderOffsets", "BAD_SCHEDULE"),
        ({"reminderOffsets": [-400]}, "reminderOffsets", "BAD_SCHEDULE"),
        ({"lateFeePercent": "100.01"}, "lateFeePercent", "INVALID"),
        ({"lateFeeAmount": -5}, "lateFeeAmount", "BAD_LATE_FEE"),
        ({"lateFeeAfterDays": 0}, "lateFeeAfterDays", "BAD_LATE_FEE"),
        ({"lateFeeEveryDays": 0}, "lateFeeEveryDays", "BAD_LATE_FEE"),
        ({"lateFeeKind": "FIXED", "lateFeeAmount": 0}, "lateFeeAmount", "BAD_LATE_FEE"),
    ]
    for given, field, code in bad:
        data = await gql.data(SETTINGS, {"input": given}, token=tenant.owner_token)
        payload = data["updateCollectionSettings"]
        assert payload["collectionSettings"] is None
        assert user_errors(payload) == [(["input", field], code)], given
        assert dict(await _settings_row(db, tenant)) == before, given
    # Plain staff may not change them; portal viewers and anonymous neither.
    result = await gql(SETTINGS, {"input": {"remindersEnabled": False}}, token=tenant.staff_token)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    result = await gql(SETTINGS, {"input": {"remindersEnabled": False}})
    assert result["errors"]
    assert dict(await _settings_row(db, tenant)) == before
    async with db.connect() as conn:
        audited = await conn.scalar(
            sa.select(sa.func.count()).where(
                audit_events.c.organization_id == tenant.organization_id,
                audit_events.c.action == "settings.collections_updated",
            )
        )
    assert audited == 1


async def test_staff_see_collection_state_and_a_portal_viewer_does_not(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    org = tenant.organization_id
    gid, address = await make_customer(gql, tenant, "Dana Late")
    customer = decode_id(gid)[1]
    await _configure(
        db, tenant, late_fee_kind=LateFeeKind.FIXED, late_fee_amount=1_500, late_fee_after_days=3
    )
    due = date(2027, 5, 10)
    invoice = await _invoice(db, org, customer, due)
    await collect(db, on=due + timedelta(days=3), organization_id=org)
    invoice_gid = encode_id("Invoice", invoice)
    data = await gql.data(COLLECTION, {"id": invoice_gid}, token=tenant.staff_token)
    state = data["node"]["collection"]
    assert state["remindersSent"] == [{"step": 0, "stepDate": "2027-05-10", "recipients": 1}]
    assert state["lateFees"][0]["amount"] == {"amount": 1_500, "currency": "USD"}
    assert state["lateFees"][0]["base"] == {"amount": 10_000}
    assert state["lateFees"][0]["feeInvoiceId"]
    assert state["paused"] is False
    # Next: +7 of the schedule (the request's today is the real one, before that due date).
    assert datetime.now(UTC).date() < due
    assert state["nextStep"] == 7 and state["nextStepDate"] == "2027-05-17"

    # Paused: no next step; the customer says when (staff only).
    data = await gql.data(
        PAUSE, {"input": {"customerId": gid, "reason": "plan agreed"}}, token=tenant.staff_token
    )
    assert data["pauseCollection"]["userErrors"] == []
    assert data["pauseCollection"]["customer"]["collectionPausedAt"]
    again = await gql.data(PAUSE, {"input": {"customerId": gid}}, token=tenant.staff_token)
    assert user_errors(again["pauseCollection"]) == [(["input", "customerId"], "ALREADY_PAUSED")]
    data = await gql.data(COLLECTION, {"id": invoice_gid}, token=tenant.staff_token)
    assert data["node"]["collection"]["paused"] is True
    assert data["node"]["collection"]["nextStep"] is None

    # Another organization's staff: the customer and invoice are not theirs.
    other = await gql.data(PAUSE, {"input": {"customerId": gid}}, token=other_tenant.staff_token)
    assert user_errors(other["pauseCollection"]) == [(["input", "customerId"], "NOT_FOUND")]
    other = await gql.data(RESUME, {"input": {"customerId": gid}}, token=other_tenant.owner_token)
    assert user_errors(other["resumeCollection"]) == [(["input", "customerId"], "NOT_FOUND")]
    seen = await gql(COLLECTION, {"id": invoice_gid}, token=other_tenant.staff_token)
    assert (
        not (seen["data"] or {}).get("node")
        and seen["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    )

    # The customer in the portal sees the invoice, never its collection state.
    token = await sign_in_by_invite(gql, db, smtp, tenant, address, customerId=gid)
    result = await gql(COLLECTION, {"id": invoice_gid}, token=token)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert result["errors"][0]["path"][-1] == "collection"
    fine = await gql.data(
        "query C($id: ID!) { node(id: $id) { ... on Invoice { number } } }",
        {"id": invoice_gid},
        token=token,
    )
    assert fine["node"]["number"]
    result = await gql("{ viewer { customer { collectionPausedAt } } }", token=token)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    result = await gql(PAUSE, {"input": {"customerId": gid}}, token=token)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Resumed, audited both ways.
    data = await gql.data(RESUME, {"input": {"customerId": gid}}, token=tenant.staff_token)
    assert data["resumeCollection"]["customer"]["collectionPausedAt"] is None


STATEMENTS = """
mutation S($input: CollectionSettingsInput!) {
  updateCollectionSettings(input: $input) {
    collectionSettings { monthlyStatements statementDay }
    userErrors { field code }
  }
}
"""


async def test_monthly_statements_are_turned_on_by_an_owner_only(
    gql: GraphQLClient, db: Database, tenant: Tenant, other_tenant: Tenant, smtp: SmtpServer
):
    read = "{ organization { collectionSettings { monthlyStatements statementDay } } }"
    data = await gql.data(read, token=tenant.staff_token)
    assert data["organization"]["collectionSettings"] == {
        "monthlyStatements": False,
        "statementDay": 1,
    }
    on = {"monthlyStatements": True, "statementDay": 5}
    data = await gql.data(STATEMENTS, {"input": on}, token=tenant.owner_token)
    assert data["updateCollectionSettings"] == {
        "collectionSettings": {"monthlyStatements": True, "statementDay": 5},
        "userErrors": [],
    }
    before = dict(await _settings_row(db, tenant))
    for day in (0, 29):
        given = {"monthlyStatements": False, "statementDay": day}
        data = await gql.data(STATEMENTS, {"input": given}, token=tenant.owner_token)
        payload = data["updateCollectionSettings"]
        assert payload["collectionSettings"] is None
        assert user_errors(payload) == [(["input", "statementDay"], "BAD_STATEMENT_DAY")]
        assert dict(await _settings_row(db, tenant)) == before
    # Plain staff, a portal viewer and anonymous may not; the other organization's owner
    # changes their own settings only.
    off = {"input": {"monthlyStatements": False}}
    result = await gql(STATEMENTS, off, token=tenant.staff_token)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    gid, address = await make_customer(gql, tenant, "Pat Portal")
    portal = await sign_in_by_invite(gql, db, smtp, tenant, address, customerId=gid)
    result = await gql(STATEMENTS, off, token=portal)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql(STATEMENTS, off))["errors"]
    await gql.data(STATEMENTS, off, token=other_tenant.owner_token)
    assert dict(await _settings_row(db, tenant)) == before
