"""Onboarding: the steps an organization asks of new portal customers, and progress."""

import uuid
from enum import Enum

import strawberry
from strawberry import Info

from models import tables
from resolvers.onboarding import counts, progress
from schema.enums import ContractKind, OnboardingStepKind
from schema.node import RowType, row_type


@strawberry.type(description="One onboarding step and whether the customer has done it.")
class OnboardingStepStatus:
    kind: OnboardingStepKind = strawberry.field(description="What the step asks.")
    title: str = strawberry.field(description="As the customer sees it.")
    done: bool = strawberry.field(description="Done: it completes by itself when it happens.")


@row_type(tables.onboarding_steps, node=False)
@strawberry.type(description="A step of the organization's onboarding checklist.")
class OnboardingStepDefinition(RowType):
    kind: OnboardingStepKind = strawberry.field(description="What the step asks.")
    title: str = strawberry.field(description="As the customer sees it.")
    contract_kind: ContractKind | None = strawberry.field(
        description="SIGN_CONTRACT: the kind of contract to sign; any signed contract of "
        "this kind completes the step."
    )


@strawberry.type(description="A customer's progress through the organization's onboarding.")
class Onboarding:
    customer_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The steps, in order.")
    async def steps(self, info: Info) -> list[OnboardingStepStatus]:
        return [
            OnboardingStepStatus(kind=s.kind, title=s.title, done=s.done)
            for s in await progress(info, self.customer_id)
        ]

    # The three below: models/derived.py `onboarding_progress`, selected for all the
    # customers of the response at once.
    @strawberry.field(description="How many steps are done.")
    async def completed(self, info: Info) -> int:
        return int((await counts(info, self.customer_id))["onboarding_completed"])

    @strawberry.field(description="How many steps there are.")
    async def total(self, info: Info) -> int:
        return int((await counts(info, self.customer_id))["onboarding_total"])

    @strawberry.field(description="Every step is done (true when there are none).")
    async def is_complete(self, info: Info) -> bool:
        return bool((await counts(info, self.customer_id))["onboarding_complete"])


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


def onboarding_of(customer_id: uuid.UUID) -> Onboarding:
    return Onboarding(customer_id=customer_id)
