"""Staff work on estimates: draft, revise, send (freezing a version), and bill when approved.

Sending freezes the version the customer sees: a snapshot of its lines and totals. Changing
a sent estimate starts the next version, so an approval always names exactly what was
shown; the old version can no longer be approved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Info

from core.errors import NotFound
from core.ids import encode_id
from domain.audit import audit
from domain.billing_mail import notify_customer_of_estimate
from models import (
    Estimate,
    EstimateDecision,
    EstimateLine,
    EstimateVersion,
    Invoice,
    InvoiceLine,
    Organization,
)
from models.calendar import end_of_day
from models.enums import EstimateDecisionKind, EstimateStatus
from models.ledger import settle
from models.numbering import ESTIMATE_COUNTER, next_number
from models.tables import estimate_lines, invoices, payments
from models.types import utcnow
from models.writes import add_in_order
from resolvers.bill_lines import replace_lines
from resolvers.bills import BillKind, create_bill, revise_bill, with_lines
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.portal_access import invite_with_first_bill
from resolvers.rows import tenant_row
from resolvers.validation import Checks, Problem, changes

REVISABLE = (EstimateStatus.DRAFT, EstimateStatus.SENT, EstimateStatus.DECLINED)
LINE_COLUMNS = ("position", "kind", "description", "quantity_milli", "unit_price", "unit_cost")
LINE_COLUMNS += ("tax_rate_bp", "subtotal", "tax", "total", "optional")


ESTIMATE = BillKind(Estimate, EstimateLine, "estimate_id", optional_lines=True)


def _details(checks: Checks, data: Any) -> dict[str, Any]:
    values = changes(
        notes=checks.text("notes", data.notes, 5000),
        recommendations=checks.text("recommendations", data.recommendations, 5000),
        internal_notes=checks.text("internalNotes", data.internal_notes, 10000),
        valid_until=data.valid_until,
    )
    return with_lines(checks, data, ESTIMATE, values)


@mutation_outcome
async def create_estimate(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = _details(checks, data)
    checks.done()
    return await create_bill(info, data, ESTIMATE, values)


@mutation_outcome
async def update_estimate(info: Info, data: Any) -> uuid.UUID:
    """A change to a sent (or declined) estimate starts its next version, as a draft."""
    checks = Checks(creating=False)
    values = _details(checks, data)
    checks.done()
    org_id = info.context.viewer.organization_id
    async with info.context.write() as session:
        estimate = await tenant_row(session, Estimate, org_id, data.id)
        if estimate.status not in REVISABLE:
            raise Rejected(Problem("id", "An approved estimate cannot change.", "NOT_EDITABLE"))
        changed = await revise_bill(session, estimate, ESTIMATE, data, values)
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


@mutation_outcome
async def send_estimate(info: Info, data: Any) -> uuid.UUID:
    """DRAFT -> SENT: number (first time), expiry, frozen version, email to the customer."""
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        estimate = await tenant_row(session, Estimate, org_id, data.id)
        if estimate.status is not EstimateStatus.DRAFT:
            raise Rejected(
                Problem("id", "Change the estimate to send a new version.", "NOT_EDITABLE")
            )
        if estimate.total <= 0:
            raise Rejected(Problem("id", "Add a line item with an amount first.", "EMPTY"))
        org = await session.get(Organization, org_id)
        if estimate.valid_until is not None:
            if estimate.valid_until < info.context.clock.today(org.timezone):
                raise Rejected(Problem("validUntil", "This date has passed.", "EXPIRED"))
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
        invited = await invite_with_first_bill(session, ctx.settings, org_id, estimate.customer_id)
        await notify_customer_of_estimate(session, ctx.settings, org, estimate)
        session.add(
            audit(
                ctx,
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


@mutation_outcome
async def invoice_estimate(info: Info, data: Any) -> uuid.UUID:
    """A draft invoice with the approved lines of the approved version; deposits move to it."""
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        estimate = await tenant_row(session, Estimate, org_id, data.id)
        if estimate.status is not EstimateStatus.APPROVED:
            raise Rejected(
                Problem("id", "Only approved estimates can be invoiced.", "NOT_EDITABLE")
            )
        already = await session.execute(
            sa.select(invoices.c.id).where(invoices.c.estimate_id == estimate.id).limit(1)
        )
        if already.first() is not None:
            raise Rejected(Problem("id", "This estimate has been invoiced.", "NOT_EDITABLE"))
        decision = (
            await session.execute(
                sa.select(EstimateDecision).where(
                    EstimateDecision.estimate_id == estimate.id,
                    EstimateDecision.version == estimate.version,
                    EstimateDecision.decision == EstimateDecisionKind.APPROVED,
                )
            )
        ).scalar_one_or_none()
        if decision is None:
            raise NotFound()
        approved = set(decision.approved_line_ids)
        lines = [
            {c: line[c] for c in LINE_COLUMNS if c != "optional"}
            for line in decision.snapshot["lines"]
            if line["id"] in approved
        ]
        for position, line in enumerate(lines):
            line["position"] = position
        invoice = Invoice(
            organization_id=org_id,
            customer_id=estimate.customer_id,
            car_id=estimate.car_id,
            estimate_id=estimate.id,
            currency=estimate.currency,
            notes=estimate.notes,
        )
        await add_in_order(session, [invoice])
        await replace_lines(session, InvoiceLine, "invoice_id", invoice, lines)
        await session.execute(
            sa.update(payments)
            .where(payments.c.estimate_id == estimate.id, payments.c.invoice_id.is_(None))
            .values(invoice_id=invoice.id)
        )
        await settle(session, invoice)
        session.add(
            audit(
                ctx,
                "estimate.invoiced",
                customer_id=estimate.customer_id,
                subject_type="Invoice",
                subject_id=invoice.id,
                data={"estimate_id": encode_id("Estimate", estimate.id)},
            )
        )
    return invoice.id
