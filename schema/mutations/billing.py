"""Staff mutations on invoices, and the inputs and errors that bills share."""

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import staff_only
from domain.billing.codes import BillingCode
from domain.problems import Problem
from resolvers import credit_notes, statements
from resolvers import invoices as actions
from resolvers.outcome import Outcome
from schema.billing import CreditNote, Invoice
from schema.common import INPUT, UserError
from schema.customers import Customer
from schema.enums import LineKind
from schema.error_codes import code_field, error_codes, user_errors
from schema.payloads import P, payload

BillingErrorCode = error_codes(
    "BillingErrorCode", BillingCode, "Why a billing or payment mutation was refused."
)


@strawberry.type(description="A problem with a billing or payment mutation's input.")
class BillingError(UserError):
    code: Enum = code_field(BillingErrorCode)


@strawberry.input(description="A line item. Amounts are computed on the server.")
class LineItemInput:
    kind: LineKind = strawberry.field(default=LineKind.OTHER, description="What it charges for.")
    description: str = strawberry.field(description="What is charged (up to 500 characters).")
    quantity: Decimal = strawberry.field(
        default=Decimal(1), description="Quantity, up to 3 decimals (1.5 hours)."
    )
    unit_price: int = strawberry.field(description="Price of one unit in minor units.")
    unit_cost: int | None = strawberry.field(
        default=None, description="What one unit cost the business (staff only)."
    )
    tax_rate: Decimal | None = strawberry.field(
        default=None, description="Tax rate in percent, up to 2 decimals (8.25)."
    )
    optional: bool = strawberry.field(
        default=False, description="Estimates only: the customer may decline this line alone."
    )
    discount_percent: Decimal | None = strawberry.field(
        default=None,
        description="A discount in percent of quantity x price, up to 2 decimals (10 is 10 %); "
        "rounded half away from zero.",
    )
    discount_amount: int | None = strawberry.field(
        default=None,
        description="Or a fixed discount in minor units, at most what the line comes to.",
    )


@strawberry.input(description="Details of an invoice. Omitted fields keep their value.")
class InvoiceFields:
    car_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The customer's car it concerns; null clears it."
    )
    due_date: date | None = strawberry.field(
        default=UNSET,
        description="Due date; when sent without one, the organization's payment terms apply.",
    )
    notes: str | None = strawberry.field(default=UNSET, description="Printed on the invoice.")
    internal_notes: str | None = strawberry.field(default=UNSET, description="Staff-only notes.")
    line_items: list[LineItemInput] | None = strawberry.field(
        default=UNSET, description="All the lines, in order; replaces the current ones."
    )
    discount_percent: Decimal | None = strawberry.field(
        default=UNSET,
        description="A discount on the whole bill in percent of its lines' subtotals (up to 2 "
        "decimals), spread over the lines; null removes it.",
    )
    discount_amount: int | None = strawberry.field(
        default=UNSET,
        description="Or a fixed discount on the whole bill in minor units, spread over the "
        "lines; null removes it.",
    )


@strawberry.input(description="A new draft invoice.")
class CreateInvoiceInput(InvoiceFields):
    customer_id: strawberry.ID = strawberry.field(description="Who is billed.")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code; the organization's currency by default."
    )


@strawberry.input(description="Changes to a draft invoice.")
class UpdateInvoiceInput(InvoiceFields):
    id: strawberry.ID = strawberry.field(description="The invoice's global ID.")


@strawberry.input(description="Send a draft invoice to the customer.")
class SendInvoiceInput:
    id: strawberry.ID = strawberry.field(description="The invoice's global ID.")


@strawberry.input(description="Void an invoice that has no payments.")
class VoidInvoiceInput:
    id: strawberry.ID = strawberry.field(description="The invoice's global ID.")
    reason: str | None = strawberry.field(default=None, description="Why, for the audit log.")


@strawberry.input(description="A line of the invoice to credit, and how much of it.")
class CreditNoteLineInput:
    position: int = strawberry.field(description="The invoice line's position, from 0.")
    quantity: Decimal | None = strawberry.field(
        default=None,
        description="How much of its quantity to credit, priced as invoiced (up to 3 decimals).",
    )
    amount: int | None = strawberry.field(
        default=None,
        description="Or an amount of its subtotal in minor units; the line's tax is added.",
    )


