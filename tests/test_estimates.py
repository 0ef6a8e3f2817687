"""Estimates: versions frozen when sent, decisions final per version, expiry, invoicing."""

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from core.ids import decode_id
from models import AuditEvent, Estimate, EstimateDecision, Notification, OutboxEmail
from tests.billing import (
    APPROVE,
    DECLINE,
    INVOICE_ESTIMATE,
    SEND_ESTIMATE,
    UPDATE_ESTIMATE,
    sent_estimate,
)
from tests.helpers import not_found_at, user_errors
from tests.portal import make_customer, sign_in_by_invite

VIEWER_ESTIMATES = """
{ viewer { customer { estimates(first: 10) { nodes { id status version } }
                      pendingEstimates(first: 10) { nodes { id } } } } }
"""


async def _portal(gql, db, smtp, tenant):
    customer_id, email = await make_customer(gql, tenant)
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    return customer_id, token


async def _approve(gql, token, estimate, **extra):
    variables = {"input": {"estimateId": estimate["id"], "version": estimate["version"], **extra}}
    return (await gql.data(APPROVE, variables, token=token))["approveEstimate"]


async def test_approval_line_by_line_is_recorded_with_who_where_and_what(gql, db, smtp, tenant):
    customer_id, token = await _portal(gql, db, smtp, tenant)
    estimate = await sent_estimate(gql, tenant, customer_id)
    assert estimate["status"] == "SENT" and estimate["number"] == 1
    assert estimate["total"]["amount"] == 72000
    seen = await gql.data(VIEWER_ESTIMATES, token=token)
    assert seen["viewer"]["customer"]["pendingEstimates"]["nodes"] == [{"id": estimate["id"]}]
    refused = await _approve(gql, token, estimate, declinedLines=[0])
    assert user_errors(refused) == [(["input", "declinedLines"], "INVALID")]
    approved = await _approve(gql, token, estimate, declinedLines=[2])
    assert approved["userErrors"] == [] and approved["depositPayment"] is None
    decided = approved["estimate"]
    assert decided["status"] == "APPROVED"
    assert decided["decision"]["approvedLines"] == [0, 1]
    assert decided["decision"]["declinedLines"] == [2]
    assert decided["decision"]["approvedTotal"]["amount"] == 42000
    again = await _approve(gql, token, estimate)
    assert user_errors(again) == [(["input", "estimateId"], "ALREADY_DECIDED")]
    _, row_id = decode_id(estimate["id"])
    async with db.connect() as conn:
        decision = (
            await conn.execute(
                sa.select(EstimateDecision).where(EstimateDecision.estimate_id == row_id)
            )
        ).one()
        notes = (
            await conn.execute(
                sa.select(Notification.kind, Notification.title).where(
                    Notification.subject_id == row_id, Notification.recipient_staff_id.is_not(None)
                )
            )
        ).all()
        staff_mail = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEmail)
            .where(
                OutboxEmail.organization_id == tenant.organization_id,
                OutboxEmail.subject.like("%approved estimate%"),
            )
        )
        audit = (
            await conn.execute(
                sa.select(AuditEvent.ip, AuditEvent.actor_kind).where(
                    AuditEvent.action == "estimate.approved", AuditEvent.subject_id == row_id
                )
            )
        ).one()
    assert decision.version == 1 and decision.ip and decision.snapshot["total"] == 72000
    assert len(decision.snapshot["lines"]) == 3
    assert {kind for kind, _ in notes} == {"ESTIMATE_APPROVED"} and len(notes) == 2
    assert staff_mail == 2  # owner and staff member both want notification emails
    assert audit.ip and audit.actor_kind == "CUSTOMER"


async def test_a_revised_estimate_cannot_be_approved_at_its_old_version(gql, db, smtp, tenant):
    customer_id, token = await _portal(gql, db, smtp, tenant)
    estimate = await sent_estimate(gql, tenant, customer_id)
    revised = await gql.data(
        UPDATE_ESTIMATE,
        {"input": {"id": estimate["id"], "notes": "Rotors back-ordered"}},
        token=tenant.staff_token,
    )
    draft = revised["updateEstimate"]["estimate"]
    assert draft["version"] == 2 and draft["status"] == "DRAFT"
    hidden = await gql(
        APPROVE, {"input": {"estimateId": estimate["id"], "version": 1}}, token=token
    )
    not_found_at(hidden, "estimateId")  # drafts are not shown

    await gql.data(SEND_ESTIMATE, {"id": estimate["id"]}, token=tenant.staff_token)
    stale = await _approve(gql, token, estimate)  # still names version 1
    assert user_errors(stale) == [(["input", "version"], "VERSION_CHANGED")]
    fresh = await _approve(gql, token, {**estimate, "version": 2})
    assert fresh["estimate"]["status"] == "APPROVED"
    assert fresh["estimate"]["decision"]["version"] == 2


