"""The onboarding checklist new portal customers see (OWNER only). Progress is never stored
(models/derived.py `onboarding_step_done`): a step is done when its action happened."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from core.errors import Forbidden
from domain.audit import audit
from domain.problems import Common, Problem, Rejected
from domain.work import Work
from models import OnboardingStep
from models.enums import ContractKind, OnboardingStepKind

MAX_STEPS = 20


@dataclass(frozen=True)
class Step:
    kind: OnboardingStepKind
    title: str  # cleaned: trimmed, not empty
    contract_kind: ContractKind | None = None  # SIGN_CONTRACT: the kind to sign


def checklist_problems(count: int, *, remove_all: bool) -> list[Problem]:
    """What is wrong with a checklist of `count` steps as a whole."""
    problems = []
    if count > MAX_STEPS:
        problems.append(Problem("steps", f"At most {MAX_STEPS} steps.", Common.TOO_LONG))
    if not count and not remove_all:  # an empty list is too easy to send by mistake
        message = "Give at least one step, or set removeAll."
        problems.append(Problem("steps", message, Common.REQUIRED))
    return problems


def contract_problem(
    index: int, kind: OnboardingStepKind, contract_kind: ContractKind | None
) -> Problem | None:
    """Only a SIGN_CONTRACT step names a contract, by kind (titles change; kinds do not)."""
    if kind is OnboardingStepKind.SIGN_CONTRACT and contract_kind is None:
        field = f"steps.{index}.contractKind"
        return Problem(field, "Name the contract to sign.", Common.REQUIRED)
    return None


def _contract(step: Step) -> ContractKind | None:
    """A contract kind given to another kind of step is dropped."""
    signing = step.kind is OnboardingStepKind.SIGN_CONTRACT
    return step.contract_kind if signing else None


async def set_onboarding_steps(
    work: Work, steps: list[Step], *, remove_all: bool = False
) -> uuid.UUID:
    """Replace the organization's steps with these, in order; an empty list only with
    `remove_all`."""
    problems = checklist_problems(len(steps), remove_all=remove_all)
    for index, step in enumerate(steps):
        problem = contract_problem(index, step.kind, step.contract_kind)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise Rejected(*problems)
    org_id = work.viewer.organization_id
    if org_id is None:  # the OWNER's
        raise Forbidden()
    async with work.write() as session:
        await session.execute(
            sa.delete(OnboardingStep).where(col(OnboardingStep.organization_id) == org_id)
        )
        for position, step in enumerate(steps):
            session.add(
                OnboardingStep(
                    organization_id=org_id,
                    position=position,
                    kind=step.kind,
                    title=step.title,
                    contract_kind=_contract(step),
                )
            )
        session.add(audit(work, "settings.onboarding_updated", data={"steps": len(steps)}))
    return org_id
