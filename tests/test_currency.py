"""Minor units per currency and money written out for people, in integers only."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.currency import format_money, minor_unit_exponent

SHAPE = re.compile(r"([A-Z]{3}) (-?)(\d{1,3}(?:,\d{3})*)(?:\.(\d+))?")


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        *[("USD", 2), ("EUR", 2), ("usd", 2), ("XYZ", 2)],
        *[("JPY", 0), ("KRW", 0), ("VND", 0), ("CLP", 0)],
        *[("BHD", 3), ("KWD", 3), ("OMR", 3), ("JOD", 3), ("TND", 3)],
    ],
)
def test_minor_unit_exponent(currency: str, exponent: int):
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123450, "USD", "USD 1,234.50"),
        (0, "EUR", "EUR 0.00"),
        (5, "EUR", "EUR 0.05"),
        (-1, "EUR", "EUR -0.01"),
        (-5, "JPY", "JPY -5"),
        (1234567, "JPY", "JPY 1,234,567"),
        (125, "KWD", "KWD 0.125"),
        (1000, "bhd", "BHD 1.000"),
        (10**20 + 1, "USD", "USD 1,000,000,000,000,000,000.01"),
    ],
)
def test_format_money(amount: int, currency: str, text: str):
    assert format_money(amount, currency) == text


def _parse(text: str) -> int:
    match = SHAPE.fullmatch(text)
    assert match is not None, text
    _, sign, major, minor = match.groups()
    value = int(major.replace(",", "") + (minor or ""))
    return -value if sign else value


@given(
    amount=st.integers(min_value=-(10**30), max_value=10**30),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR", "VND", "BHD", "CLF"]),
)
def test_the_digits_read_back_give_the_amount(amount: int, currency: str):
    text = format_money(amount, currency)
    match = SHAPE.fullmatch(text)
    assert match is not None, text
    assert match.group(1) == currency
    assert len(match.group(4) or "") == minor_unit_exponent(currency)
    assert _parse(text) == amount
