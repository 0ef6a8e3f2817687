"""Autopay: open invoices of customers who turned it on, and those of subscriptions with
autopay on, are charged to the customer's default card on their due date (in the
organization's time zone).

Each invoice is charged at most once however often this runs: its AutopayCharge row is
written (unique per invoice) before Stripe is asked, and Stripe is asked with a key derived
from that row, so a run that dies half-way is finished by the next one, never repeated.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.notifications import for_customer, notify_staff
from domain.payments.stripe_events import apply_success, settlement_of_request
from mail.outbox import enqueue
from mail.templates import branded
from models import (
    AutopayCharge,
    Customer,
    Invoice,
    Organization,
    PortalSettings,
    SavedPaymentMethod,
)
from models.base import dialect_of
from models.calendar import local_today
from models.currency import format_money
from models.db import Database
from models.enums import AutopayStatus, InvoiceStatus, MailKind, NotificationKind
from models.money import amount_due
from models.tables import autopay_charges as charges
from models.tables import customers, invoices, organizations, subscriptions
from models.tables import portal_settings as options_table
from models.tables import subscription_periods as periods
from models.types import utcnow
from payments.requests import (
    Allocation,
    SavedCard,
    encode_allocations,
    idempotency_key,
    request_payment,
)
from payments.stripe_api import ProviderRejected, ProviderUnavailable

log = logging.getLogger("portico.autopay")


@dataclass
class AutopayRun:
    charged: int = 0
    failed: int = 0
    postponed: int = 0  # Stripe unreachable: the next run finishes them


def autopay_allowed(organization_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """The organization lets autopay charge: autopay and online payment allowed in its
    portal settings, and its Stripe account connected and able to charge."""
    # Aliases: the rule stays whole inside a statement that reads these tables itself.
    options, org = options_table.alias("autopay_options"), organizations.alias("autopay_org")
    allowed = sa.exists().where(
        options.c.organization_id == organization_id,
        options.c.allow_autopay.is_(True),
        options.c.allow_online_payment.is_(True),
    )
    connected = sa.exists().where(
        org.c.id == organization_id,
        org.c.stripe_account_id.is_not(None),
        org.c.stripe_charges_enabled.is_(True),
    )
    return sa.and_(allowed, connected)


def charged_by_autopay() -> ColumnElement[bool]:
    """An invoice this job charges on its due date: its organization allows autopay, and
    its customer turned autopay on or it was billed for a subscription with autopay on.
    Collections read the same rule: no "due soon" reminder for what will be charged."""
    customer = customers.alias("autopay_customer")
    by_customer = sa.exists().where(
        customer.c.id == invoices.c.customer_id, customer.c.autopay_enabled.is_(True)
    )
    by_subscription = sa.exists().where(
        periods.c.invoice_id == invoices.c.id,
        subscriptions.c.id == periods.c.subscription_id,
        subscriptions.c.autopay.is_(True),
    )
    return sa.and_(
        autopay_allowed(invoices.c.organization_id), sa.or_(by_customer, by_subscription)
    )


async def run_autopay(db: Database, now: datetime | None = None) -> AutopayRun:
    run = AutopayRun()
    async with db.connect() as conn:
        orgs = (
            await conn.execute(
                sa.select(organizations.c.id, organizations.c.timezone).where(
                    autopay_allowed(organizations.c.id)
                )
            )
        ).all()
    for org_id, timezone in orgs:
        for invoice_id in await _due(db, org_id, local_today(timezone, now)):
            await _charge(db, org_id, invoice_id, run)
    return run


async def _due(db: Database, org_id: uuid.UUID, today: object) -> list[uuid.UUID]:
    """Invoices due by today whose customer (or subscription) has autopay, not yet
    charged (or whose charge is still pending from an interrupted run)."""
    settled = sa.select(charges.c.invoice_id).where(charges.c.status != AutopayStatus.PENDING)
    stmt = (
        sa.select(invoices.c.id)
        .where(
            invoices.c.organization_id == org_id,
            invoices.c.status.in_([InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID]),
            invoices.c.due_date <= today,
            charged_by_autopay(),
            invoices.c.id.not_in(settled),
        )
        .order_by(invoices.c.due_date, invoices.c.id)
    )
    async with db.connect() as conn:
        return list((await conn.execute(stmt)).scalars())


async def _claim(
    session: AsyncSession, org_id: uuid.UUID, invoice_id: uuid.UUID
) -> AutopayCharge | None:
    """The invoice's charge row, made now or left pending by an earlier run."""
    invoice = await session.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        return None
    due = amount_due(invoice.model_dump())
    card = (
        await session.execute(
            sa.select(SavedPaymentMethod).where(
                col(SavedPaymentMethod.customer_id) == invoice.customer_id,
                col(SavedPaymentMethod.is_default).is_(True),
                col(SavedPaymentMethod.removed_at).is_(None),
            )
        )
    ).scalar_one_or_none()
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    if due > 0 and card is not None:
        await session.execute(
            insert(charges)
            .values(
                id=uuid.uuid4(),
                organization_id=org_id,
                invoice_id=invoice.id,
                customer_id=invoice.customer_id,
                payment_method_id=card.id,
                amount=due,
                currency=invoice.currency,
                status=AutopayStatus.PENDING,
                charged_on=utcnow().date(),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=[charges.c.invoice_id])
        )
    found = await session.execute(
        sa.select(AutopayCharge)
        .where(col(AutopayCharge.invoice_id) == invoice.id)
        .with_for_update()
    )
    charge = found.scalar_one_or_none()
    if charge is None or charge.status is not AutopayStatus.PENDING:
        return None
    return charge


