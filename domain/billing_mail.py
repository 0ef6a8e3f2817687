"""Emails and notifications about bills and payments, by each person's preferences.

Who gets which email is decided in `mail/recipients.py`: invoices and estimates go to the
customer and the contacts who want that kind; receipts go to the payer whatever they chose.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from auth.pay_links import pay_link_url
from core.settings import Settings
from domain.notifications import for_customer
from mail.outbox import enqueue_to
from mail.recipients import Recipient, recipients
from mail.texts import text_people, text_recipients
from models import Estimate, Invoice, Organization, PortalSettings
from models.currency import format_money
from models.enums import MailKind, NotificationKind, TextKind
from payments.requests import online_payments_open


@dataclass(frozen=True, slots=True)
class BillNews:
    """How one kind of bill is announced to the customer."""

    mail: MailKind  # its kind decides who gets it
    notification: NotificationKind
    button: str
    page: str


INVOICE_NEWS = BillNews(MailKind.INVOICES, NotificationKind.INVOICE_NEW, "View invoice", "invoices")
ESTIMATE_NEWS = BillNews(
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
    button: tuple[str, str] | None = None,
) -> None:
    to = await recipients(session, bill.customer_id, news.mail)
    button = button or (news.button, f"{settings.portal_base}/{news.page}")
    await enqueue_to(session, org, news.mail, to, subject, paragraphs, button)
    session.add(for_customer(org, bill.customer_id, news.notification, subject, bill))


async def notify_customer_of_invoice(
    session: AsyncSession, settings: Settings, org: Organization, invoice: Invoice
) -> None:
    total = format_money(invoice.total, invoice.currency)
    due = invoice.due_date.isoformat() if invoice.due_date else "receipt"
    paragraphs = [
        f"{org.name} has sent you invoice #{invoice.number} for {total}, due on {due}.",
        "You can see the details, download it and pay it in your customer portal.",
    ]
    button = await _pay_button(session, settings, org, invoice, paragraphs)
    subject = f"Invoice #{invoice.number} from {org.name}"
    await _announce(session, settings, org, invoice, INVOICE_NEWS, subject, paragraphs, button)
    if button is not None:
        news = f"{org.name}: invoice #{invoice.number} for {total}, due on {due}."
        await _text_pay_link(session, settings, org, invoice, news, button[1])


async def _pay_button(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    invoice: Invoice,
    paragraphs: list[str],
) -> tuple[str, str] | None:
    """Where the organization takes card payments: the invoice's pay link as the button."""
    if not online_payments_open(org, await session.get(PortalSettings, org.id)):
        return None
    # The link pays this invoice only, without signing in (auth/pay_links.py).
    paragraphs.append("Or pay it now by card with the link below, without signing in.")
    return ("Pay invoice", pay_link_url(settings, org.id, invoice.id))


async def _text_pay_link(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    invoice: Invoice,
    news: str,
    url: str,
) -> None:
    """The pay link by text too, to those of the invoice's people who chose it."""
    to = await text_recipients(session, invoice.customer_id, TextKind.PAY_LINKS, MailKind.INVOICES)
    label = f"Pay link for invoice #{invoice.number}"
    await text_people(session, settings, org.id, to, MailKind.INVOICES, label, f"{news} Pay: {url}")


def _when(step: int) -> str:
    if step < 0:
        return f"is due in {-step} day{'s' if step != -1 else ''}"
    if step == 0:
        return "is due today"
    return f"is {step} day{'s' if step != 1 else ''} overdue"


async def remind_customer_of_invoice(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    invoice: Invoice,
    days: int,
    amount_due: int,
) -> int:
    """A payment reminder `days` from the due date (negative: before it; the day it is
    sent, which after downtime may be later than its step), to the people who get invoice
    emails (a billing contact yes, a driver no), with the pay link where card payments are
    on. How many emails were queued."""
    due = format_money(amount_due, invoice.currency)
    day = invoice.due_date.isoformat() if invoice.due_date else "receipt"
    paragraphs = [
        f"Invoice #{invoice.number} from {org.name} {_when(days)}: {due} remains to pay "
        f"(due on {day}).",
        "You can see it and pay it in your customer portal. If you have paid it already, "
        "thank you, and please ignore this reminder.",
    ]
    button = await _pay_button(session, settings, org, invoice, paragraphs)
    if button is not None:
        news = f"{org.name}: invoice #{invoice.number} {_when(days)}; {due} remains to pay."
        await _text_pay_link(session, settings, org, invoice, news, button[1])
    button = button or (INVOICE_NEWS.button, f"{settings.portal_base}/{INVOICE_NEWS.page}")
    to = await recipients(session, invoice.customer_id, MailKind.INVOICES)
    subject = f"Reminder: invoice #{invoice.number} from {org.name} {_when(days)}"
    await enqueue_to(session, org, MailKind.INVOICES, to, subject, paragraphs, button)
    return len(to)


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
    await enqueue_to(session, org, MailKind.RECEIPT, [payer], subject, paragraphs)
