"""Staff estimate mutations from the API: the input checked and its IDs decoded, the
domain's action called (domain/billing/estimates.py), its answer or refusal handed to the
payload. The customer's decisions are resolvers/estimate_decisions.py."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.billing import estimates
from resolvers.bills import currency_of, discount_of, lines_of, with_car
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.estimates import (
        CreateEstimateInput,
        EstimateFields,
        UpdateEstimateInput,
    )


def _details(checks: Checks, data: EstimateFields) -> estimates.EstimateDetails:
    notes = checks.text("notes", data.notes, 5000)
    recommendations = checks.text("recommendations", data.recommendations, 5000)
    internal_notes = checks.text("internalNotes", data.internal_notes, 10000)
    discount = discount_of(checks, data)
    lines = lines_of(checks, data, optional_allowed=True)
    checks.done()
    return estimates.EstimateDetails(
        valid_until=kept(data.valid_until),
        notes=kept(notes),
        recommendations=kept(recommendations),
        internal_notes=kept(internal_notes),
        lines=lines,
        discount=discount,
    )


@mutation_outcome
async def create_estimate(info: Info, data: CreateEstimateInput) -> uuid.UUID:
    details = _details(Checks(creating=True), data)
    currency = currency_of(data)
    customer_id = decode_id_of("Customer", data.customer_id)
    details = with_car(details, data)
    return await estimates.create_estimate(info.context, customer_id, details, currency)


@mutation_outcome
async def update_estimate(info: Info, data: UpdateEstimateInput) -> uuid.UUID:
    details = _details(Checks(creating=False), data)
    estimate_id = decode_id_of("Estimate", data.id)
    details = with_car(details, data)
    return await estimates.update_estimate(info.context, estimate_id, details)


@mutation_outcome
async def send_estimate(info: Info, gid: str) -> uuid.UUID:
    estimate_id = decode_id_of("Estimate", gid)
    return await estimates.send_estimate(info.context, estimate_id)


@mutation_outcome
async def invoice_estimate(info: Info, gid: str) -> uuid.UUID:
    estimate_id = decode_id_of("Estimate", gid)
    return await estimates.invoice_estimate(info.context, estimate_id)
