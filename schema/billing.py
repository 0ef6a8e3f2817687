"""Invoices, estimates, their line items, and payments."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from sqlalchemy.engine import RowMapping
from strawberry import Info

from auth.downloads import ESTIMATE_PDF, INVOICE_PDF
from auth.permissions import staff_only
from models import relations as rel
from models import tables
from models.money import QUANTITY_SCALE
from resolvers.access_log import link
from resolvers.relations import children_of
from schema.common import Money, money
from schema.enums import (
    EstimateDecisionKind,
    EstimateStatus,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    PaymentStatus,
)
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, row_type

if TYPE_CHECKING:
    from schema.collections import InvoiceCollection


def plain_decimal(value: int, scale: int) -> Decimal:
    """value / scale without trailing zeros or exponent: 2500/1000 is 2.5, 10**7/1000 is 10000."""
    return Decimal(f"{(Decimal(value) / scale).normalize():f}")


@strawberry.type
class Billed(RowType):
    """Money fields shared by invoices and estimates."""

    @strawberry.field(description="Sum of the line subtotals, before tax.")
    def subtotal(self) -> Money:
        return Money(amount=self.row["subtotal"], currency=self.row["currency"])

    @strawberry.field(description="Sum of the line taxes.")
    def tax_total(self) -> Money:
        return Money(amount=self.row["tax_total"], currency=self.row["currency"])

    @strawberry.field(description="Subtotal plus tax.")
    def total(self) -> Money:
        return Money(amount=self.row["total"], currency=self.row["currency"])


@strawberry.type
class Discounted(Billed):
    """Money fields of the bills a discount can apply to: invoices and estimates."""

    @strawberry.field(description="The discount on the whole bill as a percentage, if it has one.")
    def discount_percent(self) -> Decimal | None:
        value = self.row["discount_bp"]
        return None if value is None else plain_decimal(value, 100)

    @strawberry.field(description="The fixed discount on the whole bill, if it has one.")
    def discount_amount(self) -> Money | None:
        return money(self.row["discount_fixed"], self.row["currency"])

    @strawberry.field(
        description="What discounts took off, summed over the lines: their own and their "
        "shares of the whole bill's."
    )
    def discount_total(self) -> Money:
        return Money(amount=self.row["discount_total"], currency=self.row["currency"])


@strawberry.type
class Priced(RowType):
    """Money fields of a line item, in its bill's currency."""

    currency: strawberry.Private[str]

    @classmethod
    def with_currency(cls, currency: str) -> Callable[[RowMapping], Self]:
        return lambda row: cls(row=row, currency=currency, **{n: row[n] for n in cls.__copied__})

    @strawberry.field(description="Quantity; fractional for hours of labour.")
    def quantity(self) -> Decimal:
        return plain_decimal(self.row["quantity_milli"], QUANTITY_SCALE)

    @strawberry.field(description="Tax rate in percent, e.g. 8.25.")
    def tax_rate(self) -> Decimal:
        return plain_decimal(self.row["tax_rate_bp"], 100)

    @strawberry.field(description="Price of one unit.")
    def unit_price(self) -> Money:
        return Money(amount=self.row["unit_price"], currency=self.currency)

    @strawberry.field(
        description="What one unit cost the business (staff only).", extensions=staff_only()
    )
    def unit_cost(self) -> Money | None:
        return money(self.row["unit_cost"], self.currency)

    @strawberry.field(description="The discount asked for as a percentage (e.g. 10), if it is one.")
    def discount_percent(self) -> Decimal | None:
        value = self.row["discount_bp"]
        return None if value is None else plain_decimal(value, 100)

    @strawberry.field(
        description="What the line's discount took off quantity times unit price (a "
        "percentage rounded half away from zero, or a fixed amount; never more than the line)."
    )
    def discount(self) -> Money:
        return Money(amount=self.row["discount"], currency=self.currency)

    @strawberry.field(
        description="Quantity times unit price, rounded half away from zero, less the discount."
    )
    def subtotal(self) -> Money:
        return Money(amount=self.row["subtotal"], currency=self.currency)

    @strawberry.field(description="Tax on the subtotal, rounded half away from zero.")
    def tax(self) -> Money:
        return Money(amount=self.row["tax"], currency=self.currency)

    @strawberry.field(description="Subtotal plus tax.")
    def total(self) -> Money:
        return Money(amount=self.row["total"], currency=self.currency)


