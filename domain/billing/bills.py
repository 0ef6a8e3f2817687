"""What invoices and estimates share: drafting one for a customer, and revising its car,
details and lines. Each kind keeps its own rules about when it may change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import audit
from domain.billing.codes import BillingCode
from domain.billing.lines import (
    NO_DISCOUNT,
    BillDiscount,
    LineInput,
    priced,
    replace_lines,
    stored_inputs,
)
from domain.cars.cars import customer_car
from domain.edits import KEEP, Edit
from domain.problems import Problem, Rejected
from domain.rows import locked, organization_of
from domain.work import Work
from models import Customer, Estimate, EstimateLine, Invoice, InvoiceLine, Organization
from models.enums import EstimateStatus, InvoiceStatus
from models.tables import estimate_lines, invoice_lines
from models.types import utcnow
from models.writes import apply

B = TypeVar("B", Invoice, Estimate)


class BillDetails(Protocol):
    """What staff set on a bill (InvoiceDetails, EstimateDetails); KEEP leaves a field."""

    @property
    def car_id(self) -> Edit[uuid.UUID | None]: ...
    @property
    def lines(self) -> Edit[Sequence[LineInput]]: ...
    @property
    def discount(self) -> Edit[BillDiscount]: ...
    def columns(self) -> dict[str, Any]:
        """The bill's own columns to set."""
        ...


async def draft_bill(
    work: Work,
    model: type[Invoice] | type[Estimate],
    customer_id: uuid.UUID,
    details: BillDetails,
    currency: str | None,
) -> uuid.UUID:
    """A new draft for a customer, in the organization's currency unless another is given."""
    lines = details.lines
    discount = NO_DISCOUNT if details.discount is KEEP else details.discount
    optional_allowed = model is Estimate
    priced_lines = (
        [] if lines is KEEP else priced(lines, optional_allowed=optional_allowed, discount=discount)
    )
    async with work.write() as session:
        customer = await locked(session, Customer, organization_of(work), customer_id)
        org = await session.get(Organization, customer.organization_id)
        assert org is not None  # the customer's foreign key holds it
        car = await customer_car(session, org.id, customer.id, details.car_id)
        bill = model(
            organization_id=org.id,
            customer_id=customer.id,
            car_id=None if car is KEEP else car,
            currency=currency or org.currency,
            discount_bp=discount.percent_bp,
            discount_fixed=discount.fixed,
            **details.columns(),
        )
        session.add(bill)
        await session.flush()
        await replace_lines(session, bill, priced_lines)
        name = model.__name__
        session.add(
            audit(
                work,
                f"{name.lower()}.created",
                customer_id=customer.id,
                subject_type=name,
                subject_id=bill.id,
            )
        )
    return bill.id


async def revise_bill(
    session: AsyncSession, bill: Invoice | Estimate, details: BillDetails
) -> bool:
    """Apply changes (car, details, lines) to a locked bill; True when any changed."""
    lines = details.lines
    optional_allowed = isinstance(bill, Estimate)
    discount = details.discount
    if discount is KEEP:
        discount = BillDiscount(bill.discount_bp, bill.discount_fixed)
    elif lines is KEEP:  # a new discount on the lines as they are
        lines = stored_inputs(await _stored_lines(session, bill))
    priced_lines = (
        None
        if lines is KEEP
        else priced(lines, optional_allowed=optional_allowed, discount=discount)
    )
    car = await customer_car(session, bill.organization_id, bill.customer_id, details.car_id)
    values = details.columns()
    values |= {"discount_bp": discount.percent_bp, "discount_fixed": discount.fixed}
    if car is not KEEP:
        values["car_id"] = car
    changed = apply(bill, values)
    if priced_lines is not None:
        await replace_lines(session, bill, priced_lines)
        bill.updated_at = utcnow()
        changed = True
    return changed


async def _stored_lines(
    session: AsyncSession, bill: Invoice | Estimate
) -> list[InvoiceLine | EstimateLine]:
    model: type[InvoiceLine] | type[EstimateLine]
    if isinstance(bill, Estimate):
        model, column = EstimateLine, estimate_lines.c.estimate_id
    else:
        model, column = InvoiceLine, invoice_lines.c.invoice_id
    found = await session.execute(sa.select(model).where(column == bill.id))
    return [row for row in found.scalars() if isinstance(row, InvoiceLine | EstimateLine)]


async def draft_to_send(
    session: AsyncSession, work: Work, model: type[B], bill_id: uuid.UUID, *, not_draft: str
) -> tuple[B, Organization]:
    """The draft to send, locked, with its organization; refused when it is no longer a
    draft (with the message `not_draft`) or charges nothing."""
    bill = await locked(session, model, work.viewer.organization_id, bill_id)
    draft = InvoiceStatus.DRAFT if isinstance(bill, Invoice) else EstimateStatus.DRAFT
    if bill.status is not draft:
        raise Rejected(Problem("id", not_draft, BillingCode.NOT_EDITABLE))
    if bill.total <= 0:
        message = "Add a line item with an amount first."
        raise Rejected(Problem("id", message, BillingCode.EMPTY))
    org = await session.get(Organization, bill.organization_id)
    assert org is not None  # the bill's foreign key holds it
    return bill, org
