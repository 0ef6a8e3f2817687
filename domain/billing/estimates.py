"""Staff work on estimates: draft, revise, send (freezing a version), and bill when approved.

Sending freezes the version the customer sees: a snapshot of its lines and totals. Changing
a sent estimate starts the next version, so an approval always names exactly what was
shown; the old version can no longer be approved. The customer's decisions are
domain/billing/estimate_decisions.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import NotFound
from core.ids import encode_id
from domain.audit import audit
from domain.billing.bills import (
    draft_bill,
    draft_to_send,
    revise_bill,
)
from domain.billing.codes import BillingCode
from domain.billing.lines import BillDiscount, LineInput, as_shown, replace_lines
from domain.billing_mail import notify_customer_of_estimate
from domain.edits import KEEP, Edit, changes
from domain.portal.portal_access import invite_with_first_bill
from domain.problems import Problem, Rejected
from domain.rows import locked
from domain.webhooks.events import settle_told
from domain.work import Work
from models import Estimate, EstimateDecision, EstimateVersion, Invoice
from models.calendar import end_of_day
from models.enums import EstimateDecisionKind, EstimateStatus
from models.numbering import ESTIMATE_COUNTER, next_number
from models.tables import estimate_lines, invoices, payments
from models.types import utcnow
from models.writes import add_in_order

REVISABLE = (EstimateStatus.DRAFT, EstimateStatus.SENT, EstimateStatus.DECLINED)
# A line as an estimate's snapshot keeps it.
LINE_COLUMNS = (
    "position",
    "kind",
    "description",
    "quantity_milli",
    "unit_price",
    "unit_cost",
    "tax_rate_bp",
    "discount_bp",
    "discount_fixed",
    "discount",
    "subtotal",
    "tax",
    "total",
    "optional",
)


@dataclass(frozen=True)
class EstimateDetails:
    """What staff set on an estimate; KEEP leaves a field as it is (or unset, on a new one).
    Text is given cleaned: trimmed, empty as None."""

    car_id: Edit[uuid.UUID | None] = KEEP
    valid_until: Edit[date | None] = KEEP
    notes: Edit[str | None] = KEEP
    recommendations: Edit[str | None] = KEEP
    internal_notes: Edit[str | None] = KEEP
    lines: Edit[Sequence[LineInput]] = KEEP  # all the lines, in order
    discount: Edit[BillDiscount] = KEEP  # on the whole estimate; BillDiscount() removes it

    def columns(self) -> dict[str, Any]:
        return changes(
            notes=self.notes,
            recommendations=self.recommendations,
            internal_notes=self.internal_notes,
            valid_until=self.valid_until,
        )


async def create_estimate(
    work: Work, customer_id: uuid.UUID, details: EstimateDetails, currency: str | None = None
) -> uuid.UUID:
    """A draft estimate for a customer, in the organization's currency unless another is
    given."""
    return await draft_bill(work, Estimate, customer_id, details, currency)


async def update_estimate(
    work: Work, estimate_id: uuid.UUID, details: EstimateDetails
) -> uuid.UUID:
    """A change to a sent (or declined) estimate starts its next version, as a draft."""
    async with work.write() as session:
        estimate = await locked(session, Estimate, work.viewer.organization_id, estimate_id)
        if estimate.status not in REVISABLE:
            message = "An approved estimate cannot change."
            raise Rejected(Problem("id", message, BillingCode.NOT_EDITABLE))
        changed = await revise_bill(session, estimate, details)
        if changed and estimate.status is not EstimateStatus.DRAFT:
            estimate.version += 1
            estimate.status = EstimateStatus.DRAFT
            estimate.decided_at = estimate.expires_at = None
            estimate.updated_at = utcnow()
    return estimate.id


def estimate_snapshot(estimate: Estimate, lines: Iterable[Any]) -> dict[str, Any]:
    """What the customer is shown for this version, and what an approval will lock. The
    snapshot stays inside Portico (it keeps unit costs so an invoice can be made from it)."""
    return {
        "version": estimate.version,
        "currency": estimate.currency,
        "subtotal": estimate.subtotal,
        "tax_total": estimate.tax_total,
        "total": estimate.total,
        "valid_until": estimate.valid_until.isoformat() if estimate.valid_until else None,
        "notes": estimate.notes,
        "recommendations": estimate.recommendations,
        "lines": [
            {
                "id": str(line.id),
                **{c: getattr(line, c) for c in LINE_COLUMNS if c != "kind"},
                "kind": str(line.kind),
            }
            for line in sorted(lines, key=lambda x: (x.position, str(x.id)))
        ],
    }


async def _snapshot(session: AsyncSession, estimate: Estimate) -> dict[str, Any]:
    found = await session.execute(
        sa.select(estimate_lines).where(estimate_lines.c.estimate_id == estimate.id)
    )
    return estimate_snapshot(estimate, found.all())


async def send_estimate(work: Work, estimate_id: uuid.UUID) -> uuid.UUID:
    """DRAFT -> SENT: number (first time), expiry, frozen version, email to the customer."""
    async with work.write() as session:
        not_draft = "Change the estimate to send a new version."
        estimate, org = await draft_to_send(
            session, work, Estimate, estimate_id, not_draft=not_draft
        )
        org_id = org.id
        if estimate.valid_until is not None:
            if estimate.valid_until < work.clock.today(org.timezone):
                raise Rejected(Problem("validUntil", "This date has passed.", BillingCode.EXPIRED))
            estimate.expires_at = end_of_day(estimate.valid_until, org.timezone)
        if estimate.number is None:
            estimate.number = await next_number(session, org_id, ESTIMATE_COUNTER)
        estimate.status = EstimateStatus.SENT
        estimate.sent_at = estimate.updated_at = utcnow()
        session.add(
            EstimateVersion(
                organization_id=org_id,
                estimate_id=estimate.id,
                version=estimate.version,
                snapshot=await _snapshot(session, estimate),
            )
        )
        invited = await invite_with_first_bill(session, work.settings, org_id, estimate.customer_id)
        await notify_customer_of_estimate(session, work.settings, org, estimate)
        session.add(
            audit(
                work,
                "estimate.sent",
                customer_id=estimate.customer_id,
                subject_type="Estimate",
                subject_id=estimate.id,
                data={
                    "number": estimate.number,
                    "version": estimate.version,
                    "portal_invite": invited,
                },
            )
        )
    return estimate.id


async def invoice_estimate(work: Work, estimate_id: uuid.UUID) -> uuid.UUID:
    """A draft invoice with the approved lines of the approved version; deposits move to it."""
    async with work.write() as session:
        estimate = await locked(session, Estimate, work.viewer.organization_id, estimate_id)
        if estimate.status is not EstimateStatus.APPROVED:
            message = "Only approved estimates can be invoiced."
            raise Rejected(Problem("id", message, BillingCode.NOT_EDITABLE))
        already = await session.execute(
            sa.select(invoices.c.id).where(invoices.c.estimate_id == estimate.id).limit(1)
        )
        if already.first() is not None:
            message = "This estimate has been invoiced."
            raise Rejected(Problem("id", message, BillingCode.NOT_EDITABLE))
        decision = (
            await session.execute(
                sa.select(EstimateDecision).where(
                    col(EstimateDecision.estimate_id) == estimate.id,
                    col(EstimateDecision.version) == estimate.version,
                    col(EstimateDecision.decision) == EstimateDecisionKind.APPROVED,
                )
            )
        ).scalar_one_or_none()
        if decision is None:
            raise NotFound()
        approved = set(decision.approved_line_ids)
        shown = [line for line in decision.snapshot["lines"] if line["id"] in approved]
        invoice = Invoice(
            organization_id=estimate.organization_id,
            customer_id=estimate.customer_id,
            car_id=estimate.car_id,
            estimate_id=estimate.id,
            currency=estimate.currency,
            notes=estimate.notes,
        )
        await add_in_order(session, [invoice])
        lines = [as_shown(line, position) for position, line in enumerate(shown)]
        await replace_lines(session, invoice, lines)
        await session.execute(
            sa.update(payments)
            .where(payments.c.estimate_id == estimate.id, payments.c.invoice_id.is_(None))
            .values(invoice_id=invoice.id)
        )
        await settle_told(session, invoice)
        session.add(
            audit(
                work,
                "estimate.invoiced",
                customer_id=estimate.customer_id,
                subject_type="Invoice",
                subject_id=invoice.id,
                data={"estimate_id": encode_id("Estimate", estimate.id)},
            )
        )
    return invoice.id
