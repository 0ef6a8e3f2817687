"""The pay link in an invoice email: the invoice's payment page and its payment, for
whoever holds the link, signed in or not (domain/payments/pay_links.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry import Info

from resolvers import pay_links
from schema.common import INPUT, Money
from schema.enums import InvoiceStatus
from schema.mutations.billing import billing_errors
from schema.mutations.payments import PayInvoicePayload, payment_request
from schema.wallet import SavedPaymentMethod

TOKEN = "The token from the link (the part after `/pay/`)."


@strawberry.type(description="An invoice opened from its email's pay link: what is due, and how.")
class PayLink:
    organization_name: str = strawberry.field(description="The business that sent it.")
    invoice_number: int | None = strawberry.field(description="The invoice's number.")
    status: InvoiceStatus = strawberry.field(description="Open or partially paid.")
    issue_date: date | None = strawberry.field(description="When it was issued.")
    due_date: date | None = strawberry.field(description="When it is due.")
    total: Money = strawberry.field(description="The invoice's total.")
    amount_due: Money = strawberry.field(description="What is left to pay.")
    pays_online: bool = strawberry.field(
        description="The business takes card payments online now; otherwise pay it another way."
    )
    saved_cards: list[SavedPaymentMethod] = strawberry.field(
        description="The customer's saved cards, default first (empty when paying online is off)."
    )


@strawberry.type
class PayLinkQueries:
    @strawberry.field(
        description="The invoice a pay link opens, without signing in. Recorded in the "
        "customer's access log. A tampered or expired link, or one whose invoice is paid or "
        "void, answers the error PAY_LINK_INVALID."
    )
    async def pay_link(
        self, info: Info, token: Annotated[str, strawberry.argument(TOKEN)]
    ) -> PayLink:
        opened = await pay_links.opened(info, token)
        invoice, currency = opened.invoice, opened.invoice["currency"]
        return PayLink(
            organization_name=opened.organization.name,
            invoice_number=invoice["number"],
            status=InvoiceStatus(invoice["status"]),
            issue_date=invoice["issue_date"],
            due_date=invoice["due_date"],
            total=Money(amount=invoice["total"], currency=currency),
            amount_due=Money(amount=opened.amount_due, currency=currency),
            pays_online=opened.pays_online,
            saved_cards=[SavedPaymentMethod.from_row(card) for card in opened.cards],
        )


@strawberry.input(description="Pay the invoice of a pay link, in full.")
class PayInvoiceByLinkInput:
    token: str = strawberry.field(description=TOKEN)
    idempotency_key: str = strawberry.field(
        description="A key the client makes for this payment (8-200 characters) and sends "
        "again when it retries: a retry never asks for the money twice."
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of `payLink.savedCards` to charge now."
    )


@strawberry.type
class PayLinkMutations:
    @strawberry.mutation(
        description="Ask to pay the invoice of a pay link online, without signing in: as "
        "`payInvoice`, for that one invoice and its full amount due."
    )
    async def pay_invoice_by_link(
        self, info: Info, input: Annotated[PayInvoiceByLinkInput, INPUT]
    ) -> PayInvoicePayload:
        outcome = await pay_links.pay(
            info, input.token, input.idempotency_key, input.payment_method_id
        )
        return PayInvoicePayload(
            payment=payment_request(outcome.request), user_errors=billing_errors(outcome.problems)
        )
