"""Line discounts on invoices and estimates (a percentage or a fixed amount), on SQLite and
PostgreSQL, and the rule (models/money.py `discount_of`, `line_amounts`) against a plain
Decimal model."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.billing.lines import LineInput, priced, totals_of
from domain.problems import Rejected
from models.db import Database
from models.money import bill_discount_shares, discount_of, line_amounts
from tests.billing import CREATE_ESTIMATE, CREATE_INVOICE, UPDATE_INVOICE
from tests.helpers import GraphQLClient, Tenant, user_errors
from tests.portal import make_customer
from tests.test_balance import Both

LINES = """lineItems { position discountPercent discount { amount } subtotal { amount }
  tax { amount } total { amount } }"""
INVOICE = f"""query I($id: ID!) {{ node(id: $id) {{ ... on Invoice {{ {LINES}
  discountTotal {{ amount currency }} subtotal {{ amount }} taxTotal {{ amount }}
  total {{ amount }} }} }} }}"""
ESTIMATE = f"""query E($id: ID!) {{ node(id: $id) {{ ... on Estimate {{ {LINES}
  discountTotal {{ amount currency }} total {{ amount }} }} }} }}"""


def model_round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # half away from zero


def model_line(quantity: int, price: int, rate: int, bp: int | None, fixed: int | None):
    gross = model_round(Decimal(quantity) * price / 1000)
    off = Decimal(0)
    if bp:
        off = Decimal(gross) * bp / 10_000
    elif fixed:
        off = Decimal(fixed)
    discount = min(model_round(off), gross)
    subtotal = gross - discount
    tax = model_round(Decimal(subtotal) * rate / 10_000)
    return discount, subtotal, tax, subtotal + tax


@given(
    st.integers(1, 1_000_000),
    st.integers(0, 10**8),
    st.sampled_from([0, 500, 825, 2000]),
    st.one_of(
        st.tuples(st.integers(0, 10_000), st.none()),
        st.tuples(st.none(), st.integers(0, 10**9)),
        st.tuples(st.none(), st.none()),
    ),
)
def test_a_discounted_line_matches_the_model_and_is_never_negative(quantity, price, rate, disc):
    bp, fixed = disc
    amounts = line_amounts(quantity, price, rate, bp, fixed)
    expected = model_line(quantity, price, rate, bp, fixed)
    assert (amounts.discount, amounts.subtotal, amounts.tax, amounts.total) == expected
    assert amounts.subtotal >= 0 and amounts.total >= 0 and amounts.discount >= 0


@given(st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 100_000)), max_size=10))
def test_a_bill_with_discounts_adds_up_and_never_goes_negative(lines):
    asked = [LineInput("x", price, q, discount_bp=2500) for q, price in lines]
    result = priced(asked, optional_allowed=False)
    totals = totals_of(result)
    assert totals.total == sum(line.total for line in result) >= 0
    assert all(line.subtotal >= 0 for line in result)


def test_discounts_by_hand():
    # 3 x 33.33 = 99.99; 10 % off is 9.999 -> 10.00; 89.99 left; 8.25 % tax 7.424 -> 7.42.
    assert line_amounts(3000, 3333, 825, 1000) == line_amounts(3000, 3333, 825, None, 1000)
    got = line_amounts(3000, 3333, 825, 1000)
    assert (got.discount, got.subtotal, got.tax, got.total) == (1000, 8999, 742, 9741)
    # 0.5 off 0.01 rounds half away from zero: the whole cent.
    assert discount_of(1, 5000, None) == 1
    assert discount_of(1, 4999, None) == 0
    assert discount_of(500, None, 900) == 500  # never more than the line
    assert discount_of(0, 10_000, None) == 0
    # A fixed discount above the line is refused where it is asked for.
    try:
        priced([LineInput("x", 500, discount_fixed=900)], optional_allowed=False)
    except Rejected as refused:
        assert [p.field for p in refused.problems] == ["lineItems.0.discountAmount"]
    else:
        raise AssertionError("a discount above the line was taken")


async def test_discounts_on_an_invoice_and_an_estimate(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant)
    lines: list[dict[str, Any]] = [
        {
            "description": "Storage",
            "quantity": "3",
            "unitPrice": 3333,
            "taxRate": "8.25",
            "discountPercent": "10",
        },
        {"description": "Wash", "quantity": "1", "unitPrice": 5000, "discountAmount": 1250},
        {"description": "Wax", "quantity": "1", "unitPrice": 2000},
    ]
    made = await gql.data(
        CREATE_INVOICE,
        {"input": {"customerId": customer, "lineItems": lines}},
        token=tenant.staff_token,
    )
    assert made["createInvoice"]["userErrors"] == []
    invoice_id = made["createInvoice"]["invoice"]["id"]
    answer = await both(INVOICE, {"id": invoice_id}, token=tenant.staff_token)
    invoice = answer["data"]["node"]
    assert [
        (
            line["discountPercent"],
            line["discount"]["amount"],
            line["subtotal"]["amount"],
            line["tax"]["amount"],
            line["total"]["amount"],
        )
        for line in invoice["lineItems"]
    ] == [("10", 1000, 8999, 742, 9741), (None, 1250, 3750, 0, 3750), (None, 0, 2000, 0, 2000)]
    assert invoice["discountTotal"] == {"amount": 2250, "currency": "USD"}
    assert invoice["subtotal"] == {"amount": 8999 + 3750 + 2000}
    assert invoice["total"] == {"amount": 9741 + 3750 + 2000}
    made = await gql.data(
        CREATE_ESTIMATE,
        {"input": {"customerId": customer, "lineItems": lines}},
        token=tenant.staff_token,
    )
    assert made["createEstimate"]["userErrors"] == []
    answer = await both(
        ESTIMATE, {"id": made["createEstimate"]["estimate"]["id"]}, token=tenant.staff_token
    )
    assert answer["data"]["node"]["discountTotal"]["amount"] == 2250
    assert answer["data"]["node"]["total"]["amount"] == 9741 + 3750 + 2000


async def test_discounts_that_make_no_sense_are_refused(gql: GraphQLClient, tenant: Tenant):
    customer, _ = await make_customer(gql, tenant)
    cases = [
        ({"discountAmount": 5001}, "discountAmount", "INVALID"),
        ({"discountPercent": "100.01"}, "discountPercent", "INVALID"),
        ({"discountPercent": "5", "discountAmount": 1}, "discountAmount", "INVALID"),
        ({"discountAmount": -1}, "discountAmount", "INVALID"),
    ]
    for extra, field, code in cases:
        line = {"description": "Wash", "quantity": "1", "unitPrice": 5000, **extra}
        made = await gql.data(
            CREATE_INVOICE,
            {"input": {"customerId": customer, "lineItems": [line]}},
            token=tenant.staff_token,
        )
        assert made["createInvoice"]["invoice"] is None
        assert (["input", "lineItems", "0", field], code) in user_errors(made["createInvoice"]), (
            extra,
            made,
        )
    # A line discounted to nothing is fine; a bill of nothing is not sent.
    whole = {"description": "Wash", "quantity": "1", "unitPrice": 5000, "discountPercent": "100"}
    made = await gql.data(
        CREATE_INVOICE,
        {"input": {"customerId": customer, "lineItems": [whole]}},
        token=tenant.staff_token,
    )
    assert made["createInvoice"]["invoice"]["total"] == {"amount": 0}


# --- a discount on the whole bill ------------------------------------------------------


@given(
    st.lists(st.integers(0, 10**7), max_size=12),
    st.one_of(
        st.tuples(st.integers(0, 10_000), st.none()), st.tuples(st.none(), st.integers(0, 10**8))
    ),
)
def test_bill_discount_shares_match_the_model(bases, disc):
    bp, fixed = disc
    shares = bill_discount_shares(bases, bp, fixed)
    base_total = sum(bases)
    # The model: the discount on the sum, each line's exact proportional share in Decimal.
    if base_total == 0:
        assert shares == [0] * len(bases)
        return
    off = model_round(Decimal(base_total) * bp / 10_000) if bp else min(fixed or 0, base_total)
    off = min(off, base_total)
    assert sum(shares) == off
    for base, share in zip(bases, shares, strict=True):
        exact = Decimal(off) * base / base_total
        assert 0 <= share <= base
        assert abs(Decimal(share) - exact) < 1


async def test_a_discount_on_the_whole_invoice(db: Database, gql: GraphQLClient, tenant: Tenant):
    both = Both(db, gql)
    customer, _ = await make_customer(gql, tenant)
    lines = [
        {"description": "Storage", "quantity": "1", "unitPrice": 10000, "taxRate": "10"},
        {"description": "Wash", "quantity": "1", "unitPrice": 5001},
    ]
    made = await gql.data(
        CREATE_INVOICE,
        {"input": {"customerId": customer, "lineItems": lines, "discountPercent": "10"}},
        token=tenant.staff_token,
    )
    assert made["createInvoice"]["userErrors"] == []
    invoice_id = made["createInvoice"]["invoice"]["id"]
    # 10 % of 150.01 is 15.001 -> 15.00: 10.00 on the first line (9.9993 + the cent left),
    # 5.00 on the second (5.0007); tax again on what is left: 9.00.
    answer = await both(INVOICE, {"id": invoice_id}, token=tenant.staff_token)
    invoice = answer["data"]["node"]
    assert [
        (line["discount"]["amount"], line["subtotal"]["amount"], line["tax"]["amount"])
        for line in invoice["lineItems"]
    ] == [(1000, 9000, 900), (500, 4501, 0)]
    assert invoice["discountTotal"]["amount"] == 1500
    assert invoice["total"] == {"amount": 9000 + 900 + 4501}
    # A new discount alone prices the lines as they are again: 20.00 fixed.
    changed = await gql.data(
        UPDATE_INVOICE,
        {"input": {"id": invoice_id, "discountPercent": None, "discountAmount": 2000}},
        token=tenant.staff_token,
    )
    assert changed["updateInvoice"]["userErrors"] == []
    answer = await both(INVOICE, {"id": invoice_id}, token=tenant.staff_token)
    invoice = answer["data"]["node"]
    assert [line["discount"]["amount"] for line in invoice["lineItems"]] == [1333, 667]
    assert invoice["discountTotal"]["amount"] == 2000
    # More than the lines come to is refused; removing it gives the full price back.
    refused = await gql.data(
        UPDATE_INVOICE,
        {"input": {"id": invoice_id, "discountAmount": 15002}},
        token=tenant.staff_token,
    )
    assert user_errors(refused["updateInvoice"]) == [(["input", "discountAmount"], "INVALID")]
    removed = await gql.data(
        UPDATE_INVOICE,
        {"input": {"id": invoice_id, "discountAmount": None}},
        token=tenant.staff_token,
    )
    assert removed["updateInvoice"]["invoice"]["total"] == {"amount": 11000 + 5001}
