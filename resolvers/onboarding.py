"""Onboarding: the organization's steps, and each customer's progress through them.

Progress is never stored: each step is done when its action happened (a contract of that
kind signed, a card saved, the profile filled in, preferences confirmed), read in one
statement per request for all the customers shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from strawberry import Info

from core.errors import NotFound
from domain.audit import audit
from models import Contact, Customer, OnboardingStep
from models.enums import OnboardingStepKind
from models.onboarding_progress import all_done, progress_statement, steps_statement
from models.types import utcnow
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks

STEPS = steps_statement()
MAX_STEPS = 20


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
async def set_steps(info: Info, data: Any) -> uuid.UUID:
    """Replace the organization's steps with the given list, in order (OWNER)."""
    checks = Checks(creating=True)
    if len(data.steps) > MAX_STEPS:
        checks.fail("steps", f"At most {MAX_STEPS} steps.", "TOO_LONG")
    if not data.steps and not data.remove_all:  # an empty list is too easy to send by mistake
        checks.fail("steps", "Give at least one step, or set removeAll.", "REQUIRED")
    cleaned = []
    for index, step in enumerate(data.steps):
        title = checks.text(f"steps.{index}.title", step.title, 200, required=True)
        # Only a SIGN_CONTRACT step names a contract, by kind (titles change; kinds do not).
        signing = step.kind is OnboardingStepKind.SIGN_CONTRACT
        contract = step.contract_kind if signing else None
        if signing and contract is None:
            checks.fail(f"steps.{index}.contractKind", "Name the contract to sign.", "REQUIRED")
        cleaned.append((step.kind, title, contract))
    checks.done()
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        await session.execute(
            sa.delete(OnboardingStep).where(OnboardingStep.organization_id == org_id)
        )
        for position, (kind, title, contract) in enumerate(cleaned):
            session.add(
                OnboardingStep(
                    organization_id=org_id,
                    position=position,
                    kind=kind,
                    title=title,
                    contract_kind=contract,
                )
            )
        session.add(audit(ctx, "settings.onboarding_updated", data={"steps": len(cleaned)}))
    return org_id


@mutation_outcome
async def confirm_my_preferences(info: Info) -> uuid.UUID:
    """The portal viewer has looked at their email preferences and keeps them."""
    viewer = info.context.viewer
    async with info.context.write() as session:
        model = Contact if viewer.contact_id else Customer
        row = await session.get(
            model, viewer.contact_id or viewer.customer_id, with_for_update=True
        )
        if row is None or row.organization_id != viewer.organization_id:
            raise NotFound()
        row.preferences_confirmed_at = utcnow()
        row.updated_at = utcnow()
    return viewer.customer_id
