"""Asking the organization's Stripe account for money: what the portal client needs to pay.

Amount and currency always come from Portico's rows, never from the client. The metadata
carries everything needed to apply the payment later (webhook or reconciliation), so a
PaymentIntent whose confirmation was never received can still be settled from Stripe alone.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from core.settings import Settings
from models import Organization, PortalSettings
from payments.stripe_api import StripeGateway

MAX_INVOICES = 10  # metadata values hold up to 500 characters: ten allocations fit


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_id: uuid.UUID
    amount: int


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    account: str
    payment_intent_id: str | None
    client_secret: str | None
    checkout_url: str | None
    amount: int
    currency: str
    status: str = "requires_payment_method"  # Stripe's; "succeeded" when charged at once
    metadata: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class SavedCard:
    """Charge a saved card at once: Stripe's customer and payment method ids."""

    customer: str
    payment_method: str
    off_session: bool = False  # the customer is not present (autopay)


def stripe_ready(org: Organization) -> bool:
    """A connected Stripe account that may take charges: the Python form of
    models/derived.py `payments_enabled` (tests/test_derived.py holds the two together)."""
    return bool(org.stripe_account_id and org.stripe_charges_enabled)


def online_payments_open(org: Organization, options: PortalSettings | None) -> bool:
    """Customers may pay online: Stripe is ready and the portal offers it."""
    allowed = options is None or options.allow_online_payment
    return stripe_ready(org) and bool(allowed)


def encode_allocations(allocations: list[Allocation]) -> str:
    return ",".join(f"{a.invoice_id}:{a.amount}" for a in allocations)


def decode_allocations(value: str) -> list[Allocation]:
    allocations = []
    for part in filter(None, value.split(",")):
        invoice_id, amount = part.split(":")
        allocations.append(Allocation(uuid.UUID(invoice_id), int(amount)))
    return allocations


def idempotency_key(*parts: object) -> str:
    """Stripe's idempotency key for one logical request: the same parts give the same key."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"portico-{digest}"


async def request_payment(
    settings: Settings,
    org: Organization,
    options: PortalSettings | None,
    *,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    key: str,
    description: str,
    card: SavedCard | None = None,
) -> PaymentRequest:
    """A PaymentIntent (or a hosted Checkout page) as a direct charge on the organization's
    connected account. Raises the gateway's ProviderUnavailable / ProviderRejected."""
    account = org.stripe_account_id or ""
    # The description rides in the metadata; Portico sends its own receipts, so Stripe is
    # not given a receipt address (the customer would get two).
    metadata = {"portico_org": str(org.id), "portico_description": description[:500], **metadata}
    async with StripeGateway(settings) as gateway:
        if card is not None:
            intent = await gateway.create_payment_intent(
                account=account,
                amount=amount,
                currency=currency,
                metadata=metadata,
                idempotency_key=key,
                customer=card.customer,
                payment_method=card.payment_method,
                confirm=True,
                off_session=card.off_session,
            )
            return PaymentRequest(
                account,
                intent.id,
                intent.client_secret,
                None,
                amount,
                currency,
                intent.status,
                metadata,
            )
        if options is not None and options.hosted_checkout:
            checkout = await gateway.create_checkout_session(
                account=account,
                amount=amount,
                currency=currency,
                name=description,
                metadata=metadata,
                success_url=f"{settings.portal_base}/payments/done",
                cancel_url=f"{settings.portal_base}/invoices",
                idempotency_key=key,
            )
            return PaymentRequest(
                account, checkout.payment_intent_id, None, checkout.url, amount, currency
            )
        intent = await gateway.create_payment_intent(
            account=account,
            amount=amount,
            currency=currency,
            metadata=metadata,
            idempotency_key=key,
        )
    return PaymentRequest(account, intent.id, intent.client_secret, None, amount, currency)
