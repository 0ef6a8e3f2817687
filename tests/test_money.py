"""Money arithmetic: integer minor units, half away from zero at each line, sums that add up."""

import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.payments.online import allocate
from models.enums import InvoiceStatus, PaymentStatus
from models.ledger import refund_status, status_for
from models.money import QUANTITY_SCALE, amount_due, bill_totals, divide_rounded, line_amounts

amounts = st.integers(min_value=0, max_value=10**11)
quantities = st.integers(min_value=1, max_value=10**9)
rates = st.integers(min_value=0, max_value=10_000)


@given(st.integers(-(10**18), 10**18), st.integers(1, 10**9))
def test_division_rounds_half_away_from_zero(numerator, denominator):
    exact = Decimal(numerator) / Decimal(denominator)
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert divide_rounded(numerator, denominator) == expected


def test_rounding_examples():
    assert line_amounts(1500, 9999, 825).subtotal == 14999  # 149.985 -> 149.99
    assert line_amounts(1000, 5, 5000).tax == 3  # 2.5 cents -> 3
    assert divide_rounded(-25, 10) == -3


@given(quantities, amounts, rates)
def test_a_line_is_its_subtotal_plus_tax(quantity, price, rate):
    line = line_amounts(quantity, price, rate)
    assert line.total == line.subtotal + line.tax
    assert line.subtotal >= 0 and 0 <= line.tax <= line.subtotal
    # Never more than half a minor unit away from the exact value.
    assert abs(Decimal(line.subtotal) - Decimal(quantity * price) / QUANTITY_SCALE) <= Decimal(
        "0.5"
    )


@given(st.lists(st.tuples(quantities, amounts, rates), max_size=30))
def test_a_bill_adds_up_its_rounded_lines(lines):
    priced = [line_amounts(*line) for line in lines]
    totals = bill_totals(priced)
    assert totals.subtotal == sum(x.subtotal for x in priced)
    assert totals.tax_total == sum(x.tax for x in priced)
    assert totals.total == totals.subtotal + totals.tax_total == sum(x.total for x in priced)


@given(amounts, amounts, st.sampled_from(list(InvoiceStatus)))
def test_status_follows_the_money(total, paid, current):
    status = status_for(total, paid, current)
    if current in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        assert status is current
    elif paid >= total:
        assert status is InvoiceStatus.PAID
    else:
        assert status is (InvoiceStatus.PARTIALLY_PAID if paid else InvoiceStatus.OPEN)
    row = {"status": status, "total": total, "amount_paid": paid}
    due = amount_due({**row, "credited_amount": 0, "credit_applied": 0})
    assert due == (
        0 if status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) else max(total - paid, 0)
    )


@given(amounts, amounts, amounts, amounts, st.sampled_from(list(InvoiceStatus)))
def test_status_follows_credit_notes_and_credit_used(total, paid, credited, used, current):
    """Credit notes covering the whole total make it CREDITED; otherwise they and the
    customer's credit used count towards PAID like payments."""
    status = status_for(total, paid, current, credited, used)
    if current in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        assert status is current
    elif credited > 0 and credited >= total:
        assert status is InvoiceStatus.CREDITED
    elif paid + credited + used >= total:
        assert status is InvoiceStatus.PAID
    elif paid + used > 0:
        assert status is InvoiceStatus.PARTIALLY_PAID
    else:
        assert status is InvoiceStatus.OPEN
    row = {"status": status, "total": total, "amount_paid": paid}
    due = amount_due({**row, "credited_amount": credited, "credit_applied": used})
    billed = status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
    assert due == (max(total - paid - credited - used, 0) if billed else 0)
    assert (due == 0) or status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


@given(st.integers(1, 10**9), st.integers(0, 10**9))
def test_refund_status(amount, refunded):
    status = refund_status(amount, min(refunded, amount))
    if refunded == 0:
        assert status is PaymentStatus.SUCCEEDED
    elif refunded >= amount:
        assert status is PaymentStatus.REFUNDED
    else:
        assert status is PaymentStatus.PARTIALLY_REFUNDED


bills = st.lists(
    st.builds(
        lambda total, paid, days, number: {
            "id": uuid.uuid4(),
            "status": InvoiceStatus.OPEN,
            "total": total,
            "amount_paid": min(paid, total - 1) if total else 0,
            "due_date": date(2026, 1, 1) + timedelta(days=days),
            "issue_date": date(2026, 1, 1),
            "number": number,
        },
        st.integers(1, 10**8),
        st.integers(0, 10**8),
        st.integers(0, 365),
        st.integers(1, 10**6),
    ),
    min_size=1,
    max_size=10,
)


@given(bills, st.data())
def test_allocation_pays_oldest_first_and_never_more_than_due(invoices, data):
    due = sum(amount_due(b) for b in invoices)
    amount = data.draw(st.integers(1, due)) if due else 0
    allocations = allocate(invoices, amount)
    assert sum(a.amount for a in allocations) == amount
    by_id = {b["id"]: b for b in invoices}
    assert all(0 < a.amount <= amount_due(by_id[a.invoice_id]) for a in allocations)
    # Every invoice but the last one paid is paid off in full.
    assert all(a.amount == amount_due(by_id[a.invoice_id]) for a in allocations[:-1])
    dates = [by_id[a.invoice_id]["due_date"] for a in allocations]
    assert dates == sorted(dates)