async def test_two_decisions_at_once_give_exactly_one(gql, db, smtp, tenant):
    customer_id, token = await _portal(gql, db, smtp, tenant)
    estimate = await sent_estimate(gql, tenant, customer_id)
    variables = {"estimateId": estimate["id"], "version": 1}
    results = await asyncio.gather(
        *(gql.data(APPROVE, {"input": variables}, token=token) for _ in range(3)),
        *(
            gql.data(DECLINE, {"input": {**variables, "reason": "Too dear"}}, token=token)
            for _ in range(3)
        ),
    )
    payloads = [r.get("approveEstimate") or r.get("declineEstimate") for r in results]
    winners = [p for p in payloads if not p["userErrors"]]
    assert len(winners) == 1
    assert all(
        user_errors(p) == [(["input", "estimateId"], "ALREADY_DECIDED")]
        for p in payloads
        if p["userErrors"]
    )
    _, row_id = decode_id(estimate["id"])
    async with db.connect() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(EstimateDecision)
            .where(EstimateDecision.estimate_id == row_id)
        )
    assert count == 1


async def test_expiry_is_the_end_of_the_valid_until_day(gql, db, smtp, tenant):
    customer_id, token = await _portal(gql, db, smtp, tenant)
    today = datetime.now(UTC).date()  # the tenant's zone is UTC
    estimate = await sent_estimate(gql, tenant, customer_id, validUntil=today.isoformat())
    expected = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert datetime.fromisoformat(estimate["expiresAt"]) == expected
    _, row_id = decode_id(estimate["id"])
    async with db.write() as session:
        await session.execute(
            sa.update(Estimate)
            .where(Estimate.id == row_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    late = await _approve(gql, token, estimate)
    assert user_errors(late) == [(["input", "estimateId"], "EXPIRED")]
    seen = await gql.data(VIEWER_ESTIMATES, token=token)
    assert seen["viewer"]["customer"]["estimates"]["nodes"][0]["status"] == "EXPIRED"
    assert seen["viewer"]["customer"]["pendingEstimates"]["nodes"] == []


async def test_decline_needs_a_reason_and_can_ask_for_changes(gql, db, smtp, tenant):
    customer_id, token = await _portal(gql, db, smtp, tenant)
    estimate = await sent_estimate(gql, tenant, customer_id)
    base = {"estimateId": estimate["id"], "version": 1}
    empty = await gql.data(DECLINE, {"input": {**base, "reason": " "}}, token=token)
    assert user_errors(empty["declineEstimate"]) == [(["input", "reason"], "REQUIRED")]
    asked = await gql.data(
        DECLINE,
        {"input": {**base, "reason": "Skip the coating", "requestChanges": True}},
        token=token,
    )
    decided = asked["declineEstimate"]["estimate"]
    assert decided["status"] == "DECLINED"
    assert decided["decision"]["decision"] == "CHANGES_REQUESTED"
    assert decided["decision"]["reason"] == "Skip the coating"


async def test_other_customers_estimates_are_not_found(gql, db, smtp, tenant):
    customer_id, _ = await _portal(gql, db, smtp, tenant)
    _, stranger = await _portal(gql, db, smtp, tenant)
    estimate = await sent_estimate(gql, tenant, customer_id)
    theirs = await gql(
        APPROVE, {"input": {"estimateId": estimate["id"], "version": 1}}, token=stranger
    )
    made_up = await gql(
        APPROVE,
        {"input": {"estimateId": estimate["id"][:-4] + "AAAA", "version": 1}},
        token=stranger,
    )
    assert theirs == made_up
    not_found_at(theirs, "estimateId")
    staff = await gql(
        APPROVE, {"input": {"estimateId": estimate["id"], "version": 1}}, token=tenant.staff_token
    )
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # a portal mutation


async def test_an_approved_estimate_becomes_an_invoice_of_its_approved_lines(gql, db, smtp, tenant):
    customer_id, token = await _portal(gql, db, smtp, tenant)
    estimate = await sent_estimate(gql, tenant, customer_id)
    early = await gql.data(INVOICE_ESTIMATE, {"id": estimate["id"]}, token=tenant.staff_token)
    assert user_errors(early["invoiceEstimate"]) == [(["input", "id"], "NOT_EDITABLE")]
    await _approve(gql, token, estimate, declinedLines=[2])
    made = await gql.data(INVOICE_ESTIMATE, {"id": estimate["id"]}, token=tenant.staff_token)
    invoice = made["invoiceEstimate"]["invoice"]
    assert invoice["status"] == "DRAFT"
    assert [line["description"] for line in invoice["lineItems"]] == [
        "Brake job",
        "Pads and rotors",
    ]
    assert invoice["total"]["amount"] == 42000
    twice = await gql.data(INVOICE_ESTIMATE, {"id": estimate["id"]}, token=tenant.staff_token)
    assert user_errors(twice["invoiceEstimate"]) == [(["input", "id"], "NOT_EDITABLE")]