@row_type(tables.invoice_lines, node=False)
@strawberry.type(description="A line of an invoice.")
class InvoiceLine(Priced):
    position: int = strawberry.field(description="Order on the invoice, from 0.")
    kind: LineKind = strawberry.field(description="What the line charges for.")
    description: str = strawberry.field(description="What is charged.")


@row_type(tables.estimate_lines, node=False)
@strawberry.type(description="A line of an estimate: labour, parts or a fee.")
class EstimateLine(Priced):
    position: int = strawberry.field(description="Order on the estimate, from 0.")
    kind: LineKind = strawberry.field(description="Labour, parts, fee...")
    description: str = strawberry.field(description="What is proposed.")
    optional: bool = strawberry.field(description="The customer may decline this line alone.")


@row_type(tables.credit_note_lines, node=False)
@strawberry.type(description="What a credit note takes off one line of its invoice.")
class CreditNoteLine(RowType):
    position: int = strawberry.field(description="Order on the credit note, from 0.")
    description: str = strawberry.field(description="The invoice line's description.")

    currency: strawberry.Private[str]

    @classmethod
    def with_currency(cls, currency: str) -> Callable[[RowMapping], Self]:
        return lambda row: cls(row=row, currency=currency, **{n: row[n] for n in cls.__copied__})

    @strawberry.field(
        description="The quantity of the line credited; null when an amount was credited."
    )
    def quantity(self) -> Decimal | None:
        value = self.row["quantity_milli"]
        return None if value is None else plain_decimal(value, QUANTITY_SCALE)

    @strawberry.field(description="What is credited before tax.")
    def subtotal(self) -> Money:
        return Money(amount=self.row["subtotal"], currency=self.currency)

    @strawberry.field(description="The line's tax on that, rounded half away from zero.")
    def tax(self) -> Money:
        return Money(amount=self.row["tax"], currency=self.currency)

    @strawberry.field(description="Subtotal plus tax.")
    def total(self) -> Money:
        return Money(amount=self.row["total"], currency=self.currency)


@row_type(tables.credit_notes)
@strawberry.type(
    description="Money taken off a sent invoice by the business: it lowers what is due on the "
    "invoice, and what goes beyond that becomes the customer's credit."
)
class CreditNote(Billed, Node):
    number: int = strawberry.field(
        description="Per-organization credit note number, from its own sequence."
    )
    currency: str = strawberry.field(description="ISO 4217 currency code (the invoice's).")
    reason: str = strawberry.field(description="Why the invoice was credited.")
    issue_date: date = strawberry.field(description="Date of issue.")
    created_at: datetime = strawberry.field(description="When it was issued (UTC).")

    invoice = object_field("invoice_id", "Invoice", __name__, "The invoice it credits.")
    customer = object_field("customer_id", "Customer", "schema.customers", "Whose invoice.")

    @strawberry.field(description="What it takes off each line, in order.")
    async def lines(self, info: Info) -> list[CreditNoteLine]:
        make = CreditNoteLine.with_currency(self.row["currency"])
        return await children_of(info, rel.CREDIT_NOTE_LINES, self.pk, make)


