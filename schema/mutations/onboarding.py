"""Mutations on onboarding: the OWNER sets the steps; portal viewers confirm preferences."""

from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import owner_only, portal_only
from resolvers import onboarding
from resolvers.outcome import Outcome
from schema.common import INPUT
from schema.customers import Customer
from schema.mutations.jobs import WorkError, WorkErrorCode
from schema.onboarding import OnboardingStepInput
from schema.organization import Organization
from schema.payloads import P, payload


@strawberry.input(description="The onboarding checklist, in order; replaces the current one.")
class SetOnboardingStepsInput:
    steps: list[OnboardingStepInput] = strawberry.field(
        description="Up to 20 steps. An empty list is refused unless `removeAll` is true."
    )
    remove_all: bool = strawberry.field(
        default=False,
        description="Say so to remove the whole checklist: new portal customers then have none.",
    )


@strawberry.type(description="The organization after its onboarding steps changed.")
class OnboardingStepsPayload:
    organization: Organization | None = strawberry.field(description="The organization.")
    user_errors: list[WorkError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The customer account after preferences were confirmed.")
class ConfirmPreferencesPayload:
    customer: Customer | None = strawberry.field(description="The customer account.")
    user_errors: list[WorkError] = strawberry.field(description="Problems.")


async def _payload(info: Info, cls: type[P], outcome: Outcome, type_name: str, field: str) -> P:
    return await payload(
        info,
        cls,
        outcome,
        type_name=type_name,
        object_field=field,
        error_cls=WorkError,
        codes=WorkErrorCode,
    )


@strawberry.type
class OnboardingMutations:
    @strawberry.mutation(
        description="Set the onboarding checklist new portal customers see (OWNER only).",
        extensions=owner_only(),
    )
    async def set_onboarding_steps(
        self, info: Info, input: Annotated[SetOnboardingStepsInput, INPUT]
    ) -> OnboardingStepsPayload:
        outcome = await onboarding.set_steps(info, input)
        return await _payload(info, OnboardingStepsPayload, outcome, "Organization", "organization")

    @strawberry.mutation(
        description="Confirm your email preferences as they are (an onboarding step).",
        extensions=portal_only(),
    )
    async def confirm_my_preferences(self, info: Info) -> ConfirmPreferencesPayload:
        outcome = await onboarding.confirm_my_preferences(info)
        return await _payload(info, ConfirmPreferencesPayload, outcome, "Customer", "customer")
