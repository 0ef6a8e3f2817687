"""The rules of collections, in plain Python: which reminder step is due, and which late
fee, for how much. One home for them; the collector (`collect.py`) and the staff view of an
invoice's collection state both read them, and tests/test_collections.py checks the fee
against a plain-Decimal model.

Reminder steps are days relative to the due date (-3: three days before it) on the
organization's calendar. **Catch-up**: on any day, only the latest step whose date has come
is sent, and only when no step at or after it has been sent already; earlier steps that
were missed (the collector was down, collection was paused, the invoice was issued late)
are never sent afterwards. So a restart after a week down sends each invoice at most one
reminder, the one that fits today. An invoice autopay charges on its due date gets only the
steps after that date: "due soon" would ask for money that is taken without asking.

A late fee falls due once the invoice has been overdue `after_days` days (overdue: money is
due and its due date has passed in the organization's zone). Once only per invoice, or, with
`every_days`, again at the start of each further period of that many days. The same
catch-up applies: only the latest period reached is charged, never a burst of missed ones.
A fee is a fixed amount, or a percentage of the overdue amount rounded half away from zero
to the minor unit (models/money.py). Not compounding (the default): the base is what is due
on the invoice less any late-fee lines it carries, and an invoice that carries nothing but
late fees attracts none; compounding: the base adds the invoice's earlier late fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from models.enums import LateFeeKind
from models.money import divide_rounded

MAX_STEPS = 10
MAX_OFFSET = 365  # days before or after the due date


def parse_offsets(text: str) -> list[int]:
    """The stored schedule ("-3,0,7,14") as sorted days."""
    return sorted(int(part) for part in text.split(",") if part.strip())


def format_offsets(offsets: list[int]) -> str:
    return ",".join(str(day) for day in sorted(offsets))


def schedule_problem(offsets: list[int]) -> str | None:
    """Why a schedule is refused, or None."""
    if len(offsets) > MAX_STEPS:
        return f"Use at most {MAX_STEPS} reminder steps."
    if len(set(offsets)) != len(offsets):
        return "Each reminder step may appear once."
    if any(not -MAX_OFFSET <= day <= MAX_OFFSET for day in offsets):
        return f"Reminder steps run from {-MAX_OFFSET} to {MAX_OFFSET} days from the due date."
    return None


def chased_steps(offsets: list[int], autopay: bool) -> list[int]:
    """The steps that apply to an invoice: for one autopay charges on its due date, only
    those after it (a reminder then means the charge did not go through)."""
    return [step for step in offsets if step > 0] if autopay else offsets


def step_date(due_date: date, step: int) -> date:
    return due_date + timedelta(days=step)


def due_step(offsets: list[int], due_date: date, today: date, sent: set[int]) -> int | None:
    """The step to send today, by the catch-up rule: the latest whose date has come, unless
    it or a later step was sent already."""
    reached = [step for step in offsets if step_date(due_date, step) <= today]
    if not reached:
        return None
    latest = max(reached)
    if any(step >= latest for step in sent):
        return None
    return latest


def next_step(offsets: list[int], due_date: date, today: date, sent: set[int]) -> int | None:
    """The step that will be sent next: today's if it is still to send, else the first
    whose date is still to come (and which is later than every step sent)."""
    now = due_step(offsets, due_date, today, sent)
    if now is not None:
        return now
    last_sent = max(sent, default=None)
    for step in sorted(offsets):
        if step_date(due_date, step) > today and (last_sent is None or step > last_sent):
            return step
    return None


@dataclass(frozen=True, slots=True)
class FeeRule:
    """An organization's late-fee settings."""

    kind: LateFeeKind
    amount: int  # FIXED: minor units
    bp: int  # PERCENT: basis points
    after_days: int
    every_days: int | None  # None: once per invoice
    compounds: bool

    @property
    def on(self) -> bool:
        return self.kind is not LateFeeKind.NONE


def fee_period(rule: FeeRule, due_date: date, today: date) -> int | None:
    """The latest fee period reached today (1 for the first), or None before any."""
    overdue_days = (today - due_date).days
    if not rule.on or overdue_days < rule.after_days:
        return None
    if rule.every_days is None:
        return 1
    return (overdue_days - rule.after_days) // rule.every_days + 1


def fee_base(amount_due: int, fee_lines: int, earlier_fees: int, compounds: bool) -> int:
    """The overdue amount a fee is worked out on (see the module's text)."""
    if compounds:
        return max(0, amount_due + earlier_fees)
    return max(0, amount_due - fee_lines)


def fee_amount(rule: FeeRule, base: int) -> int:
    """The fee on `base` minor units: nothing when nothing is overdue."""
    if base <= 0 or not rule.on:
        return 0
    if rule.kind is LateFeeKind.FIXED:
        return rule.amount
    return divide_rounded(base * rule.bp, 10_000)
