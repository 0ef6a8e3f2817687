"""Refunds of card payments: asked of Stripe with no write lock held, recorded once whatever
Stripe reports meanwhile, never more than was paid."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from auth.viewer import Viewer, ViewerKind
from core.ids import decode_id_of, encode_id
from domain.payments import refunds
from domain.payments.reconcile import reconcile
from models import Payment, Refund, StaffUser
from models.db import Pinned, pinned
from models.enums import RefundStatus, StaffRole
from schema.context import make_context
from tests.billing import REFUND_PAYMENT, open_invoice
from tests.helpers import user_errors
from tests.payments import Paying, write_lock_is_free
from tests.stripe_stub import RecordedRequest


async def _card_payments(paying: Paying, invoice_ids: list[str]) -> list[Payment]:
    """The invoices paid in one card payment; its payments oldest first."""
    asked = await paying.pay(invoice_ids)
    assert asked["userErrors"] == []
    assert (await paying.succeed(paying.last_intent()["id"])).status_code == 200
    async with paying.db.connect() as conn:
        found = await conn.execute(
            sa.select(Payment)
            .where(Payment.organization_id == paying.tenant.organization_id)
            .order_by(Payment.created_at, Payment.id)
        )
        return [Payment(**row._mapping) for row in found]


async def _refund(paying: Paying, payment_id: Any, amount: int | None = None) -> dict[str, Any]:
    variables = {"input": {"paymentId": encode_id("Payment", payment_id), "amount": amount}}
    data = await paying.gql.data(REFUND_PAYMENT, variables, token=paying.tenant.staff_token)
    return data["refundPayment"]


async def _refunded(paying: Paying) -> dict[Any, int]:
    """Each payment's refunded amount as recorded, checked against its refunds made."""
    async with paying.db.connect() as conn:
        payments = dict(
            (
                await conn.execute(
                    sa.select(Payment.id, Payment.refunded_amount).where(
                        Payment.organization_id == paying.tenant.organization_id
                    )
                )
            ).all()
        )
        rows = (
            await conn.execute(
                sa.select(Refund.payment_id, sa.func.sum(Refund.amount))
                .where(
                    Refund.organization_id == paying.tenant.organization_id,
                    Refund.status == RefundStatus.SUCCEEDED,
                )
                .group_by(Refund.payment_id)
            )
        ).all()
    assert {k: v for k, v in payments.items() if v} == dict(rows)
    return payments


async def test_a_staff_refund_of_one_invoice_of_a_shared_payment_is_counted_once(
    paying: Paying,
):
    """Two invoices paid in one PaymentIntent are two payments; Stripe's `charge.refunded`
    speaks of the PaymentIntent. A refund staff made of the second payment is not counted
    again on the first when Stripe reports it."""
    first = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    second = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    older, newer = await _card_payments(paying, [first["id"], second["id"]])
    refunded = await _refund(paying, newer.id)
    assert refunded["userErrors"] == []
    intent_id = newer.provider_payment_intent_id
    assert intent_id is not None
    report = paying.stub.event("charge.refunded", paying.stub.charge(intent_id), paying.account)
    assert (await paying.deliver(report)).status_code == 200
    assert await _refunded(paying) == {older.id: 0, newer.id: newer.amount}
    states = {
        (await paying.invoice(first["id"]))["status"],
        (await paying.invoice(second["id"]))["status"],
    }
    assert states == {"PAID", "OPEN"}


async def _paid_by_card(paying: Paying) -> tuple[dict[str, Any], Payment]:
    """An invoice of 250.00 paid by card: the invoice and its payment."""
    invoice = await open_invoice(paying.gql, paying.tenant, paying.customer_id)
    [payment] = await _card_payments(paying, [invoice["id"]])
    return invoice, payment


async def _refund_rows(paying: Paying) -> list[tuple[int, str, str | None]]:
    """Every refund recorded: amount, status and reason, oldest first."""
    async with paying.db.connect() as conn:
        found = await conn.execute(
            sa.select(Refund.amount, Refund.status, Refund.reason)
            .where(Refund.organization_id == paying.tenant.organization_id)
            .order_by(Refund.created_at, Refund.id)
        )
        return [(amount, str(status), reason) for amount, status, reason in found]


