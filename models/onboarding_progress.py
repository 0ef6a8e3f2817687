"""The statement that reads customers' onboarding: each step of their organization's
checklist, in order, with whether it is done (models/derived.py `onboarding_step_done`,
the expression the planner writes too)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.derived import onboarding_step_done
from models.tables import customers
from models.tables import onboarding_steps as steps


def progress_statement() -> sa.Select[Any]:
    """Per customer of `ids`: one row per step of the checklist, in order."""
    ids = sa.bindparam("ids", expanding=True, type_=sa.Uuid())
    theirs = customers.join(steps, steps.c.organization_id == customers.c.organization_id)
    return (
        sa.select(
            customers.c.id.label("customer_id"),
            steps.c.kind,
            steps.c.title,
            onboarding_step_done(steps, customers).label("done"),
        )
        .select_from(theirs)
        .where(customers.c.id.in_(ids))
        .order_by(customers.c.id, steps.c.position, steps.c.id)
    )
