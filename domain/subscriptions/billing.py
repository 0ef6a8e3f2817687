"""The recurring billing scheduler: subscriptions' invoices, issued when their periods
come due.

A period is due on its bill date (domain/billing/proration.py: its first day in advance,
the day after its last in arrears), a local date of the organization's time zone. Each run
looks at every subscription of every organization (or one organization) and issues, in
bill-date order, each due period that has not been settled yet: one transaction per
period, which

- locks the subscription's row and looks again (paused meanwhile, end date moved, already
  settled by another scheduler: nothing),
- drafts the invoice with one line for the period (the plan's or the subscription's own
  price x quantity, the plan's tax rate; a partial first or last period prorated by
  `period_amount`, its days in the description),
- sends it by the staff send's own rules (`issue_invoice`: the number from the
  organization's gap-free sequence, the first-bill portal invite, the email through the
  outbox),
- and records the period in `subscription_periods`, whose unique (subscription_id,
  period_start) makes a period settled once whatever runs at the same time.

A crash anywhere rolls the whole period back (number, invoice, email and record), and the
next run issues it; a run after days or weeks down issues every missed period, in order,
once. Paused subscriptions issue nothing while paused; the periods whose bill date fell
within the pause are recorded as not billed when it is resumed (`skip_paused_periods`).
A period costing nothing is recorded without an invoice. Autopay needs nothing here: the
autopay job charges a subscription's invoice on its due date when the subscription (or its
customer) has autopay on (domain/payments/autopay.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.db_faults import database_unavailable
from core.ids import encode_id
from core.settings import Settings
from domain.audit import system_audit
from domain.billing.invoices import issue_invoice
from domain.billing.lines import LineInput, PricedLine, priced, replace_lines, totals_of
from domain.billing.proration import Period, period_amount, periods
from domain.problems import Rejected
from models import BillingPlan, BillingSubscription, Invoice, Organization, SubscriptionPeriod
from models.calendar import local_today
from models.currency import format_money
from models.db import Database
from models.enums import BillingTiming, LineKind
from models.money import QUANTITY_SCALE
from models.tables import billing_plans, customers, organizations, subscription_periods
from models.tables import subscriptions as subscriptions_table
from models.writes import get_for_update

log = logging.getLogger("portico.billing")

Settled = dict[date, date]  # a subscription's settled periods: start -> end (exclusive)


@dataclass(frozen=True, slots=True)
class Billed:
    """What a subscription's periods are billed by: its plan's and its own terms."""

    plan_name: str
    price: int  # the subscription's own, else the plan's, minor units
    quantity: int
    tax_rate_bp: int
    storage_label: str | None
    timing: BillingTiming
    interval_months: int
    start_date: date
    end_date: date | None
    anchor_day: int

    @classmethod
    def of(cls, plan: BillingPlan, subscription: BillingSubscription) -> Billed:
        own = subscription.custom_unit_price
        return cls(
            plan_name=plan.name,
            price=plan.amount if own is None else own,
            quantity=subscription.quantity,
            tax_rate_bp=plan.tax_rate_bp,
            storage_label=subscription.storage_label,
            timing=plan.timing,
            interval_months=plan.interval_months,
            start_date=subscription.start_date,
            end_date=subscription.end_date,
            anchor_day=subscription.anchor_day,
        )

    def due(self, today: date, settled: Settled) -> list[Period]:
        """The periods billed on or before `today` and not settled, in order.

        A period settled in part (the plan's interval changed since the settled one was
        billed) is billed for the rest of its days, prorated as a partial one: a change of
        plan neither bills days twice nor leaves any out."""
        found = []
        for p in periods(self.start_date, self.anchor_day, self.interval_months, self.end_date):
            end = settled.get(p.start)
            if end is not None and end >= p.end:
                continue  # the usual case: settled as it is
            start, end = p.start, p.end
            for r_start, r_end in sorted(settled.items()):  # cut by what overlaps it
                if r_start <= start < r_end:
                    start = r_end
            for r_start in settled:
                if start < r_start < end:
                    end = r_start
            if start >= end:
                continue
            if (start, end) != (p.start, p.end):
                p = Period(start, end, p.full_start, p.full_end)
            if p.bill_date(self.timing) > today:
                break
            found.append(p)
        return found

    def line(self, p: Period) -> LineInput:
        """The invoice line of one period: price x quantity for a full period, the prorated
        amount (as one unit) for a partial one; its dates (the last included) in the
        description."""
        label = self.storage_label
        name = self.plan_name + (f" ({label})" if label else "")
        kind = LineKind.STORAGE if label else LineKind.OTHER
        dates = f"{p.start.isoformat()} to {(p.end - timedelta(days=1)).isoformat()}"
        if p.is_full:
            quantity = self.quantity * QUANTITY_SCALE
            return LineInput(f"{name}, {dates}", self.price, quantity, kind, None, self.tax_rate_bp)
        amount = period_amount(self.price, self.quantity, p)
        each = f" x {self.quantity}" if self.quantity != 1 else ""
        prorated = f"prorated: {p.days_used} of {p.days_in_period} days"
        description = f"{name}{each}, {dates} ({prorated})"
        return LineInput(description, amount, QUANTITY_SCALE, kind, None, self.tax_rate_bp)

    def priced(self, p: Period) -> list[PricedLine]:
        return priced([self.line(p)], optional_allowed=False)


@dataclass(frozen=True, slots=True)
class DuePeriod:
    """A period to bill: whose, which, and what it comes to."""

    organization_id: uuid.UUID
    subscription_id: uuid.UUID
    customer_name: str
    plan_name: str
    period: Period
    bill_date: date
    total: int  # tax included, minor units of `currency`
    currency: str
    order: tuple[datetime, uuid.UUID]  # the subscription's creation, to number in order

    def __str__(self) -> str:
        p = self.period
        return (
            f"{self.customer_name}: {encode_id('BillingSubscription', self.subscription_id)} "
            f"({self.plan_name}) {p.start.isoformat()} to "
            f"{(p.end - timedelta(days=1)).isoformat()}, billed {self.bill_date.isoformat()}: "
            f"{format_money(self.total, self.currency)}"
        )


@dataclass
class BillingRun:
    """What one run did (or, dry, would do)."""

    issued: list[DuePeriod] = field(default_factory=list)  # in the order numbered
    unbilled: int = 0  # periods costing nothing, recorded without an invoice
    taken: int = 0  # settled meanwhile by another run, or no longer due
    failed: int = 0  # subscriptions whose billing stopped at an error (logged)

    def __str__(self) -> str:
        return (
            f"{len(self.issued)} invoices issued, {self.unbilled} periods costing nothing, "
            f"{self.taken} left to another run, {self.failed} subscriptions failed"
        )


async def bill_due(
    db: Database,
    now: datetime | None = None,
    *,
    on: date | None = None,
    organization_id: uuid.UUID | None = None,
    dry_run: bool = False,
) -> BillingRun:
    """Issue every due period not yet settled: as of `on` (a local date, the same for every
    organization) or else of each organization's today at `now` (default: the present),
    for every organization or the one named. `dry_run` lists them and writes nothing.
    Safe to run in several processes at once, and to repeat."""
    run = BillingRun()
    async with db.connect() as conn:
        stmt = sa.select(organizations.c.id, organizations.c.timezone).where(
            sa.exists().where(subscriptions_table.c.organization_id == organizations.c.id)
        )
        if organization_id is not None:
            stmt = stmt.where(organizations.c.id == organization_id)
        orgs = (await conn.execute(stmt.order_by(organizations.c.id))).all()
    for org_id, timezone in orgs:
        today = on or local_today(timezone, now)
        stopped: set[uuid.UUID] = set()
        for due in await due_periods(db, org_id, today):
            if dry_run:
                run.issued.append(due)
            elif due.subscription_id not in stopped:
                try:
                    await _settle(db, due, today, run)
                except Exception as exc:
                    if database_unavailable(exc):
                        raise  # the jobs loop says so once, without a stack
                    # Nothing meant: the period rolled back whole, and the subscription's
                    # later ones wait for it (in order) until the next run; the other
                    # subscriptions are billed all the same.
                    log.exception(
                        "billing subscription %s stopped at its period from %s; retried next run",
                        due.subscription_id,
                        due.period.start,
                    )
                    stopped.add(due.subscription_id)
                    run.failed += 1
    return run


async def due_periods(db: Database, org_id: uuid.UUID, today: date) -> list[DuePeriod]:
    """The organization's periods billed by `today` and not settled, in the order to number
    them: by bill date, then period, then the subscription's age."""
    subs = subscriptions_table
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    subs,
                    billing_plans.c.name.label("plan_name"),
                    billing_plans.c.amount.label("plan_amount"),
                    billing_plans.c.tax_rate_bp,
                    billing_plans.c.timing,
                    billing_plans.c.interval_months,
                    customers.c.name.label("customer_name"),
                )
                .join(billing_plans, billing_plans.c.id == subs.c.plan_id)
                .join(customers, customers.c.id == subs.c.customer_id)
                .where(
                    subs.c.organization_id == org_id,
                    subs.c.paused_at.is_(None),
                    subs.c.start_date <= today,
                )
            )
        ).mappings()
        rows_list = list(rows)
        settled_rows = await conn.execute(
            sa.select(
                subscription_periods.c.subscription_id,
                subscription_periods.c.period_start,
                subscription_periods.c.period_end,
            ).where(subscription_periods.c.organization_id == org_id)
        )
        settled: dict[uuid.UUID, Settled] = {}
        for sub_id, start, end in settled_rows:
            settled.setdefault(sub_id, {})[start] = end
    found: list[DuePeriod] = []
    for row in rows_list:
        own = row["custom_unit_price"]
        billed = Billed(
            plan_name=row["plan_name"],
            price=row["plan_amount"] if own is None else own,
            quantity=row["quantity"],
            tax_rate_bp=row["tax_rate_bp"],
            storage_label=row["storage_label"],
            timing=BillingTiming(row["timing"]),
            interval_months=row["interval_months"],
            start_date=row["start_date"],
            end_date=row["end_date"],
            anchor_day=row["anchor_day"],
        )
        for p in billed.due(today, settled.get(row["id"], {})):
            try:
                total = totals_of(billed.priced(p)).total
            except Rejected as refused:  # its price x quantity is more than a bill may be
                why = "; ".join(problem.message for problem in refused.problems)
                log.warning("subscription %s cannot be billed: %s", row["id"], why)
                break
            found.append(
                DuePeriod(
                    organization_id=org_id,
                    subscription_id=row["id"],
                    customer_name=row["customer_name"],
                    plan_name=row["plan_name"],
                    period=p,
                    bill_date=p.bill_date(billed.timing),
                    total=total,
                    currency=row["currency"],
                    order=(row["created_at"], row["id"]),
                )
            )
    found.sort(key=lambda d: (d.bill_date, d.period.start, d.order))
    return found


