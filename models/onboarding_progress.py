"""Whether a customer has done each onboarding step, as SQL: every step completes by
itself when its underlying action happens, so progress is read, never stored."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.enums import OnboardingStepKind
from models.tables import contacts, contracts, customers
from models.tables import onboarding_steps as steps_table
from models.tables import payment_methods as methods


def steps_statement() -> sa.Select[Any]:
    org = sa.bindparam("org", type_=sa.Uuid())
    return (
        sa.select(steps_table)
        .where(steps_table.c.organization_id == org)
        .order_by(steps_table.c.position, steps_table.c.id)
    )


def step_done(step: Any, customer_id: Any = customers.c.id) -> sa.ColumnElement[bool]:
    """True where the customer has done `step` (a row of onboarding_steps)."""
    match step["kind"]:
        case OnboardingStepKind.SIGN_CONTRACT:
            return sa.exists().where(
                contracts.c.customer_id == customer_id,
                contracts.c.kind == step["contract_kind"],
                contracts.c.signed_at.is_not(None),
            )
        case OnboardingStepKind.ADD_PAYMENT_METHOD:
            return sa.exists().where(
                methods.c.customer_id == customer_id, methods.c.removed_at.is_(None)
            )
        case OnboardingStepKind.COMPLETE_PROFILE:
            return sa.and_(
                customers.c.phone.is_not(None),
                customers.c.address_line1.is_not(None),
                customers.c.city.is_not(None),
            )
        case OnboardingStepKind.CONFIRM_PREFERENCES:
            return sa.or_(
                customers.c.preferences_confirmed_at.is_not(None),
                sa.exists().where(
                    contacts.c.customer_id == customer_id,
                    contacts.c.preferences_confirmed_at.is_not(None),
                ),
            )
    return sa.false()


def all_done(steps: list[Any]) -> sa.ColumnElement[bool]:
    return sa.and_(sa.true(), *(step_done(step) for step in steps))


def progress_statement(steps: list[Any]) -> sa.Select[Any]:
    """Per customer of `ids`: one boolean column per step, in step order."""
    columns = [
        sa.case((step_done(step), True), else_=False).label(f"s{i}") for i, step in enumerate(steps)
    ]
    ids = sa.bindparam("ids", expanding=True, type_=sa.Uuid())
    return sa.select(customers.c.id, *columns).where(customers.c.id.in_(ids))
