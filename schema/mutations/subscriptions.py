"""Mutations of recurring billing: staff keep plans and customers' subscriptions."""

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import staff_only
from domain.subscriptions.codes import SubscriptionCode
from resolvers import subscriptions as actions
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.enums import BillingInterval, BillingTiming
from schema.error_codes import code_field, error_codes
from schema.payloads import payload
from schema.subscriptions import BillingPlan, BillingSubscription

SubscriptionErrorCode = error_codes(
    "SubscriptionErrorCode",
    SubscriptionCode,
    "Why a billing plan or subscription mutation was refused.",
)


@strawberry.type(description="A problem with a billing plan or subscription mutation's input.")
class SubscriptionError(UserError):
    code: Enum = code_field(SubscriptionErrorCode)


INTERVAL = "The interval by name (MONTHLY when neither this nor `intervalMonths` is given)."
INTERVAL_MONTHS = "Months between bills, 1 to 120; must agree with `interval` if both are given."


@strawberry.input(description="A new billing plan.")
class CreateBillingPlanInput:
    name: str = strawberry.field(description="What the plan is called (up to 200 characters).")
    amount: int = strawberry.field(description="Price of one unit per period, in minor units.")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code; the organization's currency when not given."
    )
    tax_rate: Decimal | None = strawberry.field(
        default=None, description="Tax rate in percent with up to 2 decimals (default 0)."
    )
    interval: BillingInterval | None = strawberry.field(default=None, description=INTERVAL)
    interval_months: int | None = strawberry.field(default=None, description=INTERVAL_MONTHS)
    timing: BillingTiming = strawberry.field(
        default=BillingTiming.IN_ADVANCE,
        description="In advance (rent, the default) or in arrears.",
    )


@strawberry.input(description="Changes to a billing plan. Omitted fields keep their value.")
class UpdateBillingPlanInput:
    id: strawberry.ID = strawberry.field(description="The plan's global ID.")
    name: str | None = strawberry.field(default=UNSET, description="What the plan is called.")
    amount: int | None = strawberry.field(
        default=UNSET, description="Price of one unit per period, in minor units."
    )
    tax_rate: Decimal | None = strawberry.field(
        default=UNSET, description="Tax rate in percent with up to 2 decimals."
    )
    interval: BillingInterval | None = strawberry.field(
        default=UNSET, description="The interval by name."
    )
    interval_months: int | None = strawberry.field(default=UNSET, description=INTERVAL_MONTHS)
    timing: BillingTiming | None = strawberry.field(
        default=UNSET, description="In advance or in arrears."
    )


@strawberry.input(description="Archive a billing plan, or bring it back.")
class ArchiveBillingPlanInput:
    id: strawberry.ID = strawberry.field(description="The plan's global ID.")
    archived: bool = strawberry.field(
        default=True, description="True to archive (no new subscriptions), false to restore."
    )


@strawberry.input(description="Put a customer on a billing plan.")
class CreateSubscriptionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    plan_id: strawberry.ID = strawberry.field(description="The plan's global ID (not archived).")
    start_date: date = strawberry.field(description="First day covered.")
    end_date: date | None = strawberry.field(
        default=None, description="First day no longer covered, after the start; none to run on."
    )
    anchor_day: int | None = strawberry.field(
        default=None,
        description="Day of the month periods start on, 1-31 (the start date's day when not "
        "given); shorter months use their last day.",
    )
    quantity: int = strawberry.field(default=1, description="Units billed each period (>= 1).")
    unit_price: int | None = strawberry.field(
        default=None,
        description="A price of its own per unit and period, in minor units, overriding the "
        "plan's; the plan's when not given.",
    )
    car_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the customer's cars, if it is for one."
    )
    storage_label: str | None = strawberry.field(
        default=None, description="The storage space or bay (up to 100 characters)."
    )
    payment_terms_days: int | None = strawberry.field(
        default=None,
        description="Days from a bill until it is due, 0-365; the organization's invoice "
        "terms when not given.",
    )
    autopay: bool = strawberry.field(
        default=False, description="Charge its bills to the customer's card on file."
    )


@strawberry.input(
    description="Change a subscription. A new plan, price or quantity counts from today (a "
    "period billed in advance is credited or billed the difference for its days from "
    "today); the rest from its next bill on. Omitted fields keep their value."
)
class ChangeSubscriptionInput:
    id: strawberry.ID = strawberry.field(description="The subscription's global ID.")
    plan_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Another plan of the organization (not archived)."
    )
    unit_price: int | None = strawberry.field(
        default=UNSET,
        description="A price of its own in minor units; null to bill the plan's price again.",
    )
    quantity: int | None = strawberry.field(default=UNSET, description="Units per period (>= 1).")
    car_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="One of the customer's cars; null for none."
    )
    storage_label: str | None = strawberry.field(
        default=UNSET, description="The storage space or bay; null for none."
    )
    payment_terms_days: int | None = strawberry.field(
        default=UNSET, description="Days from a bill until it is due, 0-365."
    )
    autopay: bool | None = strawberry.field(
        default=UNSET, description="Charge its bills to the card on file."
    )


