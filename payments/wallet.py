"""Cards saved on the organization's Stripe account for a customer.

A card is collected by the portal client with a SetupIntent; Portico then asks Stripe what
was saved and keeps only the ids, brand, last four digits and expiry.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Customer, Organization, SavedPaymentMethod
from models.tables import payment_methods as methods
from models.types import utcnow
from payments.requests import idempotency_key
from payments.stripe_api import CardInfo, SetupIntentInfo, StripeGateway


async def stripe_customer(
    session: AsyncSession, gateway: StripeGateway, org: Organization, customer: Customer
) -> str:
    """The customer's Stripe customer on the organization's account, made on first use."""
    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    customer.stripe_customer_id = await gateway.create_customer(
        account=org.stripe_account_id or "",
        email=customer.email,
        name=customer.name,
        metadata={"portico_org": str(org.id), "portico_customer": str(customer.id)},
        idempotency_key=idempotency_key("customer", customer.id),
    )
    customer.updated_at = utcnow()
    return customer.stripe_customer_id


async def start_setup(
    gateway: StripeGateway,
    org: Organization,
    stripe_customer_id: str,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> SetupIntentInfo:
    return await gateway.create_setup_intent(
        account=org.stripe_account_id or "",
        customer=stripe_customer_id,
        metadata={
            "portico_org": str(org.id),
            "portico_customer": str(customer_id),
            "portico_payer": str(contact_id or ""),
        },
        idempotency_key=idempotency_key("setup", customer_id, contact_id, uuid.uuid4()),
    )


async def remember_card(
    session: AsyncSession,
    org: Organization,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    card: CardInfo,
) -> SavedPaymentMethod:
    """Store a card once (by Stripe's id); the first card of a customer is the default."""
    found = await session.execute(
        sa.select(SavedPaymentMethod).where(
            col(SavedPaymentMethod.organization_id) == org.id,
            col(SavedPaymentMethod.stripe_payment_method_id) == card.id,
        )
    )
    existing = found.scalar_one_or_none()
    if existing is not None:
        return existing
    has_default = await session.execute(
        sa.select(methods.c.id).where(
            methods.c.customer_id == customer_id,
            methods.c.is_default.is_(True),
            methods.c.removed_at.is_(None),
        )
    )
    saved = SavedPaymentMethod(
        organization_id=org.id,
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


async def default_card(session: AsyncSession, customer_id: uuid.UUID) -> SavedPaymentMethod | None:
    found = await session.execute(
        sa.select(SavedPaymentMethod).where(
            col(SavedPaymentMethod.customer_id) == customer_id,
            col(SavedPaymentMethod.is_default).is_(True),
            col(SavedPaymentMethod.removed_at).is_(None),
        )
    )
    return found.scalar_one_or_none()


async def make_default(session: AsyncSession, card: SavedPaymentMethod) -> None:
    await session.execute(
        sa.update(methods)
        .where(methods.c.customer_id == card.customer_id, methods.c.id != card.id)
        .values(is_default=False)
    )
    card.is_default = True
    card.updated_at = utcnow()
