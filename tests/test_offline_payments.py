"""Staff record cash, cheque and transfer payments and refunds; totals stay consistent."""

import asyncio

from tests.billing import RECORD_PAYMENT, REFUND_PAYMENT, VOID_INVOICE, draft_invoice, open_invoice
from tests.helpers import user_errors
from tests.portal import make_customer


async def _pay(gql, tenant, invoice_id, amount, method="CASH"):
    data = await gql.data(
        RECORD_PAYMENT,
        {"input": {"invoiceId": invoice_id, "amount": amount, "method": method}},
        token=tenant.staff_token,
    )
    return data["recordPayment"]


async def test_partial_then_full_payment(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer_id)  # 250.00
    first = await _pay(gql, tenant, invoice["id"], 10000)
    assert first["userErrors"] == []
    assert first["payment"]["invoice"] == {
        "status": "PARTIALLY_PAID",
        "amountPaid": {"amount": 10000},
        "amountDue": {"amount": 15000},
    }
    over = await _pay(gql, tenant, invoice["id"], 15001, "CHEQUE")
    assert user_errors(over) == [(["input", "amount"], "OVERPAYMENT")]
    rest = await _pay(gql, tenant, invoice["id"], 15000, "BANK_TRANSFER")
    assert rest["payment"]["invoice"]["status"] == "PAID"
    assert rest["payment"]["invoice"]["amountDue"]["amount"] == 0
    after = await _pay(gql, tenant, invoice["id"], 1)
    assert user_errors(after) == [(["input", "invoiceId"], "NOT_PAYABLE")]


async def test_bad_payments_are_refused(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    draft = await draft_invoice(gql, tenant, customer_id)
    assert user_errors(await _pay(gql, tenant, draft["id"], 100)) == [
        (["input", "invoiceId"], "NOT_PAYABLE")
    ]
    invoice = await open_invoice(gql, tenant, customer_id)
    assert user_errors(await _pay(gql, tenant, invoice["id"], 0)) == [
        (["input", "amount"], "INVALID")
    ]
    assert user_errors(await _pay(gql, tenant, invoice["id"], 100, "CARD_ONLINE")) == [
        (["input", "method"], "INVALID")
    ]
    await gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=tenant.staff_token)
    assert user_errors(await _pay(gql, tenant, invoice["id"], 100)) == [
        (["input", "invoiceId"], "NOT_PAYABLE")
    ]


async def test_concurrent_payments_never_exceed_what_is_due(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer_id)  # 250.00
    results = await asyncio.gather(*(_pay(gql, tenant, invoice["id"], 10000) for _ in range(4)))
    accepted = [r for r in results if not r["userErrors"]]
    assert len(accepted) == 2  # 2 x 100.00 fit, a third would exceed 250.00
    assert all(
        user_errors(r) == [(["input", "amount"], "OVERPAYMENT")] for r in results if r["userErrors"]
    )


async def test_refunds_reopen_what_they_give_back(gql, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer_id)
    paid = await _pay(gql, tenant, invoice["id"], 25000)
    payment_id = paid["payment"]["id"]
    too_much = await gql.data(
        REFUND_PAYMENT,
        {"input": {"paymentId": payment_id, "amount": 25001}},
        token=tenant.staff_token,
    )
    assert user_errors(too_much["refundPayment"]) == [(["input", "amount"], "EXCEEDS_PAYMENT")]
    part = (
        await gql.data(
            REFUND_PAYMENT,
            {"input": {"paymentId": payment_id, "amount": 5000}},
            token=tenant.staff_token,
        )
    )["refundPayment"]["payment"]
    assert part["status"] == "PARTIALLY_REFUNDED" and part["refundedAmount"]["amount"] == 5000
    assert part["invoice"]["status"] == "PARTIALLY_PAID"
    assert part["invoice"]["amountDue"]["amount"] == 5000
    rest = (
        await gql.data(
            REFUND_PAYMENT, {"input": {"paymentId": payment_id}}, token=tenant.staff_token
        )
    )["refundPayment"]["payment"]
    assert rest["status"] == "REFUNDED" and rest["invoice"]["status"] == "OPEN"
    assert rest["invoice"]["amountPaid"]["amount"] == 0
    again = await gql.data(
        REFUND_PAYMENT, {"input": {"paymentId": payment_id}}, token=tenant.staff_token
    )
    assert user_errors(again["refundPayment"]) == [(["input", "paymentId"], "EXCEEDS_PAYMENT")]
    voided = await gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=tenant.staff_token)
    assert voided["voidInvoice"]["invoice"]["status"] == "VOID"
