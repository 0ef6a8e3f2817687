"""The steps an organization asks new portal customers to complete."""

from __future__ import annotations

from sqlmodel import Field

from models.base import TenantRow, enum_field
from models.enums import ContractKind, OnboardingStepKind


class OnboardingStep(TenantRow, table=True):
    __tablename__ = "onboarding_steps"

    position: int = Field(default=0)
    kind: OnboardingStepKind = enum_field(OnboardingStepKind)
    title: str = Field(max_length=200)
    # SIGN_CONTRACT: the step is done once the customer signed a contract of this kind.
    contract_kind: ContractKind | None = enum_field(ContractKind, default=None, nullable=True)