@row_type(tables.invoices)
@strawberry.type(description="A bill for a customer, optionally about one car.")
class Invoice(Discounted, Node):
    number: int | None = strawberry.field(
        description="Per-organization invoice number, given when the invoice is sent."
    )
    status: InvoiceStatus = strawberry.field(
        description="Draft, open, partially paid, paid, void, or credited (credit notes took "
        "its whole total off)."
    )
    currency: str = strawberry.field(description="ISO 4217 currency code.")
    issue_date: date | None = strawberry.field(description="Date of issue.")
    due_date: date | None = strawberry.field(description="Payment due date.")
    notes: str | None = strawberry.field(description="Notes printed on the invoice.")
    internal_notes: str | None = strawberry.field(
        description="Notes for staff only.", extensions=staff_only()
    )
    sent_at: datetime | None = strawberry.field(description="When it was sent (UTC).")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    customer = object_field("customer_id", "Customer", "schema.customers", "Who is billed.")
    car = object_field("car_id", "Car", "schema.cars", "The car it concerns, if any.")
    payments = connection_field(
        rel.INVOICE_PAYMENTS, "Payment", __name__, "Payments towards this invoice."
    )

    @strawberry.field(description="What has been paid so far, net of refunds.")
    def amount_paid(self) -> Money:
        return Money(amount=self.row["amount_paid"], currency=self.row["currency"])

    @strawberry.field(description="What credit notes have taken off it.")
    def credited_amount(self) -> Money:
        return Money(amount=self.row["credited_amount"], currency=self.row["currency"])

    @strawberry.field(description="The customer's credit used on it when it was issued.")
    def credit_applied(self) -> Money:
        return Money(amount=self.row["credit_applied"], currency=self.row["currency"])

    @strawberry.field(description="The credit notes issued against it, oldest first.")
    async def credit_notes(self, info: Info) -> list[CreditNote]:
        return await children_of(info, rel.INVOICE_CREDIT_NOTES, self.pk, CreditNote.from_row)

    @strawberry.field(
        description="What is still owed: the total less payments (net of refunds), credit "
        "notes and the customer's credit used; zero for drafts and void invoices."
    )
    def amount_due(self) -> Money:
        # Selected with the row (models/derived.py), like every value derived from rows.
        return Money(amount=self.row["amount_due"], currency=self.row["currency"])

    is_overdue: bool = strawberry.field(
        description="Money is due and the due date has passed in the organization's time zone."
    )

    @strawberry.field(description="The invoice's lines, in order.")
    async def line_items(self, info: Info) -> list[InvoiceLine]:
        make = InvoiceLine.with_currency(self.row["currency"])
        return await children_of(info, rel.INVOICE_LINES, self.pk, make)

    @strawberry.field(
        description="A link to this invoice as a PDF, valid for a few minutes; it checks the "
        "viewer again when opened. Recorded in the access log when a portal viewer asks for it."
    )
    async def pdf_url(self, info: Info) -> str:
        return await link(info, INVOICE_PDF, self.pk)

    @strawberry.field(
        description="Where the invoice stands in collection: reminders sent, the next one, "
        "late fees charged (staff only).",
        extensions=staff_only(),
    )
    async def collection(
        self, info: Info
    ) -> Annotated["InvoiceCollection", strawberry.lazy("schema.collections")]:
        from resolvers.collections import invoice_collection
        from schema.collections import InvoiceCollection

        return InvoiceCollection.of(await invoice_collection(info, self.row))


@row_type(tables.estimate_decisions, node=False)
@strawberry.type(description="A customer's final answer to one version of an estimate.")
class EstimateDecision(RowType):
    version: int = strawberry.field(description="The version decided on.")
    decision: EstimateDecisionKind = strawberry.field(
        description="Approved, declined, or changes requested."
    )
    reason: str | None = strawberry.field(description="Why it was declined, or what to change.")
    ip: str | None = strawberry.field(
        description="Where the decision came from (staff only).", extensions=staff_only()
    )
    user_agent: str | None = strawberry.field(
        description="The browser that sent it (staff only).", extensions=staff_only()
    )

    contact = object_field(
        "contact_id",
        "Contact",
        "schema.customers",
        "Who decided, if a contact rather than the customer.",
    )

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.from_row(row)

    @strawberry.field(description="When the decision was made (UTC).")
    def decided_at(self) -> datetime:
        return self.row["created_at"]

    @strawberry.field(description="Positions of the lines approved.")
    def approved_lines(self) -> list[int]:
        return self._positions(self.row["approved_line_ids"])

    @strawberry.field(description="Positions of the lines declined.")
    def declined_lines(self) -> list[int]:
        return self._positions(self.row["declined_line_ids"])

    @strawberry.field(description="Total of the approved lines, tax included.")
    def approved_total(self) -> Money:
        return Money(amount=self.row["approved_total"], currency=self.row["snapshot"]["currency"])

    @strawberry.field(description="Deposit asked for on approval; zero when none.")
    def deposit(self) -> Money:
        return Money(amount=self.row["deposit_amount"], currency=self.row["snapshot"]["currency"])

    def _positions(self, line_ids: list[str]) -> list[int]:
        wanted = set(line_ids)
        return [x["position"] for x in self.row["snapshot"]["lines"] if x["id"] in wanted]


