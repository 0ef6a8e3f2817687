"""Staff email a customer's statement to the people who get invoice emails (a billing
contact yes, a driver no: mail/recipients.py), through the outbox in the same transaction,
audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.billing.statements import (
    Statement,
    check_range,
    describe,
    ledger_queries,
    movements_of,
    statement_of,
)
from domain.problems import Problem, Rejected
from domain.rows import locked, organization_of
from domain.work import Work
from mail.outbox import enqueue_to
from mail.recipients import Recipient, recipients
from models import Customer, Organization
from models.currency import format_money
from models.enums import MailKind


async def send_statement(work: Work, customer_id: uuid.UUID, start: date, end: date) -> uuid.UUID:
    """Queue the statement from `start` to `end` for the customer's invoice recipients."""
    org_id = organization_of(work)
    if not work.viewer.is_staff:
        raise Rejected(Problem(None, "Only staff send statements."))
    check_range(start, end)
    async with work.write() as session:
        customer = await locked(session, Customer, org_id, customer_id)
        org = await session.get(Organization, org_id)
        assert org is not None
        statement = await load_statement(session, org, customer.id, start, end)
        to = await recipients(session, customer.id, MailKind.INVOICES)
        if not to:
            raise Rejected(
                Problem(
                    "customerId",
                    "Nobody on this account gets invoice emails.",
                    BillingCode.NO_RECIPIENTS,
                )
            )
        await queue_statement(session, work.settings, org, statement, to)
        session.add(
            audit(
                work,
                "customer.statement_sent",
                customer_id=customer.id,
                subject_type="Customer",
                subject_id=customer.id,
                data={
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "closing": statement.closing,
                    "recipients": len(to),
                },
            )
        )
    return customer.id


async def load_statement(
    session: AsyncSession, org: Organization, customer_id: uuid.UUID, start: date, end: date
) -> Statement:
    """The customer's statement from `start` to `end` in the organization's currency, read
    in the caller's transaction."""
    queries = ledger_queries(org.id, customer_id, org.currency, end)
    rows = {name: (await session.execute(q)).mappings().all() for name, q in queries.items()}
    return statement_of(movements_of(rows, org.timezone), start, end, org.currency)


async def queue_statement(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    statement: Statement,
    to: Sequence[Recipient],
) -> None:
    """Put the statement's email to `to` in the outbox, in the caller's transaction: the
    one email of statements, sent on request and monthly."""
    start, end = statement.start, statement.end

    def money(amount: int) -> str:
        return format_money(amount, org.currency)

    paragraphs = [
        f"Here is your statement from {org.name} for {start.isoformat()} to {end.isoformat()}.",
        f"Opening balance: {money(statement.opening)}.",
        *(
            f"{e.movement.day.isoformat()}  {describe(e.movement)}  "
            f"{money(e.movement.amount)}  (balance {money(e.balance)})"
            for e in statement.entries
        ),
        f"Closing balance: {money(statement.closing)}.",
        "You can see it and download it as a PDF in your customer portal.",
    ]
    link = f"{settings.portal_base}/invoices?statementFrom={start}&statementTo={end}"
    subject = f"Your statement from {org.name}"
    await enqueue_to(
        session, org, MailKind.INVOICES, to, subject, paragraphs, ("View statement", link)
    )
