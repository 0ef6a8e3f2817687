"""Portal viewers save cards for later, choose the default, remove cards, turn on autopay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from auth.access import row_scope
from core.errors import NotFound
from core.ids import decode_id_of
from domain.audit import audit
from domain.payments.refusals import provider_problem
from models import Customer, Organization, PortalSettings, SavedPaymentMethod
from models.enums import PortalScope
from models.types import utcnow
from models.writes import visible_for_update
from payments import wallet
from payments.requests import payments_enabled
from payments.stripe_api import ProviderRejected, ProviderUnavailable, StripeGateway
from resolvers.outcome import mutation_outcome
from resolvers.validation import Problem, Rejected


@dataclass
class SetupOutcome:
    client_secret: str | None = None
    setup_intent_id: str | None = None
    account: str | None = None
    problems: list[Problem] = field(default_factory=list)


async def _account(
    session: AsyncSession, info: Info
) -> tuple[Customer, Organization, PortalSettings | None]:
    """The signed-in viewer's customer (locked) and organization, if they may handle cards."""
    viewer = info.context.viewer
    if viewer.scope is PortalScope.CARS:
        raise NotFound()
    found = await visible_for_update(session, Customer, row_scope(viewer), [viewer.customer_id])
    if not found:
        raise NotFound()
    org = await session.get(Organization, found[0].organization_id)
    options = await session.get(PortalSettings, org.id)
    if not payments_enabled(org, options):
        raise Rejected(Problem("", "Online payment is not available.", "PAYMENTS_NOT_ENABLED"))
    return found[0], org, options


async def start_card_setup(info: Info) -> SetupOutcome:
    ctx = info.context
    try:
        async with ctx.write() as session, StripeGateway(ctx.settings) as gateway:
            customer, org, _ = await _account(session, info)
            try:
                stripe_id = await wallet.stripe_customer(session, gateway, org, customer)
                setup = await wallet.start_setup(
                    gateway, org, stripe_id, customer.id, ctx.viewer.contact_id
                )
            except (ProviderUnavailable, ProviderRejected) as error:
                raise Rejected(provider_problem(error, "")) from error
        return SetupOutcome(setup.client_secret, setup.id, org.stripe_account_id)
    except Rejected as rejected:
        return SetupOutcome(problems=rejected.problems)


@mutation_outcome
async def save_card(info: Info, data: Any) -> uuid.UUID:
    """Keep the card a finished SetupIntent saved; it must be this customer's."""
    ctx = info.context
    async with ctx.write() as session, StripeGateway(ctx.settings) as gateway:
        customer, org, _ = await _account(session, info)
        account = org.stripe_account_id or ""
        try:
            setup = await gateway.retrieve_setup_intent(
                account=account, setup_intent_id=data.setup_intent_id
            )
            mine = (
                setup.customer is not None
                and setup.customer == customer.stripe_customer_id
                and setup.metadata.get("portico_customer") == str(customer.id)
            )
            if not mine:
                raise NotFound()
            if setup.status != "succeeded" or setup.payment_method is None:
                raise Rejected(
                    Problem(
                        "setupIntentId", "The card has not been confirmed yet.", "NOT_CONFIRMED"
                    )
                )
            card = await gateway.retrieve_card(
                account=account, payment_method_id=setup.payment_method
            )
        except ProviderRejected as error:
            if error.code == "resource_missing":
                raise NotFound() from error
            raise Rejected(provider_problem(error, "setupIntentId")) from error
        except ProviderUnavailable as error:
            raise Rejected(provider_problem(error, "setupIntentId")) from error
        saved = await wallet.remember_card(session, org, customer.id, ctx.viewer.contact_id, card)
        session.add(
            audit(
                ctx,
                "payment_method.saved",
                subject_type="SavedPaymentMethod",
                subject_id=saved.id,
                data={"brand": card.brand, "last4": card.last4},
            )
        )
    return saved.id


async def _card(session: AsyncSession, info: Info, gid: str) -> tuple[SavedPaymentMethod, Any]:
    customer, org, options = await _account(session, info)
    found = await session.execute(
        sa.select(SavedPaymentMethod)
        .where(
            SavedPaymentMethod.id == decode_id_of("SavedPaymentMethod", gid),
            SavedPaymentMethod.customer_id == customer.id,
            SavedPaymentMethod.removed_at.is_(None),
        )
        .with_for_update()
    )
    card = found.scalar_one_or_none()
    if card is None:
        raise NotFound(global_id=gid)
    return card, (customer, org, options)


@mutation_outcome
async def set_default_card(info: Info, data: Any) -> uuid.UUID:
    async with info.context.write() as session:
        card, _ = await _card(session, info, data.id)
        await wallet.make_default(session, card)
    return card.id


@mutation_outcome
async def remove_card(info: Info, data: Any) -> uuid.UUID:
    """Detach the card at Stripe, forget it here; another card becomes the default."""
    ctx = info.context
    async with ctx.write() as session, StripeGateway(ctx.settings) as gateway:
        card, (customer, org, _) = await _card(session, info, data.id)
        try:
            await gateway.detach_card(
                account=org.stripe_account_id or "", payment_method_id=card.stripe_payment_method_id
            )
        except ProviderUnavailable as error:
            raise Rejected(provider_problem(error, "id")) from error
        except ProviderRejected:
            pass  # already detached at Stripe: forgetting it here is what is left to do
        card.removed_at = utcnow()
        was_default, card.is_default = card.is_default, False
        if was_default:
            rest = await session.execute(
                sa.select(SavedPaymentMethod)
                .where(
                    SavedPaymentMethod.customer_id == customer.id,
                    SavedPaymentMethod.removed_at.is_(None),
                    SavedPaymentMethod.id != card.id,
                )
                .order_by(SavedPaymentMethod.created_at.desc())
                .limit(1)
            )
            successor = rest.scalar_one_or_none()
            if successor is not None:
                await wallet.make_default(session, successor)
            else:
                customer.autopay_enabled = False  # nothing left to charge
        session.add(
            audit(
                ctx, "payment_method.removed", subject_type="SavedPaymentMethod", subject_id=card.id
            )
        )
    return card.id


@mutation_outcome
async def set_autopay(info: Info, data: Any) -> uuid.UUID:
    ctx = info.context
    async with ctx.write() as session:
        customer, _, options = await _account(session, info)
        if data.enabled:
            if options is None or not options.allow_autopay:
                raise Rejected(Problem("enabled", "Autopay is not offered.", "NOT_ALLOWED"))
            if await wallet.default_card(session, customer.id) is None:
                raise Rejected(Problem("enabled", "Save a card first.", "NO_CARD"))
        customer.autopay_enabled = data.enabled
        customer.updated_at = utcnow()
        session.add(audit(ctx, "autopay.enabled" if data.enabled else "autopay.disabled"))
    return customer.id
