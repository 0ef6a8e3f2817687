"""The collector: each organization's payment reminders and late fees, as they come due.

Each run looks at the open invoices with money due (`amount_due`, the one SQL definition
of models/derived.py: a paid, void or fully credited invoice has nothing due and is never
chased) whose customer's collection is not paused, works out on the organization's
calendar which reminder step and which late-fee period are due today (domain/collections/
rules.py, with its catch-up rule: the latest only, never a burst), and settles each in a
transaction of its own, which

- locks the invoice and looks again (paid meanwhile, voided, paused: nothing),
- queues the reminder's emails through the outbox by the invoice emails' rules (billing
  contacts yes, drivers no; the pay link where card payments are on), or charges the fee
  (its own invoice, issued and sent like any other, or a line waiting for the customer's
  next invoice),
- and records it in `invoice_reminders` / `late_fees`, whose unique (invoice, step) and
  (invoice, period) make it happen once whatever runs at the same time.

A crash anywhere rolls the whole step back, email and record, and the next run does it once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.db_faults import database_unavailable
from core.ids import encode_id
from domain.audit import system_audit
from domain.billing.invoices import issue_invoice
from domain.billing.late_fee_lines import add_fee_line, fee_description
from domain.billing_mail import remind_customer_of_invoice
from domain.collections.rules import (
    FeeRule,
    chased_steps,
    due_step,
    fee_amount,
    fee_base,
    fee_period,
    step_date,
)
from domain.collections.settings import fee_rule, offsets_of, read_settings, settings_of
from domain.payments.autopay import charged_by_autopay
from models import Customer, Invoice, InvoiceReminder, LateFee, Organization
from models.calendar import local_today
from models.currency import format_money
from models.db import Database
from models.derived import NOT_BILLED, amount_due
from models.enums import LateFeeTarget
from models.tables import customers, invoice_reminders, invoices, late_fees, organizations
from models.writes import get_for_update

log = logging.getLogger("portico.collections")


@dataclass(frozen=True, slots=True)
class Chase:
    """One thing to do for an invoice today: a reminder step, or a late-fee period."""

    organization_id: uuid.UUID
    invoice_id: uuid.UUID
    number: int | None
    customer_name: str
    currency: str
    amount_due: int
    step: int | None = None  # a reminder at this step
    on: date | None = None  # the step's day
    period: int | None = None  # a late fee for this period
    fee: int = 0  # its amount, as worked out now

    def __str__(self) -> str:
        what = encode_id("Invoice", self.invoice_id)
        owed = format_money(self.amount_due, self.currency)
        head = f"{self.customer_name}: invoice #{self.number} ({what}), {owed} due"
        if self.step is not None:
            assert self.on is not None
            return f"{head}: reminder at step {self.step:+d} ({self.on.isoformat()})"
        return f"{head}: late fee {format_money(self.fee, self.currency)} (period {self.period})"


@dataclass
class CollectionRun:
    """What one run did (or, dry, would do)."""

    reminded: list[Chase] = field(default_factory=list)
    charged: list[Chase] = field(default_factory=list)
    taken: int = 0  # done meanwhile by another run, or no longer due
    failed: int = 0  # steps stopped at an error (logged)

    def __str__(self) -> str:
        return (
            f"{len(self.reminded)} reminders sent, {len(self.charged)} late fees charged, "
            f"{self.taken} left to another run, {self.failed} failed"
        )


async def collect(
    db: Database,
    now: datetime | None = None,
    *,
    on: date | None = None,
    organization_id: uuid.UUID | None = None,
    dry_run: bool = False,
) -> CollectionRun:
    """Send the reminders and charge the late fees due: as of `on` (a local date, the same
    for every organization) or else of each organization's today at `now` (default: the
    present), for every organization or the one named. `dry_run` lists them and writes
    nothing. Safe to run in several processes at once, and to repeat."""
    run = CollectionRun()
    async with db.connect() as conn:
        stmt = sa.select(organizations.c.id, organizations.c.timezone).where(
            sa.exists().where(
                invoices.c.organization_id == organizations.c.id,
                invoices.c.status.not_in(NOT_BILLED),
            )
        )
        if organization_id is not None:
            stmt = stmt.where(organizations.c.id == organization_id)
        orgs = (await conn.execute(stmt.order_by(organizations.c.id))).all()
    for org_id, timezone in orgs:
        today = on or local_today(timezone, now)
        for chase in await due_chases(db, org_id, today):
            if dry_run:
                (run.reminded if chase.step is not None else run.charged).append(chase)
                continue
            try:
                await _settle(db, chase, today, run)
            except Exception as exc:
                if database_unavailable(exc):
                    raise  # the jobs loop says so once, without a stack
                # Nothing meant: the step rolled back whole and is tried again next run.
                log.exception("collecting invoice %s stopped; retried next run", chase.invoice_id)
                run.failed += 1
    return run


async def due_chases(db: Database, org_id: uuid.UUID, today: date) -> list[Chase]:
    """The organization's reminders and late fees due `today`, by invoice number."""
    due = amount_due(invoices)
    chased = sa.and_(
        invoices.c.organization_id == org_id,
        invoices.c.due_date.is_not(None),
        due > 0,
        customers.c.collection_paused_at.is_(None),
    )
    chased_ids = (
        sa.select(invoices.c.id)
        .join(customers, customers.c.id == invoices.c.customer_id)
        .where(chased)
        .scalar_subquery()
    )
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    invoices.c.id,
                    invoices.c.number,
                    invoices.c.currency,
                    invoices.c.due_date,
                    due.label("amount_due"),
                    customers.c.name.label("customer_name"),
                    charged_by_autopay().label("autopay"),
                )
                .join(customers, customers.c.id == invoices.c.customer_id)
                .where(chased)
                .order_by(invoices.c.number, invoices.c.id)
            )
        ).all()
        # Only what concerns the invoices chased now: history does not slow the run down.
        sent: dict[uuid.UUID, set[int]] = {}
        for invoice_id, step in await conn.execute(
            sa.select(invoice_reminders.c.invoice_id, invoice_reminders.c.step).where(
                invoice_reminders.c.invoice_id.in_(chased_ids)
            )
        ):
            sent.setdefault(invoice_id, set()).add(step)
        fees: dict[uuid.UUID, dict[int, int]] = {}
        carried: dict[uuid.UUID, int] = {}
        for invoice_id, period, amount, fee_invoice_id in await conn.execute(
            sa.select(
                late_fees.c.invoice_id,
                late_fees.c.period,
                late_fees.c.amount,
                late_fees.c.fee_invoice_id,
            ).where(
                sa.or_(
                    late_fees.c.invoice_id.in_(chased_ids),
                    late_fees.c.fee_invoice_id.in_(chased_ids),
                )
            )
        ):
            fees.setdefault(invoice_id, {})[period] = amount
            if fee_invoice_id is not None:
                carried[fee_invoice_id] = carried.get(fee_invoice_id, 0) + amount
        settings = await read_settings(conn, org_id)
    offsets, rule = offsets_of(settings), fee_rule(settings)
    found: list[Chase] = []
    for row in rows:
        common = {
            "organization_id": org_id,
            "invoice_id": row.id,
            "number": row.number,
            "customer_name": row.customer_name,
            "currency": row.currency,
            "amount_due": row.amount_due,
        }
        steps = chased_steps(offsets, bool(row.autopay))
        step = due_step(steps, row.due_date, today, sent.get(row.id, set()))
        if step is not None:
            found.append(Chase(**common, step=step, on=step_date(row.due_date, step)))
        charged = fees.get(row.id, {})
        period = _fee_period(rule, row.due_date, today, charged)
        if period is not None:
            base = fee_base(
                row.amount_due, carried.get(row.id, 0), sum(charged.values()), rule.compounds
            )
            amount = fee_amount(rule, base)
            if amount > 0:
                found.append(Chase(**common, period=period, fee=amount))
    return found


