"""What invoices and estimates share: drafting one for a customer, and revising its car,
details and lines. Each kind keeps its own rules about when it may change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, Info

from domain.audit import audit
from models import Car, Customer, Organization
from models.types import utcnow
from models.writes import apply
from resolvers.bill_lines import line_values, replace_lines
from resolvers.rows import tenant_row
from resolvers.validation import Checks, Problem, Rejected


@dataclass(frozen=True)
class BillKind:
    model: type[Any]  # Invoice or Estimate
    line_model: type[Any]
    parent_column: str  # the lines' foreign key: invoice_id, estimate_id
    optional_lines: bool  # lines the customer may decline one by one


async def car_of(session: AsyncSession, org: uuid.UUID, customer_id: uuid.UUID, gid: Any) -> Any:
    """The car a bill concerns: None to clear, UNSET to keep; it must be the customer's."""
    if gid is UNSET or gid is None:
        return gid
    car = await tenant_row(session, Car, org, gid)
    if car.customer_id != customer_id:
        raise Rejected(Problem("carId", "This car belongs to another customer.", "INVALID"))
    return car.id


def with_lines(checks: Checks, data: Any, kind: BillKind, values: dict[str, Any]) -> dict[str, Any]:
    """The checked details plus, when sent, the checked and priced lines."""
    if data.line_items is not UNSET and data.line_items is not None:
        values["lines"] = line_values(checks, data.line_items, optional_allowed=kind.optional_lines)
    return values


async def create_bill(info: Info, data: Any, kind: BillKind, values: dict[str, Any]) -> uuid.UUID:
    """A new draft for a customer, in the organization's currency unless another is given."""
    checks = Checks(creating=True)
    currency = checks.currency("currency", data.currency) if data.currency else None
    checks.done()
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        customer = await tenant_row(session, Customer, org_id, data.customer_id)
        org = await session.get(Organization, org_id)
        car_id = await car_of(session, org_id, customer.id, data.car_id)
        lines = values.pop("lines", [])
        bill = kind.model(
            organization_id=org_id,
            customer_id=customer.id,
            car_id=None if car_id is UNSET else car_id,
            currency=currency or org.currency,
            **values,
        )
        session.add(bill)
        await session.flush()
        await replace_lines(session, kind.line_model, kind.parent_column, bill, lines)
        name = kind.model.__name__
        session.add(
            audit(
                ctx,
                f"{name.lower()}.created",
                customer_id=customer.id,
                subject_type=name,
                subject_id=bill.id,
            )
        )
    return bill.id


async def revise_bill(
    session: AsyncSession, bill: Any, kind: BillKind, data: Any, values: dict[str, Any]
) -> bool:
    """Apply checked changes (car, details, lines) to a locked bill; True when any changed."""
    car_id = await car_of(session, bill.organization_id, bill.customer_id, data.car_id)
    if car_id is not UNSET:
        values["car_id"] = car_id
    lines = values.pop("lines", None)
    changed = apply(bill, values)
    if lines is not None:
        await replace_lines(session, kind.line_model, kind.parent_column, bill, lines)
        bill.updated_at = utcnow()
        changed = True
    return changed
