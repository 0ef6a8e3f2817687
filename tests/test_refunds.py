"""Refunds of card payments: asked of Stripe with no write lock held, recorded once whatever
Stripe reports meanwhile, never more than was paid."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.ids import encode_id
from models import Payment, Refund
from tests.billing import REFUND_PAYMENT, open_invoice
from tests.payments import Paying


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
    """Each payment's refunded amount as recorded, and the refunds' total as a check."""
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
                .where(Refund.organization_id == paying.tenant.organization_id)
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
