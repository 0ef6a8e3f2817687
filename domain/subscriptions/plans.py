"""Billing plans: a price the business charges every N months, in advance or in arrears.

Staff create, change and archive them; an archived plan keeps its subscriptions but takes
no new ones. A plan's currency is set when it is made (the organization's unless another
is given) and never changes, so the subscriptions on it keep one currency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from domain.audit import audit
from domain.edits import KEEP, Edit, changes
from domain.problems import Problem, Rejected
from domain.rows import locked, organization_of
from domain.subscriptions.codes import SubscriptionCode
from domain.work import Work
from models import BillingPlan, Organization
from models.enums import BillingInterval, BillingTiming
from models.types import utcnow
from models.writes import apply

MAX_AMOUNT = 10**11  # as line items: far above any real price
MAX_INTERVAL_MONTHS = 120
INTERVAL_MONTHS = {
    BillingInterval.MONTHLY: 1,
    BillingInterval.QUARTERLY: 3,
    BillingInterval.YEARLY: 12,
}


@dataclass(frozen=True)
class PlanDetails:
    """A plan's own fields, as checked at the edge; KEEP leaves one as it is."""

    name: Edit[str] = KEEP
    amount: Edit[int] = KEEP
    tax_rate_bp: Edit[int] = KEEP
    interval_months: Edit[int] = KEEP
    timing: Edit[BillingTiming] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(**{name: getattr(self, name) for name in self.__dataclass_fields__})


def plan_problems(details: PlanDetails) -> list[Problem]:
    """A price of zero or more, an interval of at least a month."""
    problems: list[Problem] = []
    amount = details.amount
    if isinstance(amount, int) and amount < 0:
        problems.append(
            Problem("amount", "The price must not be negative.", SubscriptionCode.NEGATIVE_AMOUNT)
        )
    elif isinstance(amount, int) and amount > MAX_AMOUNT:
        problems.append(Problem("amount", "The price is too large."))
    months = details.interval_months
    if isinstance(months, int) and not 1 <= months <= MAX_INTERVAL_MONTHS:
        message = f"Bill every 1 to {MAX_INTERVAL_MONTHS} months."
        problems.append(Problem("intervalMonths", message, SubscriptionCode.NOT_POSITIVE))
    rate = details.tax_rate_bp
    if isinstance(rate, int) and not 0 <= rate <= 10_000:
        problems.append(Problem("taxRate", "Use a percentage from 0 to 100."))
    return problems


def interval_named(months: int) -> BillingInterval | None:
    """The named interval of a month count, if it has one."""
    return next((name for name, n in INTERVAL_MONTHS.items() if n == months), None)


def months_of(interval: BillingInterval | None, months: int | None) -> int | None:
    """The month count an input asks for, by name or number (None: neither given);
    Rejected when it gives both and they disagree."""
    if interval is not None and months is not None and INTERVAL_MONTHS[interval] != months:
        message = f"{interval.value} is {INTERVAL_MONTHS[interval]} months, not {months}."
        raise Rejected(Problem("intervalMonths", message, SubscriptionCode.INTERVAL_MISMATCH))
    return INTERVAL_MONTHS[interval] if interval is not None else months


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise Rejected(*problems)


def _audit(work: Work, action: str, plan: BillingPlan, **data: Any) -> Any:
    return audit(
        work,
        action,
        organization_id=plan.organization_id,
        subject_type="BillingPlan",
        subject_id=plan.id,
        data=data,
    )


async def create_plan(work: Work, details: PlanDetails, currency: str | None) -> uuid.UUID:
    """A plan of the organization, in its currency unless another is given."""
    _refuse(plan_problems(details))
    org_id = organization_of(work)
    async with work.write() as session:
        org = await session.get(Organization, org_id)
        assert org is not None  # the viewer's organization
        plan = BillingPlan(
            organization_id=org_id, currency=currency or org.currency, **details.values()
        )
        session.add(plan)
        await session.flush()
        session.add(_audit(work, "billing_plan.created", plan, **_described(plan)))
    return plan.id


async def update_plan(work: Work, plan_id: uuid.UUID, details: PlanDetails) -> uuid.UUID:
    """Change a plan's name, price, tax, interval or timing; subscriptions on it follow
    (those with a price of their own keep that price)."""
    _refuse(plan_problems(details))
    async with work.write() as session:
        plan = await locked(session, BillingPlan, organization_of(work), plan_id)
        before = _described(plan)
        if apply(plan, details.values()):
            after = _described(plan)
            changed = {k: [before[k], v] for k, v in after.items() if before[k] != v}
            session.add(_audit(work, "billing_plan.updated", plan, changes=changed))
    return plan.id


async def archive_plan(work: Work, plan_id: uuid.UUID, archived: bool) -> uuid.UUID:
    """Take a plan off the list for new subscriptions (its subscriptions stay), or bring
    it back."""
    async with work.write() as session:
        plan = await locked(session, BillingPlan, organization_of(work), plan_id)
        if (plan.archived_at is not None) != archived:
            apply(plan, {"archived_at": utcnow() if archived else None})
            action = "billing_plan.archived" if archived else "billing_plan.restored"
            session.add(_audit(work, action, plan))
    return plan.id


def _described(plan: BillingPlan) -> dict[str, Any]:
    """What an audit row says of a plan."""
    return {
        "name": plan.name,
        "amount": plan.amount,
        "currency": plan.currency,
        "tax_rate_bp": plan.tax_rate_bp,
        "interval_months": plan.interval_months,
        "timing": BillingTiming(plan.timing).value,
    }
