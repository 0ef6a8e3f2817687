"""Recurring billing periods and proration: the one place these rules are written.

Billing periods
    A subscription is billed every `interval_months` months (1 monthly, 3 quarterly, 12
    yearly, or any N >= 1) on its anchor day (1-31). The anchor dates are

        A(k) = the anchor day of month (M + k * interval_months) of year Y

    for every whole number k, where Y-M is the month of the start date, and where a month
    shorter than the anchor day clamps it to its last day: anchor 31 gives 28 February (29
    in a leap year), 30 April, then 31 May again. Each A(k) is computed from the start's
    month directly, never from the previous anchor, so one short month does not pull every
    later anchor back.

    The full period k is [A(k), A(k+1)): local dates of the organization's time zone, start
    included, end excluded. The subscription's own periods are the full periods it
    overlaps, cut to [start_date, end_date) (`end_date` is the first day no longer covered,
    or none): a subscription that starts or ends between anchors has a partial first or last
    period.

Proration
    A period of `days_used` days out of its full period's `days_in_period` costs

        round_half_away_from_zero(price_minor * quantity * days_used / days_in_period)

    integer minor units (models/money.py `divide_rounded`); a full period costs exactly
    price_minor * quantity.

Changes within a period billed in advance
    A period billed before its days are used can change afterwards: the subscription ends
    within it (or on its first day), or its price or quantity changes from a day within
    it. Each run of days of the period costs by the rule above at the terms it had:

        charge = fixed + prorated(price, quantity, days from `terms_from` to the covered
                 end, days_in_period)

    where `fixed` is what the days before `terms_from` (the day the current terms began)
    cost, each earlier run rounded on its own, and the covered end is the first day no
    longer covered (the subscription's end, at most the period's end). So an end gives
    back what was billed less what the days used cost, and the customer pays exactly the
    days used; a new price or quantity from day t charges the days from t at the new terms.
    The difference against what the period was charged is credited (a credit note against
    its invoice) or billed (an invoice of the difference) at once
    (domain/subscriptions/adjustments.py).

Bill dates
    Billed IN_ADVANCE (rent), a period is billed on its first day; IN_ARREARS, on the day
    after its last (its exclusive end). The next bill date at a given day is the first bill
    date on or after that day, if any period is left to bill.

Pure functions over dates and integers: no database, no GraphQL; tests check them against a
plain Decimal model with hypothesis (tests/test_proration.py).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from models.enums import BillingTiming as Timing
from models.money import divide_rounded

MAX_ANCHOR_DAY = 31


@dataclass(frozen=True, slots=True)
class Period:
    """One billed period: the days covered [start, end) within the full period
    [full_start, full_end) between two anchor dates."""

    start: date
    end: date
    full_start: date
    full_end: date

    @property
    def days_used(self) -> int:
        return (self.end - self.start).days

    @property
    def days_in_period(self) -> int:
        return (self.full_end - self.full_start).days

    @property
    def is_full(self) -> bool:
        return self.start == self.full_start and self.end == self.full_end

    def bill_date(self, timing: Timing) -> date:
        return self.start if timing is Timing.IN_ADVANCE else self.end


def clamped(year: int, month: int, day: int) -> date:
    """`day` of the month, or the month's last day when it is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def anchor_date(base: date, anchor_day: int, interval_months: int, k: int) -> date:
    """A(k): the anchor day of the month k intervals after `base`'s month (k may be < 0)."""
    months = base.year * 12 + (base.month - 1) + k * interval_months
    year, month0 = divmod(months, 12)
    return clamped(year, month0 + 1, anchor_day)


def _check(anchor_day: int, interval_months: int) -> None:
    if not 1 <= anchor_day <= MAX_ANCHOR_DAY:
        raise ValueError("anchor_day must be 1-31")
    if interval_months < 1:
        raise ValueError("interval_months must be at least 1")


def periods(
    start: date, anchor_day: int, interval_months: int, end: date | None = None
) -> Iterator[Period]:
    """The subscription's periods in order, from the one holding `start`; endless when
    `end` is None (take what you need), none when `end` is not after `start`."""
    _check(anchor_day, interval_months)
    # The anchor on or before the start: A(0) or, when the anchor day falls later in the
    # start's month, A(-1).
    k = 0 if anchor_date(start, anchor_day, interval_months, 0) <= start else -1
    while True:
        full_start = anchor_date(start, anchor_day, interval_months, k)
        full_end = anchor_date(start, anchor_day, interval_months, k + 1)
        covered_start = max(start, full_start)
        covered_end = full_end if end is None else min(end, full_end)
        if covered_end <= covered_start:
            return
        yield Period(covered_start, covered_end, full_start, full_end)
        k += 1


def period_on(
    day: date, start: date, anchor_day: int, interval_months: int, end: date | None = None
) -> Period | None:
    """The period covering `day`, if the subscription covers it."""
    for period in periods(start, anchor_day, interval_months, end):
        if period.start > day:
            return None
        if day < period.end:
            return period
    return None


def next_bill_date(
    today: date,
    start: date,
    anchor_day: int,
    interval_months: int,
    timing: Timing,
    end: date | None = None,
) -> date | None:
    """The first bill date on or after `today`, or None when nothing is left to bill."""
    for period in periods(start, anchor_day, interval_months, end):
        billed = period.bill_date(timing)
        if billed >= today:
            return billed
    return None


def prorated(price_minor: int, quantity: int, days_used: int, days_in_period: int) -> int:
    """What `days_used` days of a `days_in_period`-day period cost, in minor units:
    price x quantity x used / days, rounded half away from zero."""
    if days_in_period <= 0:
        raise ValueError("a period has at least one day")
    if not 0 <= days_used <= days_in_period:
        raise ValueError("days_used must be within the period")
    return divide_rounded(price_minor * quantity * days_used, days_in_period)


def period_amount(price_minor: int, quantity: int, period: Period) -> int:
    """The amount of one period: its share of the full period's price."""
    return prorated(price_minor, quantity, period.days_used, period.days_in_period)


@dataclass(frozen=True, slots=True)
class PeriodCharge:
    """What a billed period is charged by: `price` x `quantity` from `terms_from` on,
    `fixed` for its days before that (see "Changes within a period")."""

    period: Period  # the days billed
    price: int
    quantity: int
    terms_from: date
    fixed: int = 0

    @classmethod
    def billed(cls, price: int, quantity: int, period: Period) -> PeriodCharge:
        """The period as billed: one price from its first day."""
        return cls(period, price, quantity, period.start)

    def _days_to(self, day: date) -> int:
        end = min(max(day, self.terms_from), self.period.end)
        return (end - self.terms_from).days

    def cost(self, covered_end: date | None) -> int:
        """What the period's days before `covered_end` (None: all of them) cost."""
        end = self.period.end if covered_end is None else covered_end
        days = self._days_to(end)
        return self.fixed + prorated(self.price, self.quantity, days, self.period.days_in_period)

    def repriced(self, day: date, price: int, quantity: int) -> PeriodCharge:
        """The charge with `price` x `quantity` from `day` (within the period, or clamped to
        it) on: the days before keep their cost."""
        at = min(max(day, self.terms_from), self.period.end)
        fixed = self.fixed + prorated(
            self.price, self.quantity, (at - self.terms_from).days, self.period.days_in_period
        )
        return PeriodCharge(self.period, price, quantity, at, fixed)
