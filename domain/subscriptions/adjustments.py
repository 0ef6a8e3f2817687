"""Periods billed in advance that change after they were billed: the subscription ends
within one, or its price or quantity changes from a day within one.

In the transaction of the change (`end_subscription`, `change_subscription`), each settled
period with an invoice that still runs after today is charged again by the proration rule
of domain/billing/proration.py (`PeriodCharge`: each run of days at the terms it had, the
days no longer covered not at all), and the difference against what it was charged is
settled at once:

- less (an end before the period's end, a lower price or quantity): a credit note against
  the period's invoice line (domain/billing/credit_notes.py, the same credit notes staff
  issue, so what is due shrinks or the customer's credit grows, and the balance and the
  statement show it), taken first from the period's own invoices of a difference, latest
  first, then from its invoice; never more than is left of their lines;
- more (a higher price or quantity, or an end moved later again): an invoice of the
  difference, issued and sent like every other (domain/billing/invoices.py).

Each is recorded in `subscription_adjustments`, and the period's row keeps what it is
charged by now. Amounts are subtotals before tax; a credit note takes the line's tax with
it, an invoice of a difference carries the plan's tax rate. A period settled before these
figures were kept is charged by its invoice line: a full period by the line's price and
quantity, a partial one by its amount over the days it billed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.billing.credit import line_credit
from domain.billing.credit_notes import (
    UNCREDITABLE,
    credited_before,
    invoiced_line,
    record_credit_note,
)
from domain.billing.lines import LineInput, priced
from domain.billing.proration import Period, PeriodCharge
from domain.subscriptions.billing import issue_subscription_invoice
from domain.work import Work
from models import (
    BillingPlan,
    BillingSubscription,
    Invoice,
    InvoiceLine,
    Organization,
    SubscriptionAdjustment,
    SubscriptionPeriod,
)
from models.enums import LineKind
from models.money import QUANTITY_SCALE
from models.tables import invoice_lines, subscription_adjustments, subscription_periods
from models.writes import get_for_update


@dataclass(frozen=True, slots=True)
class Adjusted:
    """One credit note or invoice of a difference made for a period."""

    period_start: date
    amount: int  # subtotal: < 0 credited, > 0 billed
    invoice_id: uuid.UUID  # the invoice credited, or the invoice of the difference
    credit_note_id: uuid.UUID | None = None


def _last_day(period: SubscriptionPeriod) -> str:
    return (period.period_end - timedelta(days=1)).isoformat()


async def _first_line(session: AsyncSession, invoice_id: uuid.UUID) -> InvoiceLine | None:
    """The line that bills the period: the first of its invoice (late fees come after)."""
    found = await session.execute(
        sa.select(InvoiceLine)
        .where(invoice_lines.c.invoice_id == invoice_id)
        .order_by(invoice_lines.c.position, invoice_lines.c.id)
        .limit(1)
    )
    return found.scalars().first()


def _charge_of(period: SubscriptionPeriod, line: InvoiceLine) -> tuple[PeriodCharge, int]:
    """What the period is charged by, and what it is charged now."""
    billed = Period(
        period.period_start,
        period.period_end,
        period.period_start,
        period.period_start + timedelta(days=period.days_in_period or 0),
    )
    if (
        period.unit_price is not None
        and period.quantity is not None
        and period.days_in_period is not None
        and period.terms_from is not None
    ):
        charge = PeriodCharge(
            billed, period.unit_price, period.quantity, period.terms_from, period.fixed
        )
        return charge, period.charged if period.charged is not None else line.subtotal
    # Settled before these figures were kept: its line tells.
    days = Period(period.period_start, period.period_end, period.period_start, period.period_end)
    whole_units = line.quantity_milli % QUANTITY_SCALE == 0 and "(prorated:" not in (
        line.description
    )
    if whole_units:
        charge = PeriodCharge.billed(line.unit_price, line.quantity_milli // QUANTITY_SCALE, days)
    else:
        charge = PeriodCharge.billed(line.subtotal, 1, days)
    return charge, line.subtotal


def _keep(period: SubscriptionPeriod, charge: PeriodCharge, charged: int) -> None:
    period.unit_price = charge.price
    period.quantity = charge.quantity
    period.days_in_period = charge.period.days_in_period
    period.terms_from = charge.terms_from
    period.fixed = charge.fixed
    period.charged = charged


async def adjust_periods(
    work: Work,
    session: AsyncSession,
    subscription: BillingSubscription,
    today: date,
    *,
    terms: tuple[int, int] | None = None,
) -> list[Adjusted]:
    """Charge again the subscription's billed periods running after `today`, now that its
    end date is what it is and, with `terms` (price, quantity), those apply from today;
    credit or bill the differences. In the caller's transaction, the subscription locked."""
    plan = await session.get(BillingPlan, subscription.plan_id)
    org = await session.get(Organization, subscription.organization_id)
    assert plan is not None and org is not None  # the row's foreign keys hold them
    found = await session.execute(
        sa.select(SubscriptionPeriod)
        .where(
            subscription_periods.c.subscription_id == subscription.id,
            subscription_periods.c.invoice_id.is_not(None),
            subscription_periods.c.period_end > today,
        )
        .order_by(subscription_periods.c.period_start)
    )
    done: list[Adjusted] = []
    for period in found.scalars().all():
        assert period.invoice_id is not None  # selected so
        invoice = await get_for_update(session, Invoice, org.id, period.invoice_id)
        if invoice is None or invoice.status in UNCREDITABLE:
            continue  # voided: nothing is charged for it
        line = await _first_line(session, invoice.id)
        if line is None:
            continue
        charge, charged = _charge_of(period, line)
        same_currency = invoice.currency == subscription.currency
        if terms is not None and same_currency and terms != (charge.price, charge.quantity):
            charge = charge.repriced(max(today, period.period_start), *terms)
        target = charge.cost(subscription.end_date)
        difference = target - charged
        if difference < 0:
            why = (
                f"ended on {subscription.end_date.isoformat()}"
                if subscription.end_date is not None and subscription.end_date < period.period_end
                else f"price or quantity changed from {today.isoformat()}"
            )
            reason = f"{plan.name}, {period.period_start.isoformat()} to {_last_day(period)}: {why}"
            credited = await _credit(work, session, period, invoice, -difference, reason, today)
            done += credited
            charged -= sum(-a.amount for a in credited)
        elif difference > 0:
            done.append(await _bill(work, session, org, plan, subscription, period, difference))
            charged = target
        _keep(period, charge, charged)
    await session.flush()
    return done