def _fee_period(rule: FeeRule, due_date: date, today: date, charged: dict[int, int]) -> int | None:
    """Today's fee period, by the catch-up rule: the latest reached, unless it or a later one
    was charged already."""
    period = fee_period(rule, due_date, today)
    if period is None or any(p >= period for p in charged):
        return None
    return period


async def _settle(db: Database, chase: Chase, today: date, run: CollectionRun) -> None:
    try:
        async with db.write() as session:
            if chase.step is not None:
                done = await send_reminder(session, db, chase, today)
            else:
                done = await charge_late_fee(session, db, chase, today)
    except sa.exc.IntegrityError:
        # Another run recorded the same step between our look and our insert: it wins.
        log.info("invoice %s was collected by another run", chase.invoice_id)
        run.taken += 1
        return
    if done is None:
        run.taken += 1
    elif chase.step is not None:
        run.reminded.append(chase)
    else:
        run.charged.append(done)


async def _still_due(
    session: AsyncSession, chase: Chase
) -> tuple[Invoice, Organization, int] | None:
    """Under the invoice's lock: the invoice, its organization and what is due on it, while
    money is due and the customer's collection is not paused."""
    invoice = await get_for_update(session, Invoice, chase.organization_id, chase.invoice_id)
    if invoice is None:
        return None
    due = await session.scalar(sa.select(amount_due(invoices)).where(invoices.c.id == invoice.id))
    customer = await session.get(Customer, invoice.customer_id)
    if not due or customer is None or customer.collection_paused_at is not None:
        return None
    org = await session.get(Organization, invoice.organization_id)
    assert org is not None  # the invoice's foreign key holds it
    return invoice, org, int(due)


