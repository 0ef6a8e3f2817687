"""Emails and notifications about bills and payments, by each person's preferences.

Invoices and estimates go to the customer and to contacts who want that kind of email and
whose portal scope covers billing; receipts go to the payer whatever their preferences.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from mail.outbox import enqueue
from mail.templates import branded
from models import Contact, Customer, Estimate, Invoice, Notification, Organization
from models.currency import format_money
from models.enums import MailKind, NotificationKind, PortalScope
from portico.settings import Settings

customers: sa.Table = Customer.__table__  # type: ignore[attr-defined]
contacts: sa.Table = Contact.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str


def one_line(text: str) -> str:
    """Names go into subjects: no line breaks, which would break the header."""
    return " ".join(text.split())


async def bill_recipients(
    session: AsyncSession, customer_id: uuid.UUID, wants: str, *, drivers: bool = False
) -> list[Recipient]:
    """The customer and its contacts who want `wants` emails (e.g. "wants_invoices");
    contacts scoped to some cars (drivers) only with `drivers`."""
    own = sa.select(customers.c.name, customers.c.email).where(
        customers.c.id == customer_id,
        customers.c.archived_at.is_(None),
        customers.c[wants].is_(True),
        customers.c.email.is_not(None),
    )
    others = sa.select(contacts.c.name, contacts.c.email).where(
        contacts.c.customer_id == customer_id,
        contacts.c.archived_at.is_(None),
        contacts.c[wants].is_(True),
        contacts.c.email.is_not(None),
    )
    if not drivers:
        others = others.where(contacts.c.portal_scope != PortalScope.CARS)
    found = await session.execute(sa.union_all(own, others))
    seen: set[str] = set()
    people = []
    for name, email in found.all():
        if email.lower() not in seen:
            seen.add(email.lower())
            people.append(Recipient(name=name, email=email))
    return people


async def send_to(
    session: AsyncSession,
    org: Organization,
    kind: MailKind,
    to: list[Recipient],
    subject: str,
    paragraphs: list[str],
    button: tuple[str, str] | None,
) -> None:
    for person in to:
        text, html = branded(
            org.model_dump(),
            subject=subject,
            heading=subject,
            paragraphs=[f"Hello {one_line(person.name)},", *paragraphs],
            button=button,
        )
        await enqueue(
            session,
            kind=kind,
            to=person.email,
            subject=one_line(subject)[:300],
            text=text,
            html=html,
            organization_id=org.id,
        )


def _customer_notification(
    org: Organization, customer_id: uuid.UUID, kind: NotificationKind, title: str, subject: Any
) -> Notification:
    return Notification(
        organization_id=org.id,
        kind=kind,
        recipient_customer_id=customer_id,
        subject_type=type(subject).__name__,
        subject_id=subject.id,
        title=one_line(title)[:200],
    )


@dataclass(frozen=True, slots=True)
class BillNews:
    """How one kind of bill is announced to the customer."""

    preference: str  # the contact column that says they want it
    mail: MailKind
    notification: NotificationKind
    button: str
    page: str


INVOICE_NEWS = BillNews(
    "wants_invoices", MailKind.INVOICES, NotificationKind.INVOICE_NEW, "View invoice", "invoices"
)
ESTIMATE_NEWS = BillNews(
    "wants_estimates",
    MailKind.ESTIMATES,
    NotificationKind.ESTIMATE_NEW,
    "Review estimate",
    "estimates",
)


async def _announce(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    bill: Invoice | Estimate,
    news: BillNews,
    subject: str,
    paragraphs: list[str],
) -> None:
    to = await bill_recipients(session, bill.customer_id, news.preference)
    button = (news.button, f"{settings.portal_base}/{news.page}")
    await send_to(session, org, news.mail, to, subject, paragraphs, button)
    session.add(_customer_notification(org, bill.customer_id, news.notification, subject, bill))


async def notify_customer_of_invoice(
    session: AsyncSession, settings: Settings, org: Organization, invoice: Invoice
) -> None:
    total = format_money(invoice.total, invoice.currency)
    due = invoice.due_date.isoformat() if invoice.due_date else "receipt"
    paragraphs = [
        f"{org.name} has sent you invoice #{invoice.number} for {total}, due on {due}.",
        "You can see the details, download it and pay it in your customer portal.",
    ]
    subject = f"Invoice #{invoice.number} from {org.name}"
    await _announce(session, settings, org, invoice, INVOICE_NEWS, subject, paragraphs)


async def notify_customer_of_estimate(
    session: AsyncSession, settings: Settings, org: Organization, estimate: Estimate
) -> None:
    total = format_money(estimate.total, estimate.currency)
    until = estimate.valid_until
    valid = f" It is valid until {until.isoformat()}." if until else ""
    paragraphs = [
        f"{org.name} has prepared estimate #{estimate.number} for you, totalling {total}.{valid}",
        "You can review it line by line and approve or decline it in your customer portal.",
    ]
    subject = f"Estimate #{estimate.number} from {org.name}"
    await _announce(session, settings, org, estimate, ESTIMATE_NEWS, subject, paragraphs)


async def send_receipt(
    session: AsyncSession,
    org: Organization,
    payer: Recipient,
    amount: int,
    currency: str,
    what: str,
) -> None:
    """A receipt for a payment the person made: sent whatever their preferences."""
    subject = f"Receipt from {org.name}"
    paragraphs = [
        f"Thank you: we received your payment of {format_money(amount, currency)} for {what}."
    ]
    await send_to(session, org, MailKind.RECEIPT, [payer], subject, paragraphs, None)
