"""Recurring billing's rule (domain/billing/proration.py): periods between anchor dates
clamped to short months, bill dates in advance and in arrears, and proration by day, held
to a plain model written differently (day-by-day walks, Decimal arithmetic) and to cases
worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice, pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.proration import (
    Period,
    anchor_date,
    next_bill_date,
    period_amount,
    period_on,
    periods,
    prorated,
)
from models.enums import BillingTiming

ADVANCE, ARREARS = BillingTiming.IN_ADVANCE, BillingTiming.IN_ARREARS

# --- the model ---------------------------------------------------------------------------


def model_amount(price: int, quantity: int, used: int, days: int) -> int:
    exact = Decimal(price) * Decimal(quantity) * Decimal(used) / Decimal(days)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # half away from zero


def model_anchor(year: int, month: int, anchor: int) -> date:
    """The anchor in a month: walk back from the first of the next month to its last day."""
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last.replace(day=anchor) if anchor <= last.day else last


def model_anchors(start: date, anchor: int, interval: int, count: int) -> list[date]:
    """Anchor dates from a whole interval before the start's month on, stepping month by
    month and keeping every `interval`-th one."""
    year, month = start.year, start.month
    for _ in range(interval):  # step back one interval
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    found: list[date] = []
    step = 0
    while len(found) < count:
        if step % interval == 0:
            found.append(model_anchor(year, month, anchor))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        step += 1
    return found


def model_periods(
    start: date, anchor: int, interval: int, end: date | None, count: int
) -> list[tuple[date, date, date, date]]:
    anchors = model_anchors(start, anchor, interval, count + 3)
    found = []
    for full_start, full_end in pairwise(anchors):
        covered_start = max(start, full_start)
        covered_end = full_end if end is None else min(end, full_end)
        if covered_start < covered_end:
            found.append((covered_start, covered_end, full_start, full_end))
    return found[:count]


def model_next_bill(
    today: date, start: date, anchor: int, interval: int, timing: BillingTiming, end: date | None
) -> date | None:
    for covered_start, covered_end, _, _ in model_periods(start, anchor, interval, end, 60):
        billed = covered_start if timing is ADVANCE else covered_end
        if billed >= today:
            return billed
    return None


# --- proration ---------------------------------------------------------------------------


@st.composite
def usage(draw: st.DrawFn) -> tuple[int, int, int, int]:
    days = draw(st.integers(1, 400))
    return (
        draw(st.integers(0, 10**11)),
        draw(st.integers(1, 10_000)),
        draw(st.integers(0, days)),
        days,
    )


@given(usage())
def test_proration_is_the_decimal_model(case):
    price, quantity, used, days = case
    assert prorated(price, quantity, used, days) == model_amount(price, quantity, used, days)


@given(usage())
def test_a_full_period_costs_the_whole_price_and_none_costs_nothing(case):
    price, quantity, _, days = case
    assert prorated(price, quantity, days, days) == price * quantity
    assert prorated(price, quantity, 0, days) == 0


def test_proration_refuses_impossible_days():
    with pytest.raises(ValueError):
        prorated(100, 1, 1, 0)
    with pytest.raises(ValueError):
        prorated(100, 1, 31, 30)
    with pytest.raises(ValueError):
        prorated(100, 1, -1, 30)


def test_proration_rounds_half_away_from_zero_by_hand():
    assert prorated(1, 1, 1, 2) == 1  # 0.5 -> 1
    assert prorated(3, 1, 1, 2) == 2  # 1.5 -> 2
    assert prorated(10_000, 1, 5, 28) == 1786  # 1785.714...
    assert prorated(10_000, 3, 10, 30) == 10_000
    assert prorated(999, 1, 1, 3) == 333
    assert prorated(1000, 1, 1, 8) == 125
    assert prorated(1001, 1, 1, 2) == 501  # 500.5 -> 501


# --- periods -----------------------------------------------------------------------------

starts = st.dates(min_value=date(1999, 1, 1), max_value=date(2100, 12, 31))
anchors = st.integers(1, 31)
intervals = st.sampled_from([1, 2, 3, 6, 12, 5, 24])


@given(starts, anchors, intervals, st.none() | st.integers(1, 900))
def test_periods_are_the_models(start, anchor, interval, length):
    end = None if length is None else start + timedelta(days=length)
    ours = list(islice(periods(start, anchor, interval, end), 12))
    theirs = model_periods(start, anchor, interval, end, 12)
    assert [(p.start, p.end, p.full_start, p.full_end) for p in ours] == theirs


@given(starts, anchors, intervals, st.integers(1, 900))
def test_periods_cover_every_day_once(start, anchor, interval, length):
    end = start + timedelta(days=length)
    found = list(periods(start, anchor, interval, end))
    assert found[0].start == start and found[-1].end == end
    for before, after in pairwise(found):
        assert before.end == after.start and before.full_end == after.full_start
        assert before.end == before.full_end  # only the first and last may be partial
    for period in found:
        assert 0 < period.days_used <= period.days_in_period
        # Each boundary is the anchor day, or the last day of a shorter month.
        for boundary in (period.full_start, period.full_end):
            assert boundary == model_anchor(boundary.year, boundary.month, anchor)


@given(starts, anchors, intervals, st.none() | st.integers(1, 900), st.integers(-60, 1200))
def test_next_bill_date_is_the_models(start, anchor, interval, length, offset):
    end = None if length is None else start + timedelta(days=length)
    today = start + timedelta(days=offset)
    for timing in (ADVANCE, ARREARS):
        assert next_bill_date(today, start, anchor, interval, timing, end) == model_next_bill(
            today, start, anchor, interval, timing, end
        )


# --- by hand -----------------------------------------------------------------------------


def _spans(found: list[Period]) -> list[tuple[str, str]]:
    return [(p.start.isoformat(), p.end.isoformat()) for p in found]


def test_anchor_31_clamps_to_february_and_comes_back():
    leap = list(islice(periods(date(2024, 1, 31), 31, 1), 4))
    assert _spans(leap) == [
        ("2024-01-31", "2024-02-29"),
        ("2024-02-29", "2024-03-31"),
        ("2024-03-31", "2024-04-30"),
        ("2024-04-30", "2024-05-31"),
    ]
    plain = list(islice(periods(date(2023, 1, 31), 31, 1), 2))
    assert _spans(plain) == [("2023-01-31", "2023-02-28"), ("2023-02-28", "2023-03-31")]
    assert [p.days_in_period for p in plain] == [28, 31]


def test_a_leap_day_start_bills_yearly_on_the_last_of_february():
    found = list(islice(periods(date(2024, 2, 29), 29, 12), 4))
    assert [p.end.isoformat() for p in found] == [
        "2025-02-28",
        "2026-02-28",
        "2027-02-28",
        "2028-02-29",
    ]
    assert [p.days_in_period for p in found] == [365, 365, 365, 366]
    assert anchor_date(date(2024, 2, 29), 29, 12, -1) == date(2023, 2, 28)


def test_quarterly_from_mid_period():
    first, second = islice(periods(date(2025, 1, 10), 1, 3), 2)
    assert (first.start, first.end) == (date(2025, 1, 10), date(2025, 4, 1))
    assert (first.full_start, first.days_in_period, first.days_used) == (date(2025, 1, 1), 90, 81)
    assert period_amount(30_000, 1, first) == 27_000
    assert (second.start, second.end, second.is_full) == (date(2025, 4, 1), date(2025, 7, 1), True)
    assert period_amount(30_000, 2, second) == 60_000


def test_a_start_before_the_anchor_day_is_a_stub_of_the_previous_period():
    first, second = islice(periods(date(2025, 3, 10), 15, 1), 2)
    assert (first.full_start, first.start, first.end) == (
        date(2025, 2, 15),
        date(2025, 3, 10),
        date(2025, 3, 15),
    )
    assert (first.days_used, first.days_in_period) == (5, 28)
    assert period_amount(10_000, 1, first) == 1786
    assert (second.start, second.end) == (date(2025, 3, 15), date(2025, 4, 15))


def test_an_end_date_cuts_the_last_period():
    found = list(periods(date(2025, 1, 1), 1, 1, date(2025, 2, 15)))
    assert _spans(found) == [("2025-01-01", "2025-02-01"), ("2025-02-01", "2025-02-15")]
    assert period_amount(28_000, 1, found[1]) == 14_000
    assert list(periods(date(2025, 1, 1), 1, 1, date(2025, 1, 1))) == []


def test_next_bill_date_in_advance_and_in_arrears():
    start = date(2025, 1, 10)
    # Rent in advance: the stub is billed on the start, then every first of the month.
    assert next_bill_date(date(2025, 1, 1), start, 1, 1, ADVANCE) == date(2025, 1, 10)
    assert next_bill_date(date(2025, 1, 10), start, 1, 1, ADVANCE) == date(2025, 1, 10)
    assert next_bill_date(date(2025, 1, 11), start, 1, 1, ADVANCE) == date(2025, 2, 1)
    # In arrears: at the end of each period.
    assert next_bill_date(date(2025, 1, 11), start, 1, 1, ARREARS) == date(2025, 2, 1)
    assert next_bill_date(date(2025, 2, 1), start, 1, 1, ARREARS) == date(2025, 2, 1)
    # Ended: in arrears the last (partial) period is still billed at the end; in advance
    # nothing is left.
    end = date(2025, 2, 15)
    assert next_bill_date(date(2025, 2, 2), start, 1, 1, ADVANCE, end) is None
    assert next_bill_date(date(2025, 2, 2), start, 1, 1, ARREARS, end) == end
    assert next_bill_date(date(2025, 2, 16), start, 1, 1, ARREARS, end) is None


def test_period_on_a_day():
    start = date(2025, 1, 10)
    assert period_on(date(2025, 1, 9), start, 1, 1) is None
    found = period_on(date(2025, 3, 31), start, 1, 1)
    assert found is not None and (found.start, found.end) == (date(2025, 3, 1), date(2025, 4, 1))
    assert period_on(date(2025, 3, 31), start, 1, 1, date(2025, 3, 15)) is None


def test_bad_anchor_or_interval_is_refused():
    with pytest.raises(ValueError):
        next(periods(date(2025, 1, 1), 0, 1))
    with pytest.raises(ValueError):
        next(periods(date(2025, 1, 1), 32, 1))
    with pytest.raises(ValueError):
        next(periods(date(2025, 1, 1), 1, 0))