async def _credit(
    work: Work,
    session: AsyncSession,
    period: SubscriptionPeriod,
    invoice: Invoice,
    amount: int,
    reason: str,
    today: date,
) -> list[Adjusted]:
    """Credit `amount` of the period's lines: its invoices of a difference, latest first,
    then its own invoice; at most what is left of each line."""
    found = await session.execute(
        sa.select(subscription_adjustments.c.invoice_id)
        .where(
            subscription_adjustments.c.period_id == period.id,
            subscription_adjustments.c.amount > 0,
        )
        .order_by(subscription_adjustments.c.created_at.desc())
    )
    invoices: list[Invoice] = []
    for invoice_id in found.scalars():
        other = await get_for_update(session, Invoice, invoice.organization_id, invoice_id)
        if other is not None:
            invoices.append(other)
    invoices.append(invoice)
    done: list[Adjusted] = []
    left_to_credit = amount
    for target in invoices:
        if left_to_credit <= 0:
            break
        if target.status in UNCREDITABLE:
            continue
        line = await _first_line(session, target.id)
        if line is None:
            continue
        before = (await credited_before(session, target.id))[line.id]
        take = min(left_to_credit, line.subtotal - before.subtotal)
        if take <= 0:
            continue
        credit = line_credit(invoiced_line(line), before, amount=take)
        if target.credited_amount + credit.total > target.total:
            continue  # credited in whole by hand already
        issued = await record_credit_note(work, session, target, reason, [(line, credit)])
        session.add(
            SubscriptionAdjustment(
                organization_id=target.organization_id,
                subscription_id=period.subscription_id,
                period_id=period.id,
                made_on=today,
                amount=-take,
                invoice_id=target.id,
                credit_note_id=issued.credit_note_id,
            )
        )
        done.append(Adjusted(period.period_start, -take, target.id, issued.credit_note_id))
        left_to_credit -= take
    return done


async def _bill(
    work: Work,
    session: AsyncSession,
    org: Organization,
    plan: BillingPlan,
    subscription: BillingSubscription,
    period: SubscriptionPeriod,
    amount: int,
) -> Adjusted:
    """Issue and send an invoice of `amount` (before tax) for the period's difference."""
    today = work.clock.today(org.timezone)
    kind = LineKind.STORAGE if subscription.storage_label else LineKind.OTHER
    description = (
        f"{plan.name}, {max(today, period.period_start).isoformat()} to {_last_day(period)}: "
        "difference for the new price or quantity"
    )
    line = LineInput(description, amount, QUANTITY_SCALE, kind, None, plan.tax_rate_bp)
    lines = priced([line], optional_allowed=False)
    invoice, _ = await issue_subscription_invoice(
        session, work.settings, org, subscription, lines, today
    )
    session.add(
        SubscriptionAdjustment(
            organization_id=org.id,
            subscription_id=subscription.id,
            period_id=period.id,
            made_on=today,
            amount=amount,
            invoice_id=invoice.id,
        )
    )
    session.add(
        audit(
            work,
            "invoice.sent",
            customer_id=invoice.customer_id,
            subject_type="Invoice",
            subject_id=invoice.id,
            data={"number": invoice.number, "period_start": period.period_start.isoformat()},
        )
    )
    return Adjusted(period.period_start, amount, invoice.id)
