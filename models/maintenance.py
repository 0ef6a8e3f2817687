"""When recurring maintenance is next due: by months from the last time, by miles, or both."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.engine import RowMapping

# A maintenance schedule's row, or a mapping in its shape.
Schedule = RowMapping | Mapping[str, Any]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer days."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due_on(schedule: Schedule) -> date | None:
    last, months = schedule["last_done_on"], schedule["every_months"]
    return add_months(last, months) if last is not None and months else None


def next_due_mileage(schedule: Schedule) -> int | None:
    last, miles = schedule["last_done_mileage"], schedule["every_miles"]
    return last + miles if last is not None and miles else None


def is_due(schedule: Schedule, today: date, mileage: int | None) -> bool:
    """Due now: the date has come (on the organization's `today`) or the car, at
    `mileage`, has done the miles."""
    due_on, due_mileage = next_due_on(schedule), next_due_mileage(schedule)
    by_date = due_on is not None and due_on <= today
    by_miles = due_mileage is not None and mileage is not None and mileage >= due_mileage
    return by_date or by_miles
