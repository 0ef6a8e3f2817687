"""Payments: staff record offline payments and refunds; portal viewers pay online."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import staff_only
from payments.requests import PaymentRequest as PaymentRequestRow
from resolvers import payments as actions
from resolvers.outcome import Outcome
from schema.billing import Payment
from schema.common import INPUT, Money
from schema.enums import PaymentMethod
from schema.mutations.billing import BillingError, billing_payload


@strawberry.input(description="Money received outside the portal.")
class RecordPaymentInput:
    invoice_id: strawberry.ID = strawberry.field(description="The open invoice paid.")
    amount: int = strawberry.field(description="Minor units; at most what is due.")
    method: PaymentMethod = strawberry.field(description="Cash, cheque or bank transfer.")
    reference: str | None = strawberry.field(
        default=None, description="Cheque number or transfer reference."
    )
    received_at: datetime | None = strawberry.field(
        default=None, description="When the money arrived; now by default."
    )


@strawberry.input(description="Give money back from a payment.")
class RefundPaymentInput:
    payment_id: strawberry.ID = strawberry.field(description="The payment to refund from.")
    amount: int | None = strawberry.field(
        default=None, description="Minor units; everything not yet refunded by default."
    )
    reason: str | None = strawberry.field(default=None, description="Why, for the records.")


@strawberry.type(description="The result of a payment mutation.")
class PaymentPayload:
    payment: Payment | None = strawberry.field(description="The payment, when it worked.")
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


async def payment_payload(info: Info, outcome: Outcome) -> PaymentPayload:
    return await billing_payload(info, PaymentPayload, outcome, "Payment", "payment")


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        description="Record a cash, cheque or bank transfer payment towards an open invoice.",
        extensions=staff_only(),
    )
    async def record_payment(
        self, info: Info, input: Annotated[RecordPaymentInput, INPUT]
    ) -> PaymentPayload:
        return await payment_payload(info, await actions.record_payment(info, input))

    @strawberry.mutation(
        description="Refund all or part of a payment; card payments are refunded through "
        "the organization's Stripe account.",
        extensions=staff_only(),
    )
    async def refund_payment(
        self, info: Info, input: Annotated[RefundPaymentInput, INPUT]
    ) -> PaymentPayload:
        return await payment_payload(info, await actions.refund_payment(info, input))


@strawberry.type(
    description="What a portal client needs to take a payment: pay it with Stripe.js "
    "using `clientSecret` on the organization's account, or send the customer to "
    "`checkoutUrl`. The invoice changes only when Stripe confirms the payment."
)
class PaymentRequest:
    amount: Money = strawberry.field(description="What will be charged.")
    client_secret: str | None = strawberry.field(
        description="The PaymentIntent's client secret, for Stripe.js."
    )
    checkout_url: str | None = strawberry.field(
        description="Stripe's hosted payment page, where the organization prefers it."
    )
    stripe_account: str = strawberry.field(
        description="The connected account to initialise Stripe.js with (`stripeAccount`)."
    )


def payment_request(request: PaymentRequestRow | None) -> PaymentRequest | None:
    if request is None:
        return None
    return PaymentRequest(
        amount=Money(amount=request.amount, currency=request.currency),
        client_secret=request.client_secret,
        checkout_url=request.checkout_url,
        stripe_account=request.account,
    )
