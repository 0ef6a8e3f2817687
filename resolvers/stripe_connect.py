"""An OWNER connects the organization's own Stripe account (Stripe Connect, Express).

Payments are direct charges on that account; Portico stores only its id and whether it can
take charges (kept current by `account.updated` webhooks, or on demand here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry import Info

from core.errors import NotFound
from domain.audit import audit
from domain.payments.refusals import provider_problem
from models import Organization
from models.types import utcnow
from payments.requests import idempotency_key
from payments.stripe_api import ProviderRejected, ProviderUnavailable, StripeGateway
from resolvers.validation import Problem, Rejected


@dataclass
class OnboardingOutcome:
    url: str | None = None
    problems: list[Problem] = field(default_factory=list)


async def start_onboarding(info: Info) -> OnboardingOutcome:
    """Create the connected account once, then hand out Stripe's onboarding link for it."""
    ctx = info.context
    settings = ctx.settings
    try:
        async with ctx.write() as session:
            org = await session.get(Organization, ctx.viewer.organization_id, with_for_update=True)
            if org is None:
                raise NotFound()
            try:
                async with StripeGateway(settings) as gateway:
                    if not org.stripe_account_id:
                        org.stripe_account_id = await gateway.create_account(
                            email=org.email or ctx.viewer.email or "",
                            idempotency_key=idempotency_key("account", org.id),
                        )
                        org.updated_at = utcnow()
                        session.add(
                            audit(
                                ctx,
                                "payments.account_created",
                                data={"account": org.stripe_account_id},
                            )
                        )
                    url = await gateway.create_account_link(
                        account=org.stripe_account_id,
                        refresh_url=f"{settings.public_url}/stripe/onboarding/refresh",
                        return_url=f"{settings.public_url}/stripe/onboarding/done",
                    )
            except (ProviderUnavailable, ProviderRejected) as error:
                raise Rejected(provider_problem(error, "organization")) from error
        return OnboardingOutcome(url=url)
    except Rejected as rejected:
        return OnboardingOutcome(problems=rejected.problems)


async def refresh_account(info: Info) -> Any:
    """Ask Stripe whether the connected account can take charges now."""
    ctx = info.context
    try:
        async with ctx.write() as session:
            org = await session.get(Organization, ctx.viewer.organization_id, with_for_update=True)
            if org is None:
                raise NotFound()
            if not org.stripe_account_id:
                raise Rejected(
                    Problem(
                        "organization", "Connect a Stripe account first.", "PAYMENTS_NOT_ENABLED"
                    )
                )
            try:
                async with StripeGateway(ctx.settings) as gateway:
                    account = await gateway.retrieve_account(account=org.stripe_account_id)
            except (ProviderUnavailable, ProviderRejected) as error:
                raise Rejected(provider_problem(error, "organization")) from error
            org.stripe_charges_enabled = account.charges_enabled
            org.updated_at = utcnow()
        return OnboardingOutcome()
    except Rejected as rejected:
        return OnboardingOutcome(problems=rejected.problems)