async def _settle(db: Database, due: DuePeriod, today: date, run: BillingRun) -> None:
    try:
        async with db.write() as session:
            outcome = await settle_period(session, db, due, today)
    except sa.exc.IntegrityError:
        # Another run recorded the period between our look and our insert (only possible
        # where the subscription's lock did not hold it off): its transaction wins.
        log.info(
            "period %s of %s was settled by another run", due.period.start, due.subscription_id
        )
        run.taken += 1
        return
    if outcome is None:
        run.taken += 1
    elif outcome:
        run.issued.append(due)
    else:
        run.unbilled += 1


async def issue_subscription_invoice(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    subscription: BillingSubscription,
    lines: list[PricedLine],
    today: date,
) -> tuple[Invoice, bool]:
    """A subscription's invoice of `lines`, dated today and due after its terms, issued by
    the one send path (numbered, emailed); whether it invited the customer to the portal."""
    invoice = Invoice(
        organization_id=org.id,
        customer_id=subscription.customer_id,
        car_id=subscription.car_id,
        currency=subscription.currency,
        issue_date=today,
        due_date=today + timedelta(days=subscription.payment_terms_days),
    )
    session.add(invoice)
    await session.flush()
    await replace_lines(session, invoice, lines)
    invited = await issue_invoice(session, settings, org, invoice, today)
    return invoice, invited


