"""Monthly statements: where the organization turns them on (collection settings
`monthly_statements`, `statement_day`), each customer with activity or a balance is emailed
the statement of the previous calendar month.

A run looks at each organization that has them on and, from its statement day (1-28, a
local day of its time zone) to the end of the month, at its customers (not archived) with
a billed invoice in its currency issued by the end of last month, whose month is not
settled yet. Each customer is settled in a transaction of its own, which

- locks the customer and looks again (settled meanwhile by another run: nothing),
- reads the statement of last month (domain/billing/statements.py, the statement of
  `Customer.statement` and `sendStatement`),
- when it has entries or a closing balance other than zero, queues the same email as
  `sendStatement` to the same people (those who get invoice emails: mail/recipients.py),
- and records the month in `monthly_statements`, whose unique (customer_id, month) makes
  it happen once whatever runs at the same time; a customer with nothing to say is
  recorded too (no email), so a later run does not read their ledger again.

A crash anywhere rolls the customer's month back, emails and record, and the next run does
it once. After downtime the statement still goes, later in the month; a month whose
statement day was missed entirely (down for the whole rest of the month) is not sent in
the next one, which has its own.
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
from domain.billing.statement_mail import load_statement, queue_statement
from mail.recipients import recipients
from models import Customer, MonthlyStatement, Organization
from models.calendar import local_today
from models.db import Database
from models.derived import NOT_BILLED
from models.enums import MailKind
from models.tables import (
    collection_settings,
    customers,
    invoices,
    monthly_statements,
    organizations,
)
from models.writes import get_for_update

log = logging.getLogger("portico.statements")


def statement_month(today: date, statement_day: int) -> tuple[date, date] | None:
    """The month whose statement goes on `today` (its first and last day), or None before
    the month's statement day."""
    if today.day < statement_day:
        return None
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


@dataclass(frozen=True, slots=True)
class MonthDue:
    """A customer whose statement of `month` is to be settled."""

    organization_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    month: date  # its first day
    month_end: date

    def __str__(self) -> str:
        who = encode_id("Customer", self.customer_id)
        return f"{self.customer_name} ({who}): statement of {self.month.strftime('%Y-%m')}"


@dataclass
class StatementRun:
    """What one run did (or, dry, would look at)."""

    sent: list[MonthDue] = field(default_factory=list)  # emailed
    quiet: int = 0  # no activity and no balance, or nobody gets invoice emails: recorded only
    taken: int = 0  # settled meanwhile by another run
    failed: int = 0  # stopped at an error (logged)

    def __str__(self) -> str:
        return (
            f"{len(self.sent)} statements emailed, {self.quiet} customers with nothing to "
            f"send, {self.taken} left to another run, {self.failed} failed"
        )


async def send_monthly_statements(
    db: Database,
    now: datetime | None = None,
    *,
    on: date | None = None,
    organization_id: uuid.UUID | None = None,
    dry_run: bool = False,
) -> StatementRun:
    """Email last month's statements due: as of `on` (a local date, the same for every
    organization) or else of each organization's today at `now` (default: the present), for
    every organization that has monthly statements on or the one named. `dry_run` lists the
    customers whose month would be settled and writes nothing. Safe to run in several
    processes at once, and to repeat."""
    run = StatementRun()
    async with db.connect() as conn:
        stmt = (
            sa.select(
                organizations.c.id, organizations.c.timezone, collection_settings.c.statement_day
            )
            .join(collection_settings, collection_settings.c.organization_id == organizations.c.id)
            .where(collection_settings.c.monthly_statements.is_(True))
        )
        if organization_id is not None:
            stmt = stmt.where(organizations.c.id == organization_id)
        orgs = (await conn.execute(stmt.order_by(organizations.c.id))).all()
    for org_id, timezone, statement_day in orgs:
        month = statement_month(on or local_today(timezone, now), statement_day)
        if month is None:
            continue
        for due in await months_due(db, org_id, *month):
            if dry_run:
                run.sent.append(due)
                continue
            try:
                await _settle(db, due, run)
            except Exception as exc:
                if database_unavailable(exc):
                    raise  # the jobs loop says so once, without a stack
                # Nothing meant: the customer's month rolled back whole; tried again next run.
                log.exception("statement of customer %s stopped; retried next run", due.customer_id)
                run.failed += 1
    return run


async def months_due(
    db: Database, org_id: uuid.UUID, month: date, month_end: date
) -> list[MonthDue]:
    """The organization's customers who may have a statement of `month` and whose month is
    not settled, by name."""
    org_currency = (
        sa.select(organizations.c.currency).where(organizations.c.id == org_id).scalar_subquery()
    )
    billed = sa.exists().where(
        invoices.c.organization_id == org_id,
        invoices.c.customer_id == customers.c.id,
        invoices.c.currency == org_currency,
        invoices.c.status.not_in(NOT_BILLED),
        invoices.c.issue_date.is_not(None),
        invoices.c.issue_date <= month_end,
    )
    settled = sa.exists().where(
        monthly_statements.c.customer_id == customers.c.id,
        monthly_statements.c.month == month,
    )
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(customers.c.id, customers.c.name)
            .where(
                customers.c.organization_id == org_id,
                customers.c.archived_at.is_(None),
                billed,
                ~settled,
            )
            .order_by(customers.c.name, customers.c.id)
        )
        return [MonthDue(org_id, cid, name, month, month_end) for cid, name in rows]


async def _settle(db: Database, due: MonthDue, run: StatementRun) -> None:
    try:
        async with db.write() as session:
            done = await settle_month(session, db.settings, due)
    except sa.exc.IntegrityError:
        # Another run recorded the month between our look and our insert: it wins.
        log.info("statement of customer %s was settled by another run", due.customer_id)
        run.taken += 1
        return
    if done is None:
        run.taken += 1
    elif done:
        run.sent.append(due)
    else:
        run.quiet += 1


async def settle_month(session: AsyncSession, settings: Settings, due: MonthDue) -> bool | None:
    """In the caller's transaction: email the customer's statement of the month if it has
    anything to say, and record the month. True when emailed, False when recorded without
    an email, None when another run settled it first."""
    customer = await get_for_update(session, Customer, due.organization_id, due.customer_id)
    if customer is None:
        return None
    done = await session.scalar(
        sa.select(sa.func.count()).where(
            monthly_statements.c.customer_id == customer.id,
            monthly_statements.c.month == due.month,
        )
    )
    if done:
        return None
    org = await session.get(Organization, due.organization_id)
    assert org is not None  # the customer's foreign key holds it
    statement = await load_statement(session, org, customer.id, due.month, due.month_end)
    to = []
    if statement.entries or statement.closing != 0:
        to = await recipients(session, customer.id, MailKind.INVOICES)
        if to:
            await queue_statement(session, settings, org, statement, to)
            session.add(
                system_audit(
                    org.id,
                    "customer.statement_sent",
                    customer_id=customer.id,
                    subject_type="Customer",
                    subject_id=customer.id,
                    data={
                        "from": due.month.isoformat(),
                        "to": due.month_end.isoformat(),
                        "closing": statement.closing,
                        "recipients": len(to),
                        "monthly": True,
                    },
                )
            )
    session.add(
        MonthlyStatement(
            organization_id=org.id,
            customer_id=customer.id,
            month=due.month,
            currency=org.currency,
            closing=statement.closing,
            entries=len(statement.entries),
            recipients=len(to),
        )
    )
    await session.flush()  # the unique key answers here, inside the transaction
    return bool(to)
