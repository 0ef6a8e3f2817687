"""Onboarding progress (models/derived.py `onboarding_step_done`, `onboarding_progress`):
the SQL, on both dialects, against a plain-Python model of the checklist's rules.

A SIGN_CONTRACT step is done by a signed contract of its kind; ADD_PAYMENT_METHOD by a
saved card not removed; COMPLETE_PROFILE by a phone, a first address line and a city;
CONFIRM_PREFERENCES by the customer's or any of their contacts' confirmation. The
checklist is complete when every step is done, and so when there is none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Contact, Contract, Customer, Organization
from models.db import Database
from models.derived import onboarding_progress
from models.enums import ContractKind, ContractStatus, OnboardingStepKind
from models.onboarding import OnboardingStep
from models.onboarding_progress import progress_statement
from models.tables import customers, onboarding_steps
from models.wallet import SavedPaymentMethod
from models.writes import add_in_order
from resolvers.onboarding import customers_filter

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
KINDS = [ContractKind.STORAGE_AGREEMENT, ContractKind.LIABILITY_WAIVER, ContractKind.OTHER]


@dataclass(frozen=True)
class Facts:
    contracts: list[tuple[ContractKind, bool]]  # (kind, signed)
    cards: list[bool]  # removed
    phone: bool
    address: bool
    city: bool
    confirmed: bool
    contacts_confirmed: list[bool]


def model_done(step: tuple[OnboardingStepKind, ContractKind | None], facts: Facts) -> bool:
    kind, contract_kind = step
    if kind is OnboardingStepKind.SIGN_CONTRACT:
        return any(k == contract_kind and signed for k, signed in facts.contracts)
    if kind is OnboardingStepKind.ADD_PAYMENT_METHOD:
        return any(not removed for removed in facts.cards)
    if kind is OnboardingStepKind.COMPLETE_PROFILE:
        return facts.phone and facts.address and facts.city
    return facts.confirmed or any(facts.contacts_confirmed)


steps_strategy = st.lists(
    st.one_of(
        st.tuples(st.just(OnboardingStepKind.SIGN_CONTRACT), st.sampled_from(KINDS)),
        st.tuples(
            st.sampled_from(
                [
                    OnboardingStepKind.ADD_PAYMENT_METHOD,
                    OnboardingStepKind.COMPLETE_PROFILE,
                    OnboardingStepKind.CONFIRM_PREFERENCES,
                ]
            ),
            st.none(),
        ),
    ),
    max_size=5,
)
facts_strategy = st.builds(
    Facts,
    contracts=st.lists(st.tuples(st.sampled_from(KINDS), st.booleans()), max_size=3),
    cards=st.lists(st.booleans(), max_size=2),
    phone=st.booleans(),
    address=st.booleans(),
    city=st.booleans(),
    confirmed=st.booleans(),
    contacts_confirmed=st.lists(st.booleans(), max_size=2),
)


async def _rows(
    db: Database, steps: list[tuple[OnboardingStepKind, ContractKind | None]], facts: Facts
) -> uuid.UUID:
    org = Organization(name="Onboarding", slug=f"onb-{uuid.uuid4().hex[:10]}")
    customer = Customer(
        organization_id=org.id,
        name="Alex",
        phone="555" if facts.phone else None,
        address_line1="1 Quay" if facts.address else None,
        city="Harbor" if facts.city else None,
        preferences_confirmed_at=NOW if facts.confirmed else None,
    )
    rows: list[Any] = [org, customer]
    tenant = {"organization_id": org.id}
    rows += [
        OnboardingStep(**tenant, position=i, kind=kind, title=f"Step {i}", contract_kind=ck)
        for i, (kind, ck) in enumerate(steps)
    ]
    mine = {**tenant, "customer_id": customer.id}
    rows += [
        Contract(
            **mine,
            title="Terms",
            terms="T",
            kind=kind,
            status=ContractStatus.SIGNED if signed else ContractStatus.SENT,
            signed_at=NOW if signed else None,
        )
        for kind, signed in facts.contracts
    ]
    rows += [
        SavedPaymentMethod(
            **mine,
            stripe_payment_method_id=f"pm_{uuid.uuid4().hex}",
            brand="visa",
            last4="4242",
            exp_month=1,
            exp_year=2030,
            removed_at=NOW if removed else None,
        )
        for removed in facts.cards
    ]
    rows += [
        Contact(**mine, name="Robin", preferences_confirmed_at=NOW if confirmed else None)
        for confirmed in facts.contacts_confirmed
    ]
    async with db.write() as session:
        await add_in_order(session, rows)
    return customer.id


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps_strategy, facts=facts_strategy)
async def test_progress_matches_the_model(db: Database, steps: Any, facts: Facts):
    customer_id = await _rows(db, steps, facts)
    expected = [model_done(step, facts) for step in steps]
    progress = onboarding_progress(customers, onboarding_steps)
    counted = sa.select(*(v.label(k) for k, v in progress.items())).where(
        customers.c.id == customer_id
    )

    def listed(complete: bool) -> sa.Select[Any]:
        return sa.select(customers.c.id).where(
            customers.c.id == customer_id, *customers_filter(complete)
        )

    async with db.connect() as conn:
        rows = (await conn.execute(progress_statement(), {"ids": [customer_id]})).all()
        counts = (await conn.execute(counted)).one()
        complete_listed = (await conn.execute(listed(True))).all()
        incomplete_listed = (await conn.execute(listed(False))).all()
    assert [(row.kind, bool(row.done)) for row in rows] == [
        (kind, done) for (kind, _), done in zip(steps, expected, strict=True)
    ]
    assert counts.completed == sum(expected)
    assert counts.total == len(steps)
    assert bool(counts.complete) is all(expected)
    assert bool(complete_listed) is all(expected)
    assert bool(incomplete_listed) is not all(expected)