async def _charge(db: Database, org_id: uuid.UUID, invoice_id: uuid.UUID, run: AutopayRun) -> None:
    async with db.write() as session:
        charge = await _claim(session, org_id, invoice_id)
        if charge is None:
            return
        org = await session.get(Organization, org_id)
        options = await session.get(PortalSettings, org_id)
        customer = await session.get(Customer, charge.customer_id)
        card = await session.get(SavedPaymentMethod, charge.payment_method_id)
        charge_id, amount, currency = charge.id, charge.amount, charge.currency
    # The charge row's foreign keys hold all three (and nothing deletes them).
    assert org is not None and customer is not None and card is not None
    metadata = {
        "portico_kind": "invoices",
        "portico_customer": str(customer.id),
        "portico_payer": "",
        "portico_allocation": encode_allocations([Allocation(invoice_id, amount)]),
        "portico_autopay": str(charge_id),
    }
    try:
        request = await request_payment(
            db.settings,
            org,
            options,
            amount=amount,
            currency=currency,
            metadata=metadata,
            key=idempotency_key("autopay", charge_id),
            description=f"{org.name}: autopay",
            card=SavedCard(
                customer.stripe_customer_id or "", card.stripe_payment_method_id, off_session=True
            ),
        )
    except ProviderUnavailable:
        run.postponed += 1
        log.warning("autopay of invoice %s postponed: Stripe unreachable", invoice_id)
        return
    except ProviderRejected as error:
        await _failed(db, org, customer, charge_id, amount, currency, error.code)
        run.failed += 1
        return
    async with db.write() as session:
        await apply_success(session, org, settlement_of_request(request))
        await session.execute(
            sa.update(charges)
            .where(charges.c.id == charge_id)
            .values(
                status=AutopayStatus.SUCCEEDED,
                updated_at=utcnow(),
                provider_payment_intent_id=request.payment_intent_id,
            )
        )
    run.charged += 1


async def _failed(
    db: Database,
    org: Organization,
    customer: Customer,
    charge_id: uuid.UUID,
    amount: int,
    currency: str,
    code: str,
) -> None:
    """The card was refused: the charge is over, and both sides are told."""
    title = f"Autopay of {format_money(amount, currency)} was declined"
    async with db.write() as session:
        await session.execute(
            sa.update(charges)
            .where(charges.c.id == charge_id)
            .values(status=AutopayStatus.FAILED, error_code=code[:100], updated_at=utcnow())
        )
        session.add(
            for_customer(
                org,
                customer.id,
                NotificationKind.PAYMENT_FAILED,
                title,
                customer,
                body="Update your card in the portal, or pay the invoice another way.",
            )
        )
        if customer.email:
            text, html = branded(
                org.model_dump(),
                subject=title,
                heading=title,
                paragraphs=[
                    f"Hello {customer.name},",
                    "Your card was declined when we tried to pay your invoice automatically. "
                    "Please update your card in the portal or pay the invoice there.",
                ],
            )
            # About a payment of theirs: sent whatever their preferences, like a receipt.
            await enqueue(
                session,
                kind=MailKind.RECEIPT,
                to=customer.email,
                subject=title,
                text=text,
                html=html,
                organization_id=org.id,
            )
        await notify_staff(
            session,
            org,
            NotificationKind.PAYMENT_FAILED,
            f"{title} for {customer.name}",
            f"Stripe said: {code}.",
            subject_type="Customer",
            subject_id=customer.id,
        )
