"""Portal viewers save cards for later, choose the default, remove cards, turn on autopay.

A card is collected by the portal client with a SetupIntent on the organization's Stripe
account; Portico then asks Stripe what was saved and keeps only the ids, brand, last four
digits and expiry. Stripe is always called between transactions, never inside one: what it
needs is read first, and what it answered is recorded after, in a transaction that checks
again what it locks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import row_scope
from core.errors import NotFound
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.payments.refusals import provider_problem
from domain.problems import Problem, Rejected
from domain.work import Work
from models import Customer, Organization, PortalSettings, SavedPaymentMethod
from models.enums import PortalScope
from models.tables import payment_methods as methods
from models.types import utcnow
from models.writes import visible_rows
from payments.requests import idempotency_key, online_payments_open
from payments.stripe_api import (
    CardInfo,
    ProviderRejected,
    ProviderUnavailable,
    SetupIntentInfo,
    StripeGateway,
)


@dataclass(frozen=True, slots=True)
class CardSetup:
    """What the portal client collects a card with."""

    client_secret: str | None
    setup_intent_id: str
    account: str


@dataclass(frozen=True, slots=True)
class Account:
    """The signed-in viewer's customer and its organization."""

    customer: Customer
    org: Organization
    options: PortalSettings | None

    @property
    def stripe_account(self) -> str:
        return self.org.stripe_account_id or ""


async def start_card_setup(work: Work) -> CardSetup:
    """A SetupIntent for the viewer's customer (made a Stripe customer on first use)."""
    async with work.write() as session:
        account = await _account(session, work, lock=False)
    customer = account.customer
    try:
        async with StripeGateway(work.settings) as gateway:
            stripe_id = customer.stripe_customer_id
            if stripe_id is None:
                made = await gateway.create_customer(
                    account=account.stripe_account,
                    email=customer.email,
                    name=customer.name,
                    metadata={
                        "portico_org": str(account.org.id),
                        "portico_customer": str(customer.id),
                    },
                    # One per customer: a retry, or two setups at once, find the same one.
                    idempotency_key=idempotency_key("customer", customer.id),
                )
                stripe_id = await _keep_stripe_customer(work, made)
            setup = await _start_setup(gateway, account, stripe_id, work.viewer.contact_id)
    except (ProviderUnavailable, ProviderRejected) as error:
        raise Rejected(provider_problem(error, "")) from error
    return CardSetup(setup.client_secret, setup.id, account.stripe_account)


async def _keep_stripe_customer(work: Work, stripe_id: str) -> str:
    """Record the customer's Stripe customer, unless one was recorded meanwhile: the one
    recorded, which is used from now on."""
    async with work.write() as session:
        customer = (await _account(session, work, lock=True)).customer
        if customer.stripe_customer_id is None:
            customer.stripe_customer_id = stripe_id
            customer.updated_at = utcnow()
        return customer.stripe_customer_id


async def _start_setup(
    gateway: StripeGateway, account: Account, stripe_customer_id: str, contact_id: uuid.UUID | None
) -> SetupIntentInfo:
    customer_id = account.customer.id
    return await gateway.create_setup_intent(
        account=account.stripe_account,
        customer=stripe_customer_id,
        metadata={
            "portico_org": str(account.org.id),
            "portico_customer": str(customer_id),
            "portico_payer": str(contact_id or ""),
        },
        idempotency_key=idempotency_key("setup", customer_id, contact_id, uuid.uuid4()),
    )


async def save_card(work: Work, setup_intent_id: str) -> uuid.UUID:
    """Keep the card a finished SetupIntent saved; it must be this customer's. The saved
    card's id (the one kept before, when it was saved already)."""
    async with work.write() as session:
        account = await _account(session, work, lock=False)
    card = await _card_of_setup(work, account, setup_intent_id)
    async with work.write() as session:
        account = await _account(session, work, lock=True)
        saved = await _remember_card(session, account, work.viewer.contact_id, card)
        session.add(
            audit(
                work,
                "payment_method.saved",
                subject_type="SavedPaymentMethod",
                subject_id=saved.id,
                data={"brand": card.brand, "last4": card.last4},
            )
        )
    return saved.id


async def _card_of_setup(work: Work, account: Account, setup_intent_id: str) -> CardInfo:
    """The card the SetupIntent saved, asked of Stripe (outside any transaction)."""
    customer = account.customer
    try:
        async with StripeGateway(work.settings) as gateway:
            setup = await gateway.retrieve_setup_intent(
                account=account.stripe_account, setup_intent_id=setup_intent_id
            )
            mine = (
                setup.customer is not None
                and setup.customer == customer.stripe_customer_id
                and setup.metadata.get("portico_customer") == str(customer.id)
            )
            if not mine:
                raise NotFound()
            if setup.status != "succeeded" or setup.payment_method is None:
                message = "The card has not been confirmed yet."
                raise Rejected(Problem("setupIntentId", message, BillingCode.NOT_CONFIRMED))
            return await gateway.retrieve_card(
                account=account.stripe_account, payment_method_id=setup.payment_method
            )
    except ProviderRejected as error:
        if error.code == "resource_missing":
            raise NotFound() from error
        raise Rejected(provider_problem(error, "setupIntentId")) from error
    except ProviderUnavailable as error:
        raise Rejected(provider_problem(error, "setupIntentId")) from error


