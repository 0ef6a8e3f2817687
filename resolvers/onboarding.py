"""Onboarding: the organization's steps, and each customer's progress through them; the
checklist's changes are the domain's (domain/organization/onboarding.py).

Progress is never stored: each step is done when its action happened (a contract of that
kind signed, a card saved, the profile filled in, preferences confirmed), one SQL
expression (models/derived.py) read for all the customers shown at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from strawberry import Info

from core.errors import NotFound
from domain.organization.onboarding import (
    Step,
    checklist_problems,
    contract_problem,
    set_onboarding_steps,
)
from domain.portal import profile
from models import tables
from models.derived import onboarding_progress
from models.enums import OnboardingStepKind
from models.onboarding_progress import progress_statement
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from models.loaders import Scope
    from schema.mutations.onboarding import SetOnboardingStepsInput

PROGRESS = progress_statement()


@dataclass(frozen=True, slots=True)
class StepProgress:
    kind: OnboardingStepKind
    title: str
    done: bool


async def progress(info: Info, customer_id: uuid.UUID) -> list[StepProgress]:
    """The customer's steps and whether each is done, batched with every other customer of
    the request (models/onboarding_progress.py)."""
    ctx = info.context

    async def batch(ids: list[uuid.UUID]) -> list[list[StepProgress]]:
        found: dict[uuid.UUID, list[StepProgress]] = {i: [] for i in ids}
        for row in await ctx.reader.rows(PROGRESS, {"ids": list(found)}):
            step = StepProgress(row["kind"], row["title"], bool(row["done"]))
            found[row["customer_id"]].append(step)
        return [found[i] for i in ids]

    return await ctx.loaders.batched("onboarding_progress", batch).load(customer_id)


def _counted(scope: Scope) -> list[sa.Label[Any]]:
    parts = onboarding_progress(tables.customers, tables.onboarding_steps)
    return [expression.label(f"onboarding_{key}") for key, expression in parts.items()]


async def counts(info: Info, customer_id: uuid.UUID) -> RowMapping:
    """Steps done, steps in all and whether all are done (models/derived.py
    `onboarding_progress`), batched across the customers of the request."""
    loader = info.context.loaders.computed(tables.customers, "onboarding", _counted)
    row = await loader.load(customer_id)
    if row is None:
        raise NotFound(row=("Customer", customer_id))
    return row


def customers_filter(complete: bool | None) -> list[sa.ColumnElement[bool]]:
    """Conditions on the customers table: onboarding complete, or not yet."""
    if complete is None:
        return []
    done = onboarding_progress(tables.customers, tables.onboarding_steps)["complete"]
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