@strawberry.input(description="A subscription to pause or resume.")
class SubscriptionIdInput:
    id: strawberry.ID = strawberry.field(description="The subscription's global ID.")


@strawberry.input(description="End a subscription.")
class EndSubscriptionInput:
    id: strawberry.ID = strawberry.field(description="The subscription's global ID.")
    end_date: date | None = strawberry.field(
        default=None,
        description="The first day no longer covered, today or later; when not given, the "
        "end of the period running today.",
    )


@strawberry.type(description="The result of a billing plan mutation.")
class BillingPlanPayload:
    billing_plan: BillingPlan | None = strawberry.field(description="The plan.")
    user_errors: list[SubscriptionError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="The result of a subscription mutation.")
class SubscriptionPayload:
    subscription: BillingSubscription | None = strawberry.field(description="The subscription.")
    user_errors: list[SubscriptionError] = strawberry.field(description="Why nothing changed.")


async def plan_payload(info: Info, outcome: Outcome) -> BillingPlanPayload:
    return await payload(
        info,
        BillingPlanPayload,
        outcome,
        type_name="BillingPlan",
        object_field="billing_plan",
        error_cls=SubscriptionError,
        codes=SubscriptionErrorCode,
    )


async def subscription_payload(info: Info, outcome: Outcome) -> SubscriptionPayload:
    return await payload(
        info,
        SubscriptionPayload,
        outcome,
        type_name="BillingSubscription",
        object_field="subscription",
        error_cls=SubscriptionError,
        codes=SubscriptionErrorCode,
    )


@strawberry.type
class SubscriptionMutations:
    @strawberry.mutation(description="Create a billing plan.", extensions=staff_only())
    async def create_billing_plan(
        self, info: Info, input: Annotated[CreateBillingPlanInput, INPUT]
    ) -> BillingPlanPayload:
        return await plan_payload(info, await actions.create_billing_plan(info, input))

    @strawberry.mutation(
        description="Change a billing plan; its subscriptions bill the new terms from their "
        "next bill on (those with a price of their own keep it).",
        extensions=staff_only(),
    )
    async def update_billing_plan(
        self, info: Info, input: Annotated[UpdateBillingPlanInput, INPUT]
    ) -> BillingPlanPayload:
        return await plan_payload(info, await actions.update_billing_plan(info, input))

    @strawberry.mutation(
        description="Archive a billing plan (its subscriptions stay), or restore it.",
        extensions=staff_only(),
    )
    async def archive_billing_plan(
        self, info: Info, input: Annotated[ArchiveBillingPlanInput, INPUT]
    ) -> BillingPlanPayload:
        return await plan_payload(info, await actions.archive_billing_plan(info, input))

    @strawberry.mutation(description="Put a customer on a billing plan.", extensions=staff_only())
    async def create_subscription(
        self, info: Info, input: Annotated[CreateSubscriptionInput, INPUT]
    ) -> SubscriptionPayload:
        return await subscription_payload(info, await actions.create_subscription(info, input))

    @strawberry.mutation(
        description="Change a subscription's plan, price, quantity, car, space, terms or "
        "autopay; a period billed in advance is charged the new price or quantity from today "
        "(a credit note, or an invoice of the difference).",
        extensions=staff_only(),
    )
    async def change_subscription(
        self, info: Info, input: Annotated[ChangeSubscriptionInput, INPUT]
    ) -> SubscriptionPayload:
        return await subscription_payload(info, await actions.change_subscription(info, input))

    @strawberry.mutation(
        description="Pause an active subscription: nothing is billed until it is resumed.",
        extensions=staff_only(),
    )
    async def pause_subscription(
        self, info: Info, input: Annotated[SubscriptionIdInput, INPUT]
    ) -> SubscriptionPayload:
        return await subscription_payload(info, await actions.pause_subscription(info, input))

    @strawberry.mutation(description="Resume a paused subscription.", extensions=staff_only())
    async def resume_subscription(
        self, info: Info, input: Annotated[SubscriptionIdInput, INPUT]
    ) -> SubscriptionPayload:
        return await subscription_payload(info, await actions.resume_subscription(info, input))

    @strawberry.mutation(
        description="End a subscription on a given day, or at the end of the period running "
        "today; days after the end already billed in advance are credited by the proration "
        "rule (a credit note against the period's invoice).",
        extensions=staff_only(),
    )
    async def end_subscription(
        self, info: Info, input: Annotated[EndSubscriptionInput, INPUT]
    ) -> SubscriptionPayload:
        return await subscription_payload(info, await actions.end_subscription(info, input))