def _refunds_at_stripe(paying: Paying) -> list[int]:
    return [refund["amount"] for refund in paying.stub.objects("refund")]


async def _make_pending_old(paying: Paying) -> None:
    """As if the refunds left pending had been asked long ago (beyond reconciliation's grace)."""
    async with paying.db.write() as session:
        await session.execute(
            sa.update(Refund)
            .where(
                Refund.organization_id == paying.tenant.organization_id,
                Refund.status == RefundStatus.PENDING,
            )
            .values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )


async def test_a_card_refund_is_asked_of_stripe_with_no_write_lock_held(paying: Paying):
    invoice, payment = await _paid_by_card(paying)
    invoice_id = decode_id_of("Invoice", invoice["id"])
    loop = asyncio.get_running_loop()
    seen: list[tuple[bool, bool, list[tuple[int, str, str | None]]]] = []

    async def probe(call: RecordedRequest) -> None:
        if call.method == "POST" and call.path == "/v1/refunds":
            recorded = asyncio.run_coroutine_threadsafe(_refund_rows(paying), loop)
            seen.append(
                (
                    await write_lock_is_free(paying.db, "payments", payment.id),
                    await write_lock_is_free(paying.db, "invoices", invoice_id),
                    await asyncio.wrap_future(recorded),
                )
            )

    paying.stub.during_call = probe
    refunded = await _refund(paying, payment.id, 10000)
    assert refunded["userErrors"] == []
    assert refunded["payment"]["refundedAmount"]["amount"] == 10000
    assert refunded["payment"]["invoice"]["amountPaid"]["amount"] == 15000
    # While Stripe was asked: nothing locked, the refund recorded as pending.
    assert seen == [(True, True, [(10000, "PENDING", None)])]
    assert await _refund_rows(paying) == [(10000, "SUCCEEDED", None)]
    [request] = [r for r in paying.stub.requests if r.path == "/v1/refunds"]
    [refund_id] = await _refund_ids(paying)
    assert request.idempotency_key == f"portico-refund-{refund_id}"
    assert request.form["metadata"] == {"portico_refund": str(refund_id)}
    # The probe can tell: inside a write transaction it finds the lock taken.
    async with paying.db.write() as session:
        await session.execute(
            sa.update(Payment).where(Payment.id == payment.id).values(updated_at=Payment.updated_at)
        )
        taken = await asyncio.to_thread(
            asyncio.run, write_lock_is_free(paying.db, "payments", payment.id)
        )
    assert taken is False


async def _refund_ids(paying: Paying) -> list[Any]:
    async with paying.db.connect() as conn:
        found = await conn.execute(
            sa.select(Refund.id)
            .where(Refund.organization_id == paying.tenant.organization_id)
            .order_by(Refund.created_at, Refund.id)
        )
        return list(found.scalars())


async def test_stripe_reporting_the_refund_while_it_is_asked_counts_it_once(paying: Paying):
    """`charge.refunded` delivered while Stripe is still answering the refund (its total
    already includes it): the pending refund holds the amount, so the report adds nothing,
    and recording the answer counts the refund once."""
    invoice, payment = await _paid_by_card(paying)
    intent_id = payment.provider_payment_intent_id
    assert intent_id is not None
    loop = asyncio.get_running_loop()
    answers: list[int] = []

    async def report(call: RecordedRequest) -> None:
        if call.method == "POST" and call.path == "/v1/refunds":
            charge = paying.stub.charge(intent_id)
            assert charge["amount_refunded"] == 10000  # Stripe made it already
            body = paying.stub.event("charge.refunded", charge, paying.account)
            delivered = asyncio.run_coroutine_threadsafe(paying.deliver(body), loop)
            answers.append((await asyncio.wrap_future(delivered)).status_code)

    paying.stub.during_call = report
    refunded = await _refund(paying, payment.id, 10000)
    paying.stub.during_call = None
    assert answers == [200]
    assert refunded["userErrors"] == []
    assert refunded["payment"]["refundedAmount"]["amount"] == 10000
    assert await _refund_rows(paying) == [(10000, "SUCCEEDED", None)]
    # The same report again, and a later one with a refund made in Stripe's dashboard.
    again = paying.stub.event("charge.refunded", paying.stub.charge(intent_id), paying.account)
    assert (await paying.deliver(again)).status_code == 200
    paying.stub.refund_at_stripe(intent_id, 2500)
    later = paying.stub.event("charge.refunded", paying.stub.charge(intent_id), paying.account)
    assert (await paying.deliver(later)).status_code == 200
    assert await _refunded(paying) == {payment.id: 12500}
    assert (await paying.invoice(invoice["id"]))["amountPaid"]["amount"] == 12500
    assert sum(_refunds_at_stripe(paying)) == 12500


