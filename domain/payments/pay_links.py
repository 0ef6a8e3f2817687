"""Paying one invoice from the link in its email, without signing in to the portal.

The link's token (auth/pay_links.py) names one invoice of one organization. Whoever holds
it acts as that invoice's customer for exactly two things: seeing what is due on it (and
the customer's saved cards, by brand and last four digits) and paying it, in full, by the
same rules as a signed-in customer (domain/payments/online.py). Nothing else is reachable
with it. The link dies with the invoice's payability: once paid, voided (or never sent)
it answers PAY_LINK_INVALID, as a tampered or expired one does. Opening it is recorded in
the customer's access log (a VIEW of the invoice).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import row_scope
from auth.pay_links import read_pay_link
from auth.viewer import Viewer, ViewerKind
from core.errors import ClientError
from core.settings import Settings
from domain.billing.codes import BillingCode
from domain.payments import online
from domain.payments.refusals import PAYABLE
from domain.work import Work
from models import Organization, PortalSettings
from models.access_log import access_row
from models.clock import Clock
from models.enums import AccessAction
from models.money import amount_due
from models.tables import access_logs, invoices
from models.tables import payment_methods as methods
from payments.requests import PaymentRequest, online_payments_open


class PayLinkInvalid(ClientError):
    """Tampered with, expired, or for an invoice that can no longer be paid."""

    code = BillingCode.PAY_LINK_INVALID.value
    message = "This payment link is no longer valid. Sign in to the portal to see your bills."


@dataclass(frozen=True, slots=True)
class OpenedLink:
    """What the link's page shows."""

    invoice: RowMapping
    organization: Organization
    amount_due: int
    pays_online: bool  # the organization takes card payments now
    cards: list[RowMapping]  # the customer's saved cards, default first


@dataclass(frozen=True)
class _AsCustomer:
    """The request's work, acting as the link's customer (who sees only invoices)."""

    work: Work
    viewer: Viewer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self.work.write() as session:
            yield session

    @property
    def clock(self) -> Clock:
        return self.work.clock

    @property
    def settings(self) -> Settings:
        return self.work.settings

    @property
    def client_ip(self) -> str | None:
        return self.work.client_ip

    @property
    def user_agent(self) -> str | None:
        return self.work.user_agent


async def _invoice(session: AsyncSession, settings: Settings, token: str) -> RowMapping:
    grant = read_pay_link(settings, token)
    if grant is None:
        raise PayLinkInvalid()
    found = await session.execute(
        sa.select(invoices).where(
            invoices.c.id == grant.invoice_id,
            invoices.c.organization_id == grant.organization_id,
        )
    )
    invoice = found.mappings().first()
    if invoice is None or invoice["status"] not in PAYABLE:
        raise PayLinkInvalid()
    return invoice


def _customer(invoice: RowMapping) -> Viewer:
    return Viewer(
        kind=ViewerKind.PORTAL,
        organization_id=invoice["organization_id"],
        customer_id=invoice["customer_id"],
        sections=frozenset({"invoices"}),
    )


async def open_pay_link(work: Work, token: str) -> OpenedLink:
    """The invoice's payment page, recorded as the customer's VIEW of the invoice."""
    async with work.write() as session:
        invoice = await _invoice(session, work.settings, token)
        org = await session.get(Organization, invoice["organization_id"])
        assert org is not None  # the invoice's foreign key holds it
        options = await session.get(PortalSettings, org.id)
        cards = await _cards(session, _customer(invoice))
        seen = access_row(
            org.id,
            invoice["customer_id"],
            None,
            ("Invoice", invoice["id"]),
            AccessAction.VIEW,
            ip=work.client_ip,
            user_agent=work.user_agent,
        )
        await session.execute(sa.insert(access_logs), [seen])
    pays_online = online_payments_open(org, options)
    return OpenedLink(invoice, org, amount_due(invoice), pays_online, cards if pays_online else [])


async def _cards(session: AsyncSession, customer: Viewer) -> list[RowMapping]:
    scope = row_scope(customer)
    found = await session.execute(
        sa.select(methods)
        .where(
            methods.c.customer_id == customer.customer_id,
            methods.c.removed_at.is_(None),
            *scope.conditions(methods),
        )
        .order_by(methods.c.is_default.desc(), methods.c.created_at, methods.c.id),
        scope.params,
    )
    return list(found.mappings())


async def pay_by_link(
    work: Work, token: str, client_key: str, card_id: uuid.UUID | None = None
) -> PaymentRequest:
    """Ask Stripe for the invoice's payment in full, as a signed-in customer would
    (a saved card named by `card_id` is charged at once). `client_key` makes retries safe."""
    online.check_request(1, client_key, None)
    async with work.write() as session:  # reads only
        invoice = await _invoice(session, work.settings, token)
    as_customer: Work = _AsCustomer(work, _customer(invoice))
    return await online.pay_invoices(as_customer, {invoice["id"]}, client_key, card_id=card_id)
