"""The customer's decision on an estimate: approve (whole or line by line) or decline.

A decision is final for the version that was shown: the estimate row is locked, its status
must still be SENT at that version, and a unique (estimate, version) decision row backs
that up, so two decisions at the same moment give exactly one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from auth.access import row_scope
from core.errors import NotFound
from core.ids import decode_id_of
from domain.audit import audit
from domain.notifications import notify_staff
from models import Estimate, EstimateDecision, EstimateVersion, Organization, PortalSettings
from models import relations as rel
from models.derived import estimate_status
from models.enums import EstimateDecisionKind, EstimateStatus, NotificationKind
from models.money import BASIS_POINTS, divide_rounded
from models.types import utcnow
from models.writes import visible_for_update
from payments.requests import PaymentRequest, idempotency_key, payments_enabled, request_payment
from payments.stripe_api import ProviderRejected, ProviderUnavailable
from resolvers.outcome import input_ids
from resolvers.payments import provider_problem
from resolvers.validation import Checks, Problem, Rejected


@dataclass
class DecisionOutcome:
    estimate_id: uuid.UUID | None = None
    deposit: PaymentRequest | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Decided:
    """What was decided about which lines of the snapshot."""

    approved: list[dict[str, Any]]
    declined: list[dict[str, Any]]

    @property
    def approved_total(self) -> int:
        return sum(line["total"] for line in self.approved)


@input_ids
async def _open_estimate(
    session: AsyncSession, info: Info, estimate_gid: str, version: int
) -> tuple[Estimate, dict[str, Any], Organization, PortalSettings | None]:
    viewer = info.context.viewer
    found = await visible_for_update(
        session, Estimate, row_scope(viewer), [decode_id_of("Estimate", estimate_gid)]
    )
    if not found:
        raise NotFound(global_id=estimate_gid)
    estimate = found[0]
    org = await session.get(Organization, estimate.organization_id)
    options = await session.get(PortalSettings, estimate.organization_id)
    if options is not None and not options.allow_estimate_approval:
        raise Rejected(
            Problem("estimateId", "Approvals are not taken in the portal.", "APPROVAL_NOT_ALLOWED")
        )
    if estimate.status is not EstimateStatus.SENT:
        raise Rejected(
            Problem("estimateId", "This estimate has already been answered.", "ALREADY_DECIDED")
        )
    if estimate.version != version:
        raise Rejected(
            Problem("version", "The estimate has changed since it was shown.", "VERSION_CHANGED")
        )
    # Expired or not is what the estimate shows (models/derived.py), at the request's clock.
    shown = await session.scalar(
        sa.select(estimate_status(rel.estimates)).where(rel.estimates.c.id == estimate.id),
        info.context.clock.params,
    )
    if shown == EstimateStatus.EXPIRED:
        raise Rejected(Problem("estimateId", "This estimate has expired.", "EXPIRED"))
    snapshot = await session.execute(
        sa.select(EstimateVersion.snapshot).where(
            EstimateVersion.estimate_id == estimate.id, EstimateVersion.version == version
        )
    )
    return estimate, snapshot.scalar_one(), org, options


def _split(snapshot: dict[str, Any], declined_positions: list[int]) -> Decided:
    """Optional lines may be declined one by one; the others come with the estimate."""
    lines = snapshot["lines"]
    checks = Checks()
    declined = set(declined_positions)
    for position in declined:
        line = next((x for x in lines if x["position"] == position), None)
        if line is None:
            checks.fail("declinedLines", f"There is no line {position}.")
        elif not line["optional"]:
            checks.fail("declinedLines", f"Line {position} is not optional.")
    checks.done()
    return Decided(
        approved=[x for x in lines if x["position"] not in declined],
        declined=[x for x in lines if x["position"] in declined],
    )


def _record(
    info: Info,
    estimate: Estimate,
    kind: EstimateDecisionKind,
    snapshot: dict[str, Any],
    decided: Decided,
    *,
    reason: str | None = None,
    deposit: int = 0,
) -> EstimateDecision:
    ctx = info.context
    viewer = ctx.viewer
    now = utcnow()
    estimate.status = (
        EstimateStatus.APPROVED
        if kind is EstimateDecisionKind.APPROVED
        else EstimateStatus.DECLINED
    )
    estimate.decided_at = estimate.updated_at = now
    return EstimateDecision(
        organization_id=estimate.organization_id,
        estimate_id=estimate.id,
        version=estimate.version,
        decision=kind,
        approved_line_ids=[x["id"] for x in decided.approved],
        declined_line_ids=[x["id"] for x in decided.declined],
        approved_total=decided.approved_total if kind is EstimateDecisionKind.APPROVED else 0,
        deposit_amount=deposit,
        reason=reason,
        customer_id=estimate.customer_id,
        contact_id=viewer.contact_id,
        ip=ctx.client_ip,
        user_agent=(ctx.user_agent or "")[:500] or None,
        snapshot=snapshot,
        created_at=now,
    )


async def _tell_staff(
    session: AsyncSession,
    org: Organization,
    estimate: Estimate,
    kind: EstimateDecisionKind,
    reason: str | None,
) -> None:
    words = {
        EstimateDecisionKind.APPROVED: "approved",
        EstimateDecisionKind.DECLINED: "declined",
        EstimateDecisionKind.CHANGES_REQUESTED: "asks for changes to",
    }[kind]
    title = f"The customer {words} estimate #{estimate.number}"
    body = f"Version {estimate.version}." + (f" Reason: {reason}" if reason else "")
    notification = (
        NotificationKind.ESTIMATE_APPROVED
        if kind is EstimateDecisionKind.APPROVED
        else NotificationKind.ESTIMATE_DECLINED
    )
    await notify_staff(
        session, org, notification, title, body, subject_type="Estimate", subject_id=estimate.id
    )


async def approve_estimate(info: Info, data: Any) -> DecisionOutcome:
    """Approve the shown version; where the organization asks for a deposit, the payment
    for it is requested in the same step (and nothing is recorded if that fails)."""
    ctx = info.context
    try:
        async with ctx.write() as session:
            estimate, snapshot, org, options = await _open_estimate(
                session, info, data.estimate_id, data.version
            )
            decided = _split(snapshot, list(data.declined_lines or []))
            deposit_bp = options.estimate_deposit_bp if options else 0
            deposit = divide_rounded(decided.approved_total * deposit_bp, BASIS_POINTS)
            request = None
            if deposit > 0 and payments_enabled(org, options):
                request = await _deposit(ctx, org, options, estimate, deposit)
            else:
                deposit = 0
            kind = EstimateDecisionKind.APPROVED
            session.add(_record(info, estimate, kind, snapshot, decided, deposit=deposit))
            await _tell_staff(session, org, estimate, kind, None)
            session.add(
                audit(
                    ctx,
                    "estimate.approved",
                    customer_id=estimate.customer_id,
                    subject_type="Estimate",
                    subject_id=estimate.id,
                    data={
                        "version": estimate.version,
                        "deposit": deposit,
                        "approved_total": decided.approved_total,
                    },
                )
            )
        return DecisionOutcome(estimate_id=estimate.id, deposit=request)
    except Rejected as rejected:
        return DecisionOutcome(problems=rejected.problems)


async def _deposit(
    ctx: Any, org: Organization, options: PortalSettings | None, estimate: Estimate, amount: int
) -> PaymentRequest:
    viewer = ctx.viewer
    try:
        return await request_payment(
            ctx.settings,
            org,
            options,
            amount=amount,
            currency=estimate.currency,
            metadata={
                "portico_kind": "deposit",
                "portico_customer": str(estimate.customer_id),
                "portico_payer": str(viewer.contact_id or ""),
                "portico_estimate": str(estimate.id),
            },
            # One approval per version: the key is the version's, so a retried approval
            # after a timeout finds the same PaymentIntent.
            key=idempotency_key("deposit", estimate.id, estimate.version, amount),
            description=f"Deposit for estimate #{estimate.number}",
        )
    except (ProviderUnavailable, ProviderRejected) as error:
        raise Rejected(provider_problem(error, "estimateId")) from error


async def decline_estimate(info: Info, data: Any) -> DecisionOutcome:
    checks = Checks()
    reason = checks.text("reason", data.reason, 2000, required=True)
    ctx = info.context
    try:
        checks.done()
        async with ctx.write() as session:
            estimate, snapshot, org, _ = await _open_estimate(
                session, info, data.estimate_id, data.version
            )
            kind = (
                EstimateDecisionKind.CHANGES_REQUESTED
                if data.request_changes
                else EstimateDecisionKind.DECLINED
            )
            decided = Decided(approved=[], declined=list(snapshot["lines"]))
            session.add(_record(info, estimate, kind, snapshot, decided, reason=reason))
            await _tell_staff(session, org, estimate, kind, reason)
            session.add(
                audit(
                    ctx,
                    "estimate.declined",
                    customer_id=estimate.customer_id,
                    subject_type="Estimate",
                    subject_id=estimate.id,
                    data={"version": estimate.version, "decision": kind.value},
                )
            )
        return DecisionOutcome(estimate_id=estimate.id)
    except Rejected as rejected:
        return DecisionOutcome(problems=rejected.problems)
