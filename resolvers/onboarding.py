"""Onboarding: the organization's steps, and each customer's progress through them; the
checklist's changes are the domain's (domain/organization/onboarding.py).

Progress is never stored: each step is done when its action happened (a contract of that
kind signed, a card saved, the profile filled in, preferences confirmed), read in one
statement per request for all the customers shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from strawberry import Info

from domain.organization.onboarding import (
    Step,
    checklist_problems,
    contract_problem,
    set_onboarding_steps,
)
from domain.portal import profile
from models.enums import OnboardingStepKind
from models.onboarding_progress import all_done, progress_statement, steps_statement
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.onboarding import SetOnboardingStepsInput

STEPS = steps_statement()


@dataclass(frozen=True, slots=True)
class StepProgress:
    kind: OnboardingStepKind
    title: str
    done: bool


async def steps(info: Info) -> list[Any]:
    """The organization's steps, read once per request."""
    ctx = info.context

    async def batch(orgs: list[uuid.UUID]) -> list[list[Any]]:
        return [list(await ctx.reader.rows(STEPS, {"org": org})) for org in orgs]

    org = ctx.viewer.organization_id
    return [] if org is None else await ctx.loaders.batched("onboarding_steps", batch).load(org)


async def progress(info: Info, customer_id: uuid.UUID) -> list[StepProgress]:
    """The customer's progress, batched with every other customer of the request."""
    org_steps = await steps(info)
    if not org_steps:
        return []
    ctx = info.context

    async def batch(ids: list[uuid.UUID]) -> list[list[bool]]:
        rows = await ctx.reader.rows(progress_statement(org_steps), {"ids": list(set(ids))})
        found = {row["id"]: [bool(row[f"s{i}"]) for i in range(len(org_steps))] for row in rows}
        return [found.get(i, [False] * len(org_steps)) for i in ids]

    done = await ctx.loaders.batched("onboarding_progress", batch).load(customer_id)
    return [StepProgress(s["kind"], s["title"], d) for s, d in zip(org_steps, done, strict=True)]


async def customers_filter(info: Info, complete: bool | None) -> list[sa.ColumnElement[bool]]:
    """Conditions on the customers table: onboarding complete, or not yet."""
    if complete is None:
        return []
    done = all_done(await steps(info))
    return [done if complete else sa.not_(done)]


@mutation_outcome
async def set_steps(info: Info, data: SetOnboardingStepsInput) -> uuid.UUID:
    """Replace the organization's steps with the given list, in order (OWNER)."""
    checks = Checks(creating=True)
    checks.problems.extend(checklist_problems(len(data.steps), remove_all=data.remove_all))
    steps = []
    for index, step in enumerate(data.steps):
        title = checks.text(f"steps.{index}.title", step.title, 200, required=True)
        problem = contract_problem(index, step.kind, step.contract_kind)
        if problem is not None:
            checks.problems.append(problem)
        steps.append(Step(step.kind, title, step.contract_kind))
    checks.done()
    return await set_onboarding_steps(info.context, steps, remove_all=data.remove_all)


@mutation_outcome
async def confirm_my_preferences(info: Info) -> uuid.UUID:
    """The portal viewer has looked at their email preferences and keeps them."""
    return await profile.confirm_preferences(info.context)