@strawberry.input(description="A credit note against a sent invoice.")
class IssueCreditNoteInput:
    invoice_id: strawberry.ID = strawberry.field(description="The invoice to credit.")
    reason: str = strawberry.field(description="Why (up to 2000 characters); shown on it.")
    lines: list[CreditNoteLineInput] | None = strawberry.field(
        default=None,
        description="The lines to credit, each to its end unless a quantity or amount is "
        "given; all that is left of the whole invoice when omitted.",
    )


@strawberry.type(description="The result of issuing a credit note.")
class CreditNotePayload:
    credit_note: CreditNote | None = strawberry.field(
        description="The credit note, when it worked; its invoice shows what is due now."
    )
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


@strawberry.input(description="Which customer's statement to email, and for which days.")
class SendStatementInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    start: date = strawberry.field(name="from", description="The first day covered.")
    end: date = strawberry.field(name="to", description="The last day covered.")


@strawberry.type(description="The result of sendStatement.")
class SendStatementPayload:
    customer: Customer | None = strawberry.field(
        description="The customer whose statement was queued; null when refused."
    )
    user_errors: list[BillingError] = strawberry.field(description="Why nothing was sent.")


@strawberry.type(description="The result of an invoice mutation.")
class InvoicePayload:
    invoice: Invoice | None = strawberry.field(description="The invoice, when it worked.")
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


def billing_errors(problems: list[Problem]) -> list[BillingError]:
    return user_errors(problems, BillingError, BillingErrorCode)


async def invoice_payload(info: Info, outcome: Outcome) -> InvoicePayload:
    return await billing_payload(info, InvoicePayload, outcome, "Invoice", "invoice")


async def billing_payload(
    info: Info, payload_cls: type[P], outcome: Outcome, type_name: str, field: str
) -> P:
    return await payload(
        info,
        payload_cls,
        outcome,
        type_name=type_name,
        object_field=field,
        error_cls=BillingError,
        codes=BillingErrorCode,
    )


@strawberry.type
class InvoiceMutations:
    @strawberry.mutation(description="Draft an invoice for a customer.", extensions=staff_only())
    async def create_invoice(
        self, info: Info, input: Annotated[CreateInvoiceInput, INPUT]
    ) -> InvoicePayload:
        return await invoice_payload(info, await actions.create_invoice(info, input))

    @strawberry.mutation(
        description="Change a draft invoice; sent invoices cannot change.", extensions=staff_only()
    )
    async def update_invoice(
        self, info: Info, input: Annotated[UpdateInvoiceInput, INPUT]
    ) -> InvoicePayload:
        return await invoice_payload(info, await actions.update_invoice(info, input))

    @strawberry.mutation(
        description="Send a draft: it gets its number and dates, and the customer's contacts "
        "who want invoices get an email.",
        extensions=staff_only(),
    )
    async def send_invoice(
        self, info: Info, input: Annotated[SendInvoiceInput, INPUT]
    ) -> InvoicePayload:
        return await invoice_payload(info, await actions.send_invoice(info, input.id))

    @strawberry.mutation(
        description="Email a customer's statement for a range of days (as "
        "Customer.statement) to the people who get their invoice emails; audited. Refused "
        "with NO_RECIPIENTS when nobody does, STATEMENT_RANGE for a bad range.",
        extensions=staff_only(),
    )
    async def send_statement(
        self, info: Info, input: Annotated[SendStatementInput, INPUT]
    ) -> SendStatementPayload:
        outcome = await statements.send_statement(info, input.customer_id, input.start, input.end)
        return await billing_payload(info, SendStatementPayload, outcome, "Customer", "customer")

    @strawberry.mutation(
        description="Void an invoice: nothing is owed on it any more.", extensions=staff_only()
    )
    async def void_invoice(
        self, info: Info, input: Annotated[VoidInvoiceInput, INPUT]
    ) -> InvoicePayload:
        voided = await actions.void_invoice(info, input.id, input.reason)
        return await invoice_payload(info, voided)

    @strawberry.mutation(
        description="Credit a sent invoice, whole or some lines, with a reason: what is due on "
        "it drops, and what goes beyond what was due (it was paid) becomes the customer's "
        "credit, which their next invoices use first, or which a refund of the card payment "
        "(`refundPayment`) gives back.",
        extensions=staff_only(),
    )
    async def issue_credit_note(
        self, info: Info, input: Annotated[IssueCreditNoteInput, INPUT]
    ) -> CreditNotePayload:
        outcome = await credit_notes.issue_credit_note(info, input)
        return await billing_payload(info, CreditNotePayload, outcome, "CreditNote", "credit_note")
