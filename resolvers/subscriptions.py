"""Recurring billing from the API: inputs checked and their IDs decoded, the domain's
actions called (domain/subscriptions/)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from strawberry import Info

from core.ids import decode_id_of
from domain.edits import KEEP
from domain.problems import Rejected
from domain.subscriptions import plans, subscriptions
from domain.subscriptions.plans import PlanDetails
from domain.subscriptions.subscriptions import Change, Terms
from resolvers.inputs import decoded_id, kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.subscriptions import (
        ArchiveBillingPlanInput,
        ChangeSubscriptionInput,
        CreateBillingPlanInput,
        CreateSubscriptionInput,
        EndSubscriptionInput,
        SubscriptionIdInput,
        UpdateBillingPlanInput,
    )


def _months(
    checks: Checks, data: CreateBillingPlanInput | UpdateBillingPlanInput, *, creating: bool
) -> Any:
    """The month count an input asks for, by name or number; monthly for a new plan that
    names none, KEEP for a change that names none."""
    interval = data.interval if data.interval else None  # UNSET and null: not given
    months = data.interval_months if isinstance(data.interval_months, int) else None
    try:
        chosen = plans.months_of(interval, months)
    except Rejected as rejected:
        checks.problems += rejected.problems
        return KEEP
    if chosen is None:
        return 1 if creating else KEEP
    return chosen


def _plan_details(
    checks: Checks, data: CreateBillingPlanInput | UpdateBillingPlanInput, *, creating: bool
) -> PlanDetails:
    details = PlanDetails(
        name=kept(checks.text("name", data.name, 200, required=True)),
        amount=kept(given(data.amount)),
        tax_rate_bp=kept(checks.percent("taxRate", data.tax_rate)),
        interval_months=_months(checks, data, creating=creating),
        timing=kept(given(data.timing)),
    )
    if details.tax_rate_bp is None:  # null: no tax
        details = dataclasses.replace(details, tax_rate_bp=0)
    checks.problems += plans.plan_problems(details)
    return details


@mutation_outcome
async def create_billing_plan(info: Info, data: CreateBillingPlanInput) -> uuid.UUID:
    checks = Checks(creating=True)
    details = _plan_details(checks, data, creating=True)
    currency = checks.currency("currency", data.currency) if data.currency else None
    checks.done()
    return await plans.create_plan(info.context, details, currency)


@mutation_outcome
async def update_billing_plan(info: Info, data: UpdateBillingPlanInput) -> uuid.UUID:
    checks = Checks(creating=False)
    details = _plan_details(checks, data, creating=False)
    checks.done()
    return await plans.update_plan(info.context, decode_id_of("BillingPlan", data.id), details)


@mutation_outcome
async def archive_billing_plan(info: Info, data: ArchiveBillingPlanInput) -> uuid.UUID:
    plan_id = decode_id_of("BillingPlan", data.id)
    return await plans.archive_plan(info.context, plan_id, data.archived)


@mutation_outcome
async def create_subscription(info: Info, data: CreateSubscriptionInput) -> uuid.UUID:
    customer_id = decode_id_of("Customer", data.customer_id)
    plan_id = decode_id_of("BillingPlan", data.plan_id)
    car_id = decode_id_of("Car", data.car_id) if data.car_id else None
    checks = Checks(creating=True)
    terms = Terms(
        start_date=data.start_date,
        end_date=data.end_date,
        anchor_day=data.anchor_day,
        quantity=data.quantity,
        custom_unit_price=data.unit_price,
        storage_label=checks.text("storageLabel", data.storage_label, 100),
        payment_terms_days=data.payment_terms_days,
        autopay=data.autopay,
    )
    checks.problems += subscriptions.terms_problems(terms)
    checks.done()
    return await subscriptions.create_subscription(
        info.context, customer_id, plan_id, car_id, terms
    )


@mutation_outcome
async def change_subscription(info: Info, data: ChangeSubscriptionInput) -> uuid.UUID:
    subscription_id = decode_id_of("BillingSubscription", data.id)
    plan_id = decoded_id("BillingPlan", data.plan_id)
    checks = Checks(creating=False)
    change = Change(
        plan_id=KEEP if plan_id is None else plan_id,  # null: keep the plan it has
        custom_unit_price=kept(data.unit_price),
        quantity=kept(given(data.quantity)),
        car_id=decoded_id("Car", data.car_id),
        storage_label=kept(checks.text("storageLabel", data.storage_label, 100)),
        payment_terms_days=kept(given(data.payment_terms_days)),
        autopay=kept(given(data.autopay)),
    )
    checks.problems += subscriptions.change_problems(change)
    checks.done()
    return await subscriptions.change_subscription(info.context, subscription_id, change)


@mutation_outcome
async def pause_subscription(info: Info, data: SubscriptionIdInput) -> uuid.UUID:
    subscription_id = decode_id_of("BillingSubscription", data.id)
    return await subscriptions.pause_subscription(info.context, subscription_id)


@mutation_outcome
async def resume_subscription(info: Info, data: SubscriptionIdInput) -> uuid.UUID:
    subscription_id = decode_id_of("BillingSubscription", data.id)
    return await subscriptions.resume_subscription(info.context, subscription_id)


@mutation_outcome
async def end_subscription(info: Info, data: EndSubscriptionInput) -> uuid.UUID:
    subscription_id = decode_id_of("BillingSubscription", data.id)
    return await subscriptions.end_subscription(info.context, subscription_id, data.end_date)
