"""Rows written straight to the database for tests that need many of them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from models import (
    Car,
    CarEvent,
    Contact,
    Customer,
    Estimate,
    EstimateDecision,
    EstimateLine,
    Invoice,
    InvoiceLine,
    Payment,
)
from models.db import Database
from models.enums import (
    CarEventKind,
    ContactRole,
    EstimateDecisionKind,
    EstimateStatus,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    PaymentStatus,
)
from models.money import bill_totals, line_amounts
from models.types import utcnow
from models.writes import add_in_order


async def seed_customers(
    db: Database, organization_id: uuid.UUID, count: int, *, prefix: str = "Customer"
) -> list[uuid.UUID]:
    """`count` customers, each with 2 contacts, 2 cars with 3 events, 2 invoices of 3 lines
    and one payment, and an approved estimate of 2 lines."""
    now = utcnow()
    customers, level2, level3 = [], [], []
    for i in range(count):
        customer = Customer(
            organization_id=organization_id,
            name=f"{prefix} {i:04d}",
            email=f"{prefix.lower()}{i}@{organization_id.hex[:8]}.test",
        )
        customers.append(customer)
        for j in range(2):
            level2.append(
                Contact(
                    organization_id=organization_id,
                    customer_id=customer.id,
                    name=f"Contact {i}-{j}",
                    role=ContactRole.SPOUSE,
                )
            )
            car = Car(
                organization_id=organization_id,
                customer_id=customer.id,
                make="Porsche",
                model=f"911 {i}-{j}",
                year=1970 + j,
            )
            level2.append(car)
            kinds = (CarEventKind.CHECK_IN, CarEventKind.SERVICE, CarEventKind.NOTE)
            level3 += [
                CarEvent(
                    organization_id=organization_id,
                    car_id=car.id,
                    kind=kind,
                    occurred_at=now - timedelta(days=10 - k),
                )
                for k, kind in enumerate(kinds)
            ]
            invoice, *lines = _invoice(organization_id, customer.id, number=i * 2 + j + 1)
            level2.append(invoice)
            level3 += [*lines, _payment(invoice)]
        estimate, *estimate_rows = _estimate(organization_id, customer.id, number=i + 1)
        level2.append(estimate)
        level3 += estimate_rows
    async with db.write() as session:
        await add_in_order(session, [*customers, *level2, *level3])
    return [c.id for c in customers]


def _invoice(
    organization_id: uuid.UUID, customer_id: uuid.UUID, number: int
) -> list[Invoice | InvoiceLine]:
    invoice = Invoice(
        organization_id=organization_id,
        customer_id=customer_id,
        currency="USD",
        status=InvoiceStatus.OPEN,
        number=number,
    )
    lines = []
    for position, (quantity, price) in enumerate(((1000, 15000), (2500, 9500), (1000, 1999))):
        amounts = line_amounts(quantity, price, 825)
        lines.append(
            InvoiceLine(
                organization_id=organization_id,
                invoice_id=invoice.id,
                position=position,
                kind=LineKind.LABOUR,
                description=f"Line {position}",
                quantity_milli=quantity,
                unit_price=price,
                tax_rate_bp=825,
                subtotal=amounts.subtotal,
                tax=amounts.tax,
                total=amounts.total,
            )
        )
    totals = bill_totals(lines)  # type: ignore[arg-type]
    invoice.subtotal, invoice.tax_total, invoice.total = (
        totals.subtotal,
        totals.tax_total,
        totals.total,
    )
    return [invoice, *lines]


def _payment(invoice: Invoice) -> Payment:
    return Payment(
        organization_id=invoice.organization_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        amount=1000,
        currency=invoice.currency,
        method=PaymentMethod.CASH,
        status=PaymentStatus.SUCCEEDED,
        received_at=utcnow(),
    )


def _estimate(
    organization_id: uuid.UUID, customer_id: uuid.UUID, number: int
) -> list[Estimate | EstimateLine | EstimateDecision]:
    estimate = Estimate(
        organization_id=organization_id,
        customer_id=customer_id,
        currency="USD",
        status=EstimateStatus.APPROVED,
        number=number,
    )
    lines = []
    for position in range(2):
        amounts = line_amounts(1000, 5000, 0)
        lines.append(
            EstimateLine(
                organization_id=organization_id,
                estimate_id=estimate.id,
                position=position,
                kind=LineKind.PARTS,
                description=f"Part {position}",
                unit_price=5000,
                subtotal=amounts.subtotal,
                total=amounts.total,
            )
        )
    estimate.subtotal = estimate.total = 10000
    decision = EstimateDecision(
        organization_id=organization_id,
        estimate_id=estimate.id,
        version=1,
        decision=EstimateDecisionKind.APPROVED,
        approved_line_ids=[str(line.id) for line in lines],
        approved_total=10000,
        customer_id=customer_id,
        snapshot={
            "currency": "USD",
            "lines": [{"id": str(line.id), "position": line.position} for line in lines],
        },
    )
    return [estimate, *lines, decision]
