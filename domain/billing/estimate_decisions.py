"""The customer's decision on an estimate: approve (whole or line by line) or decline.

A decision is final for the version that was shown: the estimate row is locked, its status
must still be SENT at that version, and a unique (estimate, version) decision row backs
that up, so two decisions at the same moment give exactly one.

Where the organization asks for a deposit, its payment is asked of Stripe between two
transactions, never inside one: first the estimate is checked (without locking it), then
Stripe is called, then the estimate is locked, checked again and the decision recorded. The
payment's idempotency key is the version's and the amount's, so a retry, or a second
approval racing this one, finds the same PaymentIntent; an approval refused in the last step
leaves an unused PaymentIntent at Stripe and nothing here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import row_scope
from core.errors import NotFound
from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.notifications import notify_staff
from domain.problems import Common, Problem, Rejected
from domain.webhooks.events import emit
from domain.work import Work
from models import Estimate, EstimateDecision, Organization, PortalSettings
from models.derived import estimate_status
from models.enums import EstimateDecisionKind, EstimateStatus, NotificationKind
from models.money import BASIS_POINTS, divide_rounded
from models.tables import estimate_versions, estimates
from models.types import utcnow
from models.writes import visible_rows
from payments.requests import PaymentRequest, idempotency_key, online_payments_open, request_payment
from payments.stripe_api import ProviderRejected, ProviderUnavailable

MAX_REASON = 2000


@dataclass(frozen=True)
class Decision:
    estimate_id: uuid.UUID
    deposit: PaymentRequest | None = None


@dataclass(frozen=True)
class Decided:
    """What was decided about which lines of the snapshot."""

    approved: list[dict[str, Any]]
    declined: list[dict[str, Any]]

    @property
    def approved_total(self) -> int:
        return sum(int(line["total"]) for line in self.approved)


@dataclass(frozen=True)
class Shown:
    """The estimate as the customer saw it, with what its organization asks."""

    estimate: Estimate
    snapshot: dict[str, Any]
    org: Organization
    options: PortalSettings | None


async def approve_estimate(
    work: Work, estimate_id: uuid.UUID, version: int, declined_lines: list[int]
) -> Decision:
    """Approve the version shown, without the optional lines declined; where the
    organization asks for a deposit, its payment is asked for in the same step (and nothing
    is recorded if that fails). Without a deposit it is one transaction."""
    async with work.write() as session:
        shown = await _shown(session, work, estimate_id, version, lock=True)
        decided = _split(shown.snapshot, declined_lines)
        deposit = _deposit(shown, decided)
        if not deposit:
            await _approve(session, work, shown, decided, 0)
            return Decision(estimate_id=shown.estimate.id)
    # The provider is asked between two transactions, never inside one.
    request = await _ask_for_deposit(work, shown, deposit)
    async with work.write() as session:
        shown = await _shown(session, work, estimate_id, version, lock=True)
        decided = _split(shown.snapshot, declined_lines)
        if _deposit(shown, decided) != deposit:  # the deposit asked changed meanwhile
            raise Rejected(_CHANGED)
        await _approve(session, work, shown, decided, deposit)
    return Decision(estimate_id=shown.estimate.id, deposit=request)


async def _approve(
    session: AsyncSession, work: Work, shown: Shown, decided: Decided, deposit: int
) -> None:
    estimate = shown.estimate
    kind = EstimateDecisionKind.APPROVED
    session.add(_record(work, estimate, kind, shown.snapshot, decided, deposit=deposit))
    await emit(session, "estimate.approved", estimate)
    await _tell_staff(session, shown.org, estimate, kind, None)
    session.add(
        audit(
            work,
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


async def decline_estimate(
    work: Work, estimate_id: uuid.UUID, version: int, reason: str, *, request_changes: bool
) -> Decision:
    """Decline the version shown with a reason, or ask for a revised one."""
    reason = reason.strip()
    if not reason:
        raise Rejected(Problem("reason", "This field is required.", Common.REQUIRED))
    if len(reason) > MAX_REASON:
        message = f"At most {MAX_REASON} characters."
        raise Rejected(Problem("reason", message, Common.TOO_LONG))
    if "\x00" in reason:  # no database stores it as text; it is never meant
        raise Rejected(Problem("reason", "Contains a character that is not allowed (NUL)."))
    async with work.write() as session:
        shown = await _shown(session, work, estimate_id, version, lock=True)
        estimate = shown.estimate
        kind = (
            EstimateDecisionKind.CHANGES_REQUESTED
            if request_changes
            else EstimateDecisionKind.DECLINED
        )
        decided = Decided(approved=[], declined=list(shown.snapshot["lines"]))
        session.add(_record(work, estimate, kind, shown.snapshot, decided, reason=reason))
        if kind is EstimateDecisionKind.DECLINED:  # a request for changes is no verdict
            await emit(session, "estimate.declined", estimate)
        await _tell_staff(session, shown.org, estimate, kind, reason)
        session.add(
            audit(
                work,
                "estimate.declined",
                customer_id=estimate.customer_id,
                subject_type="Estimate",
                subject_id=estimate.id,
                data={"version": estimate.version, "decision": kind.value},
            )
        )
    return Decision(estimate_id=estimate.id)


_CHANGED = Problem(
    "version", "The estimate has changed since it was shown.", BillingCode.VERSION_CHANGED
)


async def _shown(
    session: AsyncSession, work: Work, estimate_id: uuid.UUID, version: int, *, lock: bool
) -> Shown:
    """The estimate at the version shown, still open to a decision by this viewer."""
    found = await visible_rows(session, Estimate, row_scope(work.viewer), [estimate_id], lock=lock)
    if not found:
        raise NotFound(row=("Estimate", estimate_id))
    estimate = found[0]
    org, options = (
        await session.execute(
            sa.select(Organization, PortalSettings)
            .outerjoin(
                PortalSettings,
                col(PortalSettings.organization_id) == col(Organization.id),
            )
            .where(col(Organization.id) == estimate.organization_id)
        )
    ).one()  # the estimate's foreign key holds the organization
    if options is not None and not options.allow_estimate_approval:
        raise Rejected(
            Problem(
                "estimateId",
                "Approvals are not taken in the portal.",
                BillingCode.APPROVAL_NOT_ALLOWED,
            )
        )
    if estimate.status is not EstimateStatus.SENT:
        raise Rejected(
            Problem(
                "estimateId",
                "This estimate has already been answered.",
                BillingCode.ALREADY_DECIDED,
            )
        )
    if estimate.version != version:
        raise Rejected(_CHANGED)
    # Expired or not is what the estimate shows (models/derived.py), at the request's clock;
    # read with the version's snapshot.
    snapshot_of = (
        sa.select(estimate_versions.c.snapshot)
        .where(
            estimate_versions.c.estimate_id == estimates.c.id,
            estimate_versions.c.version == version,
        )
        .scalar_subquery()
    )
    status, snapshot = (
        await session.execute(
            sa.select(estimate_status(estimates), snapshot_of).where(estimates.c.id == estimate.id),
            work.clock.params,
        )
    ).one()
    if status == EstimateStatus.EXPIRED:
        raise Rejected(Problem("estimateId", "This estimate has expired.", BillingCode.EXPIRED))
    assert isinstance(snapshot, dict)  # every sent version keeps its snapshot
    return Shown(estimate, snapshot, org, options)


def _split(snapshot: dict[str, Any], declined_positions: list[int]) -> Decided:
    """Optional lines may be declined one by one; the others come with the estimate."""
    lines: list[dict[str, Any]] = snapshot["lines"]
    problems = []
    declined = set(declined_positions)
    for position in declined:
        line = next((x for x in lines if x["position"] == position), None)
        if line is None:
            problems.append(Problem("declinedLines", f"There is no line {position}."))
        elif not line["optional"]:
            problems.append(Problem("declinedLines", f"Line {position} is not optional."))
    if problems:
        raise Rejected(*problems)
    return Decided(
        approved=[x for x in lines if x["position"] not in declined],
        declined=[x for x in lines if x["position"] in declined],
    )


def _deposit(shown: Shown, decided: Decided) -> int:
    """The deposit the organization asks on what is approved (0: none, or no payments)."""
    share = shown.options.estimate_deposit_bp if shown.options else 0
    if not share or not online_payments_open(shown.org, shown.options):
        return 0
    return divide_rounded(decided.approved_total * share, BASIS_POINTS)


async def _ask_for_deposit(work: Work, shown: Shown, amount: int) -> PaymentRequest:
    estimate = shown.estimate
    try:
        return await request_payment(
            work.settings,
            shown.org,
            shown.options,
            amount=amount,
            currency=estimate.currency,
            metadata={
                "portico_kind": "deposit",
                "portico_customer": str(estimate.customer_id),
                "portico_payer": str(work.viewer.contact_id or ""),
                "portico_estimate": str(estimate.id),
            },
            # One approval per version: the key is the version's, so a retried approval
            # after a timeout finds the same PaymentIntent.
            key=idempotency_key("deposit", estimate.id, estimate.version, amount),
            description=f"Deposit for estimate #{estimate.number}",
        )
    except ProviderUnavailable as error:
        message = "The payment provider could not be reached; nothing was done. Try again."
        code = BillingCode.PAYMENT_PROVIDER_UNAVAILABLE
        raise Rejected(Problem("estimateId", message, code)) from error
    except ProviderRejected as error:
        message = f"The payment provider refused: {error}"
        code = BillingCode.PAYMENT_PROVIDER_ERROR
        raise Rejected(Problem("estimateId", message, code)) from error


def _record(
    work: Work,
    estimate: Estimate,
    kind: EstimateDecisionKind,
    snapshot: dict[str, Any],
    decided: Decided,
    *,
    reason: str | None = None,
    deposit: int = 0,
) -> EstimateDecision:
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
        contact_id=work.viewer.contact_id,
        ip=work.client_ip,
        user_agent=(work.user_agent or "")[:500] or None,
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
