"""Onboarding: the steps an organization asks of new portal customers, and progress."""

import uuid
from enum import Enum

import strawberry
from strawberry import Info

from resolvers.onboarding import progress
from schema.enums import ContractKind, OnboardingStepKind


@strawberry.type(description="One onboarding step and whether the customer has done it.")
class OnboardingStepStatus:
    kind: OnboardingStepKind = strawberry.field(description="What the step asks.")
    title: str = strawberry.field(description="As the customer sees it.")
    done: bool = strawberry.field(description="Done: it completes by itself when it happens.")


@strawberry.type(description="A step of the organization's onboarding checklist.")
class OnboardingStepDefinition:
    kind: OnboardingStepKind = strawberry.field(description="What the step asks.")
    title: str = strawberry.field(description="As the customer sees it.")
    contract_kind: ContractKind | None = strawberry.field(
        description="SIGN_CONTRACT: the kind of contract to sign; any signed contract of "
        "this kind completes the step."
    )


@strawberry.type(description="A customer's progress through the organization's onboarding.")
class Onboarding:
    steps: list[OnboardingStepStatus] = strawberry.field(description="The steps, in order.")

    @strawberry.field(description="How many steps are done.")
    def completed(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @strawberry.field(description="How many steps there are.")
    def total(self) -> int:
        return len(self.steps)

    @strawberry.field(description="Every step is done (true when there are none).")
    def is_complete(self) -> bool:
        return all(step.done for step in self.steps)


@strawberry.enum(description="Customers by onboarding progress.")
class OnboardingFilter(Enum):
    COMPLETE = "COMPLETE"
    INCOMPLETE = "INCOMPLETE"


@strawberry.input(description="One step of the onboarding checklist.")
class OnboardingStepInput:
    kind: OnboardingStepKind = strawberry.field(description="What the step asks.")
    title: str = strawberry.field(description="As the customer sees it.")
    contract_kind: ContractKind | None = strawberry.field(
        default=None,
        description="SIGN_CONTRACT (required there): the kind of contract to sign; any "
        "signed contract of this kind completes the step.",
    )


async def onboarding_of(info: Info, customer_id: uuid.UUID) -> Onboarding:
    steps = await progress(info, customer_id)
    return Onboarding(
        steps=[OnboardingStepStatus(kind=s.kind, title=s.title, done=s.done) for s in steps]
    )
