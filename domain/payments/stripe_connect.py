"""An OWNER connects the organization's own Stripe account (Stripe Connect, Express).

Payments are direct charges on that account; Portico stores only its id and whether it can
take charges (kept current by `account.updated` webhooks, or on demand here). Stripe is
called between transactions, never inside one.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.payments.refusals import provider_problem
from domain.problems import Problem, Rejected
from domain.work import Work
from models import Organization
from models.types import utcnow
from payments.requests import idempotency_key
from payments.stripe_api import ProviderRejected, ProviderUnavailable, StripeGateway


async def start_onboarding(work: Work) -> str:
    """Create the connected account once, then hand out Stripe's onboarding link for it."""
    settings = work.settings
    org = await _organization(work)
    try:
        async with StripeGateway(settings) as gateway:
            account = org.stripe_account_id
            if not account:
                made = await gateway.create_account(
                    email=org.email or work.viewer.email or "",
                    # One per organization: a retry, or two owners at once, find the same.
                    idempotency_key=idempotency_key("account", org.id),
                )
                account = await _keep_account(work, made)
            return await gateway.create_account_link(
                account=account,
                refresh_url=f"{settings.public_url}/stripe/onboarding/refresh",
                return_url=f"{settings.public_url}/stripe/onboarding/done",
            )
    except (ProviderUnavailable, ProviderRejected) as error:
        raise Rejected(provider_problem(error, "organization")) from error


async def refresh_account(work: Work) -> None:
    """Ask Stripe whether the connected account can take charges now."""
    org = await _organization(work)
    account = org.stripe_account_id
    if not account:
        message = "Connect a Stripe account first."
        raise Rejected(Problem("organization", message, BillingCode.PAYMENTS_NOT_ENABLED))
    try:
        async with StripeGateway(work.settings) as gateway:
            found = await gateway.retrieve_account(account=account)
    except (ProviderUnavailable, ProviderRejected) as error:
        raise Rejected(provider_problem(error, "organization")) from error
    async with work.write() as session:
        org = await _locked(session, work)
        if org.stripe_account_id == account:  # else connected anew meanwhile: not this one's
            org.stripe_charges_enabled = found.charges_enabled
            org.updated_at = utcnow()


async def _keep_account(work: Work, account: str) -> str:
    """Record the organization's new connected account, unless one was recorded
    meanwhile: the one recorded, which is used from now on."""
    async with work.write() as session:
        org = await _locked(session, work)
        if not org.stripe_account_id:
            org.stripe_account_id = account
            org.updated_at = utcnow()
            session.add(audit(work, "payments.account_created", data={"account": account}))
        return org.stripe_account_id


async def _organization(work: Work) -> Organization:
    async with work.write() as session:
        org = await session.get(Organization, work.viewer.organization_id)
    if org is None:
        raise NotFound()
    return org


async def _locked(session: AsyncSession, work: Work) -> Organization:
    org = await session.get(Organization, work.viewer.organization_id, with_for_update=True)
    if org is None:
        raise NotFound()
    return org