async def _remember_card(
    session: AsyncSession, account: Account, contact_id: uuid.UUID | None, card: CardInfo
) -> SavedPaymentMethod:
    """Store a card once (by Stripe's id); the first card of a customer is the default."""
    found = await session.execute(
        sa.select(SavedPaymentMethod).where(
            col(SavedPaymentMethod.organization_id) == account.org.id,
            col(SavedPaymentMethod.stripe_payment_method_id) == card.id,
        )
    )
    existing = found.scalar_one_or_none()
    if existing is not None:
        return existing
    customer_id = account.customer.id
    has_default = await session.execute(
        sa.select(methods.c.id).where(
            methods.c.customer_id == customer_id,
            methods.c.is_default.is_(True),
            methods.c.removed_at.is_(None),
        )
    )
    saved = SavedPaymentMethod(
        organization_id=account.org.id,
        customer_id=customer_id,
        contact_id=contact_id,
        stripe_payment_method_id=card.id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        is_default=has_default.first() is None,
    )
    session.add(saved)
    await session.flush()
    return saved


async def set_default_card(work: Work, card_id: uuid.UUID) -> uuid.UUID:
    async with work.write() as session:
        card, _ = await _card(session, work, card_id, lock=True)
        await _make_default(session, card)
    return card.id


async def remove_card(work: Work, card_id: uuid.UUID) -> uuid.UUID:
    """Detach the card at Stripe, then forget it here; another card becomes the default
    (none left: autopay goes off)."""
    async with work.write() as session:
        card, account = await _card(session, work, card_id, lock=False)
    try:
        async with StripeGateway(work.settings) as gateway:
            await gateway.detach_card(
                account=account.stripe_account, payment_method_id=card.stripe_payment_method_id
            )
    except ProviderUnavailable as error:
        raise Rejected(provider_problem(error, "id")) from error
    except ProviderRejected:
        pass  # already detached at Stripe: forgetting it here is what is left to do
    async with work.write() as session:
        card, account = await _card(session, work, card_id, lock=True)
        card.removed_at = utcnow()
        was_default, card.is_default = card.is_default, False
        if was_default:
            await _next_default(session, account.customer, card)
        session.add(
            audit(
                work,
                "payment_method.removed",
                subject_type="SavedPaymentMethod",
                subject_id=card.id,
            )
        )
    return card.id


async def _next_default(
    session: AsyncSession, customer: Customer, removed: SavedPaymentMethod
) -> None:
    """The newest card left becomes the default; with none left there is nothing for
    autopay to charge."""
    rest = await session.execute(
        sa.select(SavedPaymentMethod)
        .where(
            col(SavedPaymentMethod.customer_id) == customer.id,
            col(SavedPaymentMethod.removed_at).is_(None),
            col(SavedPaymentMethod.id) != removed.id,
        )
        .order_by(col(SavedPaymentMethod.created_at).desc())
        .limit(1)
    )
    successor = rest.scalar_one_or_none()
    if successor is not None:
        await _make_default(session, successor)
    else:
        customer.autopay_enabled = False


async def set_autopay(work: Work, enabled: bool) -> uuid.UUID:
    """Autopay on (where the organization offers it, with a default card) or off; the
    customer's id."""
    async with work.write() as session:
        account = await _account(session, work, lock=True)
        customer, options = account.customer, account.options
        if enabled:
            if options is None or not options.allow_autopay:
                raise Rejected(
                    Problem("enabled", "Autopay is not offered.", BillingCode.NOT_ALLOWED)
                )
            if await _default_card(session, customer.id) is None:
                raise Rejected(Problem("enabled", "Save a card first.", BillingCode.NO_CARD))
        customer.autopay_enabled = enabled
        customer.updated_at = utcnow()
        session.add(audit(work, "autopay.enabled" if enabled else "autopay.disabled"))
    return customer.id


async def _account(session: AsyncSession, work: Work, *, lock: bool) -> Account:
    """The signed-in viewer's customer (locked with `lock`) and organization, if they may
    handle cards."""
    viewer = work.viewer
    if viewer.scope is PortalScope.CARS or viewer.customer_id is None:
        raise NotFound()
    found = await visible_rows(
        session, Customer, row_scope(viewer), [viewer.customer_id], lock=lock
    )
    if not found:
        raise NotFound()
    org = await session.get(Organization, found[0].organization_id)
    assert org is not None  # the customer's foreign key holds it
    options = await session.get(PortalSettings, org.id)
    if not online_payments_open(org, options):
        message = "Online payment is not available."
        raise Rejected(Problem("", message, BillingCode.PAYMENTS_NOT_ENABLED))
    return Account(found[0], org, options)


async def _card(
    session: AsyncSession, work: Work, card_id: uuid.UUID, *, lock: bool
) -> tuple[SavedPaymentMethod, Account]:
    """One of the viewer's customer's saved cards (not removed), with the account."""
    account = await _account(session, work, lock=lock)
    stmt = sa.select(SavedPaymentMethod).where(
        col(SavedPaymentMethod.id) == card_id,
        col(SavedPaymentMethod.customer_id) == account.customer.id,
        col(SavedPaymentMethod.removed_at).is_(None),
    )
    found = await session.execute(stmt.with_for_update() if lock else stmt)
    card = found.scalar_one_or_none()
    if card is None:
        raise NotFound(row=("SavedPaymentMethod", card_id))
    return card, account


async def _default_card(session: AsyncSession, customer_id: uuid.UUID) -> SavedPaymentMethod | None:
    found = await session.execute(
        sa.select(SavedPaymentMethod).where(
            col(SavedPaymentMethod.customer_id) == customer_id,
            col(SavedPaymentMethod.is_default).is_(True),
            col(SavedPaymentMethod.removed_at).is_(None),
        )
    )
    return found.scalar_one_or_none()


async def _make_default(session: AsyncSession, card: SavedPaymentMethod) -> None:
    await session.execute(
        sa.update(methods)
        .where(methods.c.customer_id == card.customer_id, methods.c.id != card.id)
        .values(is_default=False)
    )
    card.is_default = True
    card.updated_at = utcnow()