async def test_two_staff_refunding_at_once_never_give_back_more_than_was_paid(paying: Paying):
    _, payment = await _paid_by_card(paying)

    async def slow(call: RecordedRequest) -> None:
        if call.path == "/v1/refunds":
            await asyncio.sleep(0.3)  # the other refund is asked meanwhile

    paying.stub.during_call = slow
    results = await asyncio.gather(
        _refund(paying, payment.id, 15000), _refund(paying, payment.id, 20000)
    )
    done = [r for r in results if not r["userErrors"]]
    refused = [r for r in results if r["userErrors"]]
    assert len(done) == 1 and len(refused) == 1
    assert user_errors(refused[0]) == [(["input", "amount"], "EXCEEDS_PAYMENT")]
    made = done[0]["payment"]["refundedAmount"]["amount"]
    assert _refunds_at_stripe(paying) == [made]
    assert await _refunded(paying) == {payment.id: made}
    # Both asking for all that is left at once: the same refund, made once.
    rest = 25000 - made
    results = await asyncio.gather(_refund(paying, payment.id), _refund(paying, payment.id))
    assert [r["userErrors"] for r in results] == [[], []]
    assert _refunds_at_stripe(paying) == [made, rest]
    assert await _refunded(paying) == {payment.id: 25000}
    assert [status for _, status, _ in await _refund_rows(paying)] == ["SUCCEEDED"] * 2


async def test_a_lost_answer_holds_the_amount_and_a_retry_makes_no_second_refund(
    paying: Paying,
):
    invoice, payment = await _paid_by_card(paying)
    intent_id = payment.provider_payment_intent_id
    assert intent_id is not None
    paying.stub.delay_seconds = 1.5  # Stripe makes the refund but answers after our timeout
    late = await _refund(paying, payment.id, 10000)
    paying.stub.delay_seconds = 0
    assert user_errors(late) == [(["input", "paymentId"], "PAYMENT_PROVIDER_UNAVAILABLE")]
    await asyncio.sleep(1)  # let the late request finish at the stub
    assert _refunds_at_stripe(paying) == [10000]
    assert await _refund_rows(paying) == [(10000, "PENDING", None)]
    # Not counted yet, but held: Stripe's report adds nothing, and no more can be refunded
    # than what is left beside it.
    report = paying.stub.event("charge.refunded", paying.stub.charge(intent_id), paying.account)
    assert (await paying.deliver(report)).status_code == 200
    assert await _refunded(paying) == {payment.id: 0}
    assert (await paying.invoice(invoice["id"]))["status"] == "PAID"
    over = await _refund(paying, payment.id, 15001)
    assert user_errors(over) == [(["input", "amount"], "EXCEEDS_PAYMENT")]
    # The retry asks Stripe under the same key and records the refund Stripe made.
    retried = await _refund(paying, payment.id, 10000)
    assert retried["userErrors"] == []
    keys = {r.idempotency_key for r in paying.stub.requests if r.path == "/v1/refunds"}
    assert len(keys) == 1
    assert _refunds_at_stripe(paying) == [10000]
    assert await _refund_rows(paying) == [(10000, "SUCCEEDED", None)]
    assert await _refunded(paying) == {payment.id: 10000}
    assert (await paying.invoice(invoice["id"]))["amountPaid"]["amount"] == 15000