@row_type(tables.estimates)
@strawberry.type(description="A priced proposal of work for the customer to approve or decline.")
class Estimate(Discounted, Node):
    number: int | None = strawberry.field(description="Per-organization estimate number.")
    version: int = strawberry.field(description="Changes after sending make a new version.")
    currency: str = strawberry.field(description="ISO 4217 currency code.")
    valid_until: date | None = strawberry.field(
        description="Last day it can be approved, in the organization's time zone."
    )
    notes: str | None = strawberry.field(description="Notes for the customer.")
    recommendations: str | None = strawberry.field(description="Recommended further work.")
    internal_notes: str | None = strawberry.field(
        description="Notes for staff only.", extensions=staff_only()
    )
    sent_at: datetime | None = strawberry.field(description="When it was sent (UTC).")
    decided_at: datetime | None = strawberry.field(description="When it was approved or declined.")
    expires_at: datetime | None = strawberry.field(
        description="When it can no longer be approved: the end of `validUntil` in the "
        "organization's time zone (UTC)."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    customer = object_field("customer_id", "Customer", "schema.customers", "Who it is for.")
    car = object_field("car_id", "Car", "schema.cars", "The car it concerns, if any.")

    @strawberry.field(
        description="Draft, sent, approved, declined, or expired (sent, unanswered "
        "and past its expiry)."
    )
    def status(self) -> EstimateStatus:
        return EstimateStatus(self.row["current_status"])

    @strawberry.field(description="The customer's decision on the current version, if any.")
    async def decision(self, info: Info) -> EstimateDecision | None:
        decisions = await children_of(info, rel.ESTIMATE_DECISIONS, self.pk, EstimateDecision.of)
        current = [d for d in decisions if d.version == self.row["version"]]
        return current[0] if current else None

    @strawberry.field(description="The estimate's lines, in order.")
    async def line_items(self, info: Info) -> list[EstimateLine]:
        make = EstimateLine.with_currency(self.row["currency"])
        return await children_of(info, rel.ESTIMATE_LINES, self.pk, make)

    @strawberry.field(
        description="A link to this estimate as a PDF, valid for a few minutes; it checks the "
        "viewer again when opened. Recorded in the access log when a portal viewer asks for it."
    )
    async def pdf_url(self, info: Info) -> str:
        return await link(info, ESTIMATE_PDF, self.pk)


@row_type(tables.payments)
@strawberry.type(description="Money received towards an invoice.")
class Payment(RowType, Node):
    currency: str = strawberry.field(description="ISO 4217 currency code.")
    method: PaymentMethod = strawberry.field(description="Card online, cash, cheque, transfer.")
    status: PaymentStatus = strawberry.field(description="Pending, succeeded, failed, refunded.")
    reference: str | None = strawberry.field(description="Cheque number or transfer reference.")
    received_at: datetime | None = strawberry.field(description="When the money arrived (UTC).")
    created_at: datetime = strawberry.field(description="When it was recorded (UTC).")

    invoice = object_field("invoice_id", "Invoice", __name__, "The invoice paid, if any.")
    estimate = object_field(
        "estimate_id", "Estimate", __name__, "The estimate, for a deposit taken on approval."
    )
    customer = object_field("customer_id", "Customer", "schema.customers", "Who paid.")

    @strawberry.field(description="The amount paid.")
    def amount(self) -> Money:
        return Money(amount=self.row["amount"], currency=self.row["currency"])

    @strawberry.field(description="How much of it has been refunded.")
    def refunded_amount(self) -> Money:
        return Money(amount=self.row["refunded_amount"], currency=self.row["currency"])
