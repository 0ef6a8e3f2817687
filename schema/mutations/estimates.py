"""Mutations on estimates: staff draft, revise, send and invoice them; customers decide."""

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import portal_only, staff_only
from resolvers import estimate_decisions as decisions
from resolvers import estimates as actions
from resolvers.outcome import Outcome
from schema.billing import Estimate
from schema.common import INPUT
from schema.mutations.billing import (
    BillingError,
    InvoicePayload,
    LineItemInput,
    billing_errors,
    billing_payload,
)
from schema.mutations.payments import PaymentRequest, payment_request
from schema.node import load_row


@strawberry.input(description="Details of an estimate. Omitted fields keep their value.")
class EstimateFields:
    car_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The customer's car it concerns; null clears it."
    )
    valid_until: date | None = strawberry.field(
        default=UNSET, description="Last day it can be approved, in the organization's zone."
    )
    notes: str | None = strawberry.field(default=UNSET, description="Notes for the customer.")
    recommendations: str | None = strawberry.field(
        default=UNSET, description="Recommended further work."
    )
    internal_notes: str | None = strawberry.field(default=UNSET, description="Staff-only notes.")
    line_items: list[LineItemInput] | None = strawberry.field(
        default=UNSET, description="All the lines, in order; replaces the current ones."
    )
    discount_percent: Decimal | None = strawberry.field(
        default=UNSET,
        description="A discount on the whole bill in percent of its lines' subtotals (up to 2 "
        "decimals), spread over the lines; null removes it.",
    )
    discount_amount: int | None = strawberry.field(
        default=UNSET,
        description="Or a fixed discount on the whole bill in minor units, spread over the "
        "lines; null removes it.",
    )


@strawberry.input(description="A new draft estimate.")
class CreateEstimateInput(EstimateFields):
    customer_id: strawberry.ID = strawberry.field(description="Who it is for.")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code; the organization's currency by default."
    )


@strawberry.input(description="Changes to an estimate. Changing a sent one starts a new version.")
class UpdateEstimateInput(EstimateFields):
    id: strawberry.ID = strawberry.field(description="The estimate's global ID.")


@strawberry.input(description="An estimate to act on.")
class EstimateInput:
    id: strawberry.ID = strawberry.field(description="The estimate's global ID.")


@strawberry.input(description="Approve the version of an estimate that was shown.")
class ApproveEstimateInput:
    estimate_id: strawberry.ID = strawberry.field(description="The estimate's global ID.")
    version: int = strawberry.field(description="The version shown to the customer.")
    declined_lines: list[int] = strawberry.field(
        default_factory=list,
        description="Positions of optional lines the customer does not want.",
    )


@strawberry.input(description="Decline the version of an estimate that was shown.")
class DeclineEstimateInput:
    estimate_id: strawberry.ID = strawberry.field(description="The estimate's global ID.")
    version: int = strawberry.field(description="The version shown to the customer.")
    reason: str = strawberry.field(description="Why, or what should change.")
    request_changes: bool = strawberry.field(
        default=False, description="Ask for a revised estimate rather than saying no."
    )


@strawberry.type(description="The result of an estimate mutation.")
class EstimatePayload:
    estimate: Estimate | None = strawberry.field(description="The estimate, when it worked.")
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of approving or declining an estimate.")
class EstimateDecisionPayload:
    estimate: Estimate | None = strawberry.field(description="The estimate, when it worked.")
    deposit_payment: PaymentRequest | None = strawberry.field(
        description="Where the organization asks for a deposit: what the client needs to pay it."
    )
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


async def estimate_payload(info: Info, outcome: Outcome) -> EstimatePayload:
    return await billing_payload(info, EstimatePayload, outcome, "Estimate", "estimate")


async def decision_payload(
    info: Info, outcome: decisions.DecisionOutcome
) -> EstimateDecisionPayload:
    errors = billing_errors(outcome.problems)
    if errors or outcome.estimate_id is None:
        return EstimateDecisionPayload(estimate=None, deposit_payment=None, user_errors=errors)
    return EstimateDecisionPayload(
        estimate=await load_row(info, "Estimate", outcome.estimate_id),
        deposit_payment=payment_request(outcome.deposit),
        user_errors=[],
    )


@strawberry.type
class EstimateMutations:
    @strawberry.mutation(description="Draft an estimate for a customer.", extensions=staff_only())
    async def create_estimate(
        self, info: Info, input: Annotated[CreateEstimateInput, INPUT]
    ) -> EstimatePayload:
        return await estimate_payload(info, await actions.create_estimate(info, input))

    @strawberry.mutation(
        description="Change an estimate. A sent or declined one becomes the next version, as "
        "a draft to send again; the version shown before can no longer be approved.",
        extensions=staff_only(),
    )
    async def update_estimate(
        self, info: Info, input: Annotated[UpdateEstimateInput, INPUT]
    ) -> EstimatePayload:
        return await estimate_payload(info, await actions.update_estimate(info, input))

    @strawberry.mutation(
        description="Send a draft estimate: its version is frozen as the customer sees it.",
        extensions=staff_only(),
    )
    async def send_estimate(
        self, info: Info, input: Annotated[EstimateInput, INPUT]
    ) -> EstimatePayload:
        return await estimate_payload(info, await actions.send_estimate(info, input.id))

    @strawberry.mutation(
        description="Make a draft invoice of an approved estimate's approved lines; deposits "
        "paid on the estimate count towards it.",
        extensions=staff_only(),
    )
    async def invoice_estimate(
        self, info: Info, input: Annotated[EstimateInput, INPUT]
    ) -> InvoicePayload:
        outcome = await actions.invoice_estimate(info, input.id)
        return await billing_payload(info, InvoicePayload, outcome, "Invoice", "invoice")

    @strawberry.mutation(
        description="Approve the version shown, whole or without some optional lines. Final "
        "for that version.",
        extensions=portal_only(),
    )
    async def approve_estimate(
        self, info: Info, input: Annotated[ApproveEstimateInput, INPUT]
    ) -> EstimateDecisionPayload:
        decided = await decisions.approve_estimate(
            info, input.estimate_id, input.version, input.declined_lines
        )
        return await decision_payload(info, decided)

    @strawberry.mutation(
        description="Decline the version shown, with a reason, or ask for changes.",
        extensions=portal_only(),
    )
    async def decline_estimate(
        self, info: Info, input: Annotated[DeclineEstimateInput, INPUT]
    ) -> EstimateDecisionPayload:
        decided = await decisions.decline_estimate(
            info, input.estimate_id, input.version, input.reason, input.request_changes
        )
        return await decision_payload(info, decided)