async def test_reconciliation_finishes_refunds_whose_answer_was_lost(paying: Paying):
    invoice, payment = await _paid_by_card(paying)
    paying.stub.fail_next(503)  # never reaches Stripe
    down = await _refund(paying, payment.id, 5000)
    paying.stub.delay_seconds = 1.5  # made at Stripe, answered too late
    late = await _refund(paying, payment.id, 7000)
    paying.stub.delay_seconds = 0
    await asyncio.sleep(1)
    for result in (down, late):
        assert user_errors(result) == [(["input", "paymentId"], "PAYMENT_PROVIDER_UNAVAILABLE")]
    assert _refunds_at_stripe(paying) == [7000]
    young = await reconcile(paying.db)  # asked moments ago: left to their own requests
    assert young.refunds_finished == 0
    assert [s for _, s, _ in await _refund_rows(paying)] == ["PENDING", "PENDING"]
    await _make_pending_old(paying)
    first = await reconcile(paying.db)
    assert (first.refunds_finished, first.refunds_applied) == (2, 0)
    assert sorted(await _refund_rows(paying)) == [(5000, "FAILED", None), (7000, "SUCCEEDED", None)]
    assert await _refunded(paying) == {payment.id: 7000}
    assert (await paying.invoice(invoice["id"]))["amountPaid"]["amount"] == 18000
    again = await reconcile(paying.db)
    assert (again.refunds_finished, again.refunds_applied) == (0, 0)
    # The failed one's amount is free again.
    rest = await _refund(paying, payment.id)
    assert rest["payment"]["refundedAmount"]["amount"] == 25000
    assert _refunds_at_stripe(paying) == [7000, 18000]


async def test_a_refund_stripe_refuses_frees_its_amount(paying: Paying):
    """Refused because the business refunded at Stripe meanwhile (no webhook yet): nothing
    is counted of the refused one, and what Stripe did refund is read from it at once."""
    _, payment = await _paid_by_card(paying)
    intent_id = payment.provider_payment_intent_id
    assert intent_id is not None
    paying.stub.refund_at_stripe(intent_id, 20000)
    refused = await _refund(paying, payment.id, 10000)
    assert user_errors(refused) == [(["input", "paymentId"], "PAYMENT_PROVIDER_ERROR")]
    assert await _refund_rows(paying) == [
        (10000, "FAILED", None),
        (20000, "SUCCEEDED", "Refunded at Stripe"),
    ]
    assert await _refunded(paying) == {payment.id: 20000}
    rest = await _refund(paying, payment.id)
    assert rest["userErrors"] == [] and _refunds_at_stripe(paying) == [20000, 5000]


async def test_a_refund_rolled_back_after_stripe_made_it_is_not_made_twice(paying: Paying):
    """A mutation sent with an Idempotency-Key runs in one pinned transaction: a crash
    before its COMMIT rolls back the pending refund and its result, though Stripe made the
    refund. The retry derives the same refund, so the same key: Stripe's refund is found,
    not made again."""
    _, payment = await _paid_by_card(paying)
    staff = await _staff_viewer(paying)
    conn = await paying.db.write_connection()
    try:
        await conn.begin()
        token = pinned.set(Pinned(conn))
        try:
            context = make_context(paying.db, staff)
            await refunds.refund_payment(context, payment.id, 10000, reason="Scratch")
            await context.reader.close()
        finally:
            pinned.reset(token)
        await conn.rollback()  # the crash: nothing of it is kept
    finally:
        await conn.close()
    assert _refunds_at_stripe(paying) == [10000]
    assert await _refund_rows(paying) == []
    retried = await _refund(paying, payment.id, 10000)
    assert retried["userErrors"] == []
    keys = [r.idempotency_key for r in paying.stub.requests if r.path == "/v1/refunds"]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert _refunds_at_stripe(paying) == [10000]
    assert await _refunded(paying) == {payment.id: 10000}


async def _staff_viewer(paying: Paying) -> Viewer:
    async with paying.db.connect() as conn:
        staff_id = await conn.scalar(
            sa.select(StaffUser.id).where(
                StaffUser.organization_id == paying.tenant.organization_id,
                StaffUser.email == paying.tenant.staff_email,
            )
        )
    return Viewer(
        kind=ViewerKind.STAFF,
        organization_id=paying.tenant.organization_id,
        staff_user_id=staff_id,
        role=StaffRole.STAFF,
    )