async def settle_period(
    session: AsyncSession, db: Database, due: DuePeriod, today: date
) -> bool | None:
    """In the caller's transaction: issue the period's invoice and record the period. True
    when an invoice was issued, False when the period cost nothing, None when it is no
    longer due to this run (settled by another, paused, its end moved before it)."""
    org_id = due.organization_id
    subscription = await get_for_update(session, BillingSubscription, org_id, due.subscription_id)
    if subscription is None or subscription.paused_at is not None:
        return None
    plan = await session.get(BillingPlan, subscription.plan_id)
    assert plan is not None  # the row's foreign key holds it
    billed = Billed.of(plan, subscription)
    # Looked at again under the lock: the next period to settle must still be this one.
    due_now = billed.due(today, await settled_of(session, subscription.id))
    if not due_now or due_now[0].start != due.period.start:
        return None
    period = due_now[0]
    lines = billed.priced(period)
    invoice_id: uuid.UUID | None = None
    if totals_of(lines).total > 0:
        org = await session.get(Organization, org_id)
        assert org is not None  # the subscription's foreign key holds it
        invoice, invited = await issue_subscription_invoice(
            session, db.settings, org, subscription, lines, today
        )
        session.add(
            system_audit(
                org_id,
                "invoice.sent",
                customer_id=invoice.customer_id,
                subject_type="Invoice",
                subject_id=invoice.id,
                data={
                    "number": invoice.number,
                    "portal_invite": invited,
                    "subscription": encode_id("BillingSubscription", subscription.id),
                    "period_start": period.start.isoformat(),
                },
            )
        )
        invoice_id = invoice.id
    session.add(
        SubscriptionPeriod(
            organization_id=org_id,
            subscription_id=subscription.id,
            period_start=period.start,
            period_end=period.end,
            invoice_id=invoice_id,
            unit_price=billed.price,
            quantity=billed.quantity,
            days_in_period=period.days_in_period,
            terms_from=period.start,
            charged=period_amount(billed.price, billed.quantity, period),
        )
    )
    await session.flush()
    return invoice_id is not None


async def settled_of(session: AsyncSession, subscription_id: uuid.UUID) -> Settled:
    """The subscription's settled periods."""
    found = await session.execute(
        sa.select(subscription_periods.c.period_start, subscription_periods.c.period_end).where(
            subscription_periods.c.subscription_id == subscription_id
        )
    )
    return {start: end for start, end in found}


async def skip_paused_periods(
    session: AsyncSession,
    subscription: BillingSubscription,
    plan: BillingPlan,
    paused_on: date,
    resumed_on: date,
) -> int:
    """On resuming: record as not billed the periods whose bill date fell within the pause
    [paused_on, resumed_on) and that were not settled before it. How many."""
    billed = Billed.of(plan, subscription)
    settled = await settled_of(session, subscription.id)
    skipped = [
        p
        for p in billed.due(resumed_on - timedelta(days=1), settled)
        if p.bill_date(billed.timing) >= paused_on
    ]
    for p in skipped:
        session.add(
            SubscriptionPeriod(
                organization_id=subscription.organization_id,
                subscription_id=subscription.id,
                period_start=p.start,
                period_end=p.end,
            )
        )
    return len(skipped)
