"""Estimate decisions from the API: the ID decoded, the domain's action called
(domain/billing/estimate_decisions.py), its answer or its refusal handed to the payload."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field

from strawberry import Info

from core.ids import decode_id_of
from domain.billing import estimate_decisions as decisions
from domain.problems import Problem, Rejected
from payments.requests import PaymentRequest
from resolvers.outcome import input_ids


@dataclass
class DecisionOutcome:
    estimate_id: uuid.UUID | None = None
    deposit: PaymentRequest | None = None
    problems: list[Problem] = field(default_factory=list)


async def approve_estimate(
    info: Info, estimate_gid: str, version: int, declined_lines: list[int]
) -> DecisionOutcome:
    return await _outcome(_approve(info, estimate_gid, version, declined_lines))


async def decline_estimate(
    info: Info, estimate_gid: str, version: int, reason: str, request_changes: bool
) -> DecisionOutcome:
    return await _outcome(_decline(info, estimate_gid, version, reason, request_changes))


@input_ids
async def _approve(
    info: Info, estimate_gid: str, version: int, declined_lines: list[int]
) -> decisions.Decision:
    estimate_id = decode_id_of("Estimate", estimate_gid)
    return await decisions.approve_estimate(info.context, estimate_id, version, declined_lines)


@input_ids
async def _decline(
    info: Info, estimate_gid: str, version: int, reason: str, request_changes: bool
) -> decisions.Decision:
    estimate_id = decode_id_of("Estimate", estimate_gid)
    return await decisions.decline_estimate(
        info.context, estimate_id, version, reason, request_changes=request_changes
    )


async def _outcome(deciding: Awaitable[decisions.Decision]) -> DecisionOutcome:
    try:
        decision = await deciding
    except Rejected as rejected:
        return DecisionOutcome(problems=rejected.problems)
    return DecisionOutcome(estimate_id=decision.estimate_id, deposit=decision.deposit)