async def send_reminder(
    session: AsyncSession, db: Database, chase: Chase, today: date
) -> Chase | None:
    """In the caller's transaction: queue the reminder's emails and record the step; None
    when it is no longer due."""
    found = await _still_due(session, chase)
    if found is None or chase.step is None:
        return None
    invoice, org, due = found
    settings = await settings_of(session, org.id)
    assert invoice.due_date is not None  # chased invoices have one
    sent = set(
        (
            await session.execute(
                sa.select(invoice_reminders.c.step).where(
                    invoice_reminders.c.invoice_id == invoice.id
                )
            )
        ).scalars()
    )
    autopay = await session.scalar(
        sa.select(charged_by_autopay()).where(invoices.c.id == invoice.id)
    )
    steps = chased_steps(offsets_of(settings), bool(autopay))
    if due_step(steps, invoice.due_date, today, sent) != chase.step:
        return None
    # Worded by the day it is sent: after downtime that can be later than the step's day.
    days = (today - invoice.due_date).days
    queued = await remind_customer_of_invoice(session, db.settings, org, invoice, days, due)
    session.add(
        InvoiceReminder(
            organization_id=org.id,
            invoice_id=invoice.id,
            step=chase.step,
            step_date=step_date(invoice.due_date, chase.step),
            recipients=queued,
        )
    )
    await session.flush()  # the unique key answers here, inside the transaction
    return chase


async def charge_late_fee(
    session: AsyncSession, db: Database, chase: Chase, today: date
) -> Chase | None:
    """In the caller's transaction: charge the fee and record it; None when it is no longer
    due (or comes to nothing)."""
    found = await _still_due(session, chase)
    if found is None:
        return None
    invoice, org, due = found
    assert invoice.due_date is not None  # chased invoices have one
    settings = await settings_of(session, org.id)
    rule = fee_rule(settings)
    charged = {
        period: amount
        for period, amount in await session.execute(
            sa.select(late_fees.c.period, late_fees.c.amount).where(
                late_fees.c.invoice_id == invoice.id
            )
        )
    }
    period = _fee_period(rule, invoice.due_date, today, charged)
    if period is None or period != chase.period:
        return None
    carried = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(late_fees.c.amount), 0)).where(
            late_fees.c.fee_invoice_id == invoice.id
        )
    )
    base = fee_base(due, int(carried or 0), sum(charged.values()), rule.compounds)
    amount = fee_amount(rule, base)
    if amount <= 0:
        return None
    fee = LateFee(
        organization_id=org.id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        period=period,
        amount=amount,
        currency=invoice.currency,
        base=base,
        charged_on=today,
    )
    session.add(fee)
    await session.flush()  # the unique key answers here, before any invoice is made
    if settings.late_fee_target is LateFeeTarget.OWN_INVOICE:
        own = Invoice(
            organization_id=org.id,
            customer_id=invoice.customer_id,
            car_id=invoice.car_id,
            currency=invoice.currency,
            issue_date=today,  # due after the organization's terms, chased by its own steps
        )
        session.add(own)
        await session.flush()
        fee.fee_line_id = await add_fee_line(
            session, own, fee_description(invoice.number, period), amount
        )
        fee.fee_invoice_id = own.id
        await session.flush()
        await issue_invoice(session, db.settings, org, own, today)
    session.add(
        system_audit(
            org.id,
            "invoice.late_fee_charged",
            customer_id=invoice.customer_id,
            subject_type="Invoice",
            subject_id=invoice.id,
            data={
                "amount": amount,
                "currency": invoice.currency,
                "period": period,
                "fee_invoice": encode_id("Invoice", fee.fee_invoice_id)
                if fee.fee_invoice_id
                else None,
            },
        )
    )
    return Chase(
        organization_id=chase.organization_id,
        invoice_id=chase.invoice_id,
        number=chase.number,
        customer_name=chase.customer_name,
        currency=chase.currency,
        amount_due=due,
        period=period,
        fee=amount,
    )
