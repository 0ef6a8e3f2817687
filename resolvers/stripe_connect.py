"""An OWNER connects the organization's Stripe account: the domain's actions called
(domain/payments/stripe_connect.py), their answer or refusal handed to the payload."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry import Info

from domain.payments import stripe_connect
from domain.problems import Problem, Rejected


@dataclass
class OnboardingOutcome:
    url: str | None = None
    problems: list[Problem] = field(default_factory=list)


async def start_onboarding(info: Info) -> OnboardingOutcome:
    try:
        return OnboardingOutcome(url=await stripe_connect.start_onboarding(info.context))
    except Rejected as rejected:
        return OnboardingOutcome(problems=rejected.problems)


async def refresh_account(info: Info) -> OnboardingOutcome:
    try:
        await stripe_connect.refresh_account(info.context)
    except Rejected as rejected:
        return OnboardingOutcome(problems=rejected.problems)
    return OnboardingOutcome()
