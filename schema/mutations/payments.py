"""Payments: staff record offline payments and refunds; portal viewers pay online."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import owner_only, portal_only, staff_only
from payments.requests import PaymentRequest as PaymentRequestRow
from resolvers import payments as actions
from resolvers import wallet
from resolvers.online_payments import pay_invoices
from resolvers.outcome import Outcome
from resolvers.stripe_connect import OnboardingOutcome, refresh_account, start_onboarding
from schema.billing import Payment
from schema.common import INPUT, Money
from schema.customers import Customer
from schema.enums import PaymentMethod
from schema.mutations.billing import BillingError, billing_errors, billing_payload
from schema.node import load_row
from schema.organization import Organization
from schema.wallet import SavedPaymentMethod


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
        recorded = await actions.record_payment(
            info,
            input.invoice_id,
            input.amount,
            input.method,
            input.reference,
            input.received_at,
        )
        return await payment_payload(info, recorded)

    @strawberry.mutation(
        description="Refund all or part of a payment; card payments are refunded through "
        "the organization's Stripe account.",
        extensions=staff_only(),
    )
    async def refund_payment(
        self, info: Info, input: Annotated[RefundPaymentInput, INPUT]
    ) -> PaymentPayload:
        refunded = await actions.refund_payment(info, input.payment_id, input.amount, input.reason)
        return await payment_payload(info, refunded)


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
    paid: bool = strawberry.field(
        description="Charged already (a saved card): nothing is left for the client to do."
    )


def payment_request(request: PaymentRequestRow | None) -> PaymentRequest | None:
    if request is None:
        return None
    return PaymentRequest(
        amount=Money(amount=request.amount, currency=request.currency),
        client_secret=request.client_secret,
        checkout_url=request.checkout_url,
        stripe_account=request.account,
        paid=request.status == "succeeded",
    )


@strawberry.input(description="Pay one or several open invoices of the signed-in customer.")
class PayInvoiceInput:
    invoice_ids: list[strawberry.ID] = strawberry.field(
        description="The invoices (1 to 10, one currency); the oldest due is paid first."
    )
    amount: int | None = strawberry.field(
        default=None,
        description="Minor units; the full balance by default. Less only where the "
        "organization allows partial payment, and not below its minimum.",
    )
    idempotency_key: str = strawberry.field(
        description="A key the client makes for this payment (8-200 characters) and sends "
        "again when it retries: a retry never asks for the money twice."
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="A saved card to charge now instead of entering one."
    )


@strawberry.type(description="The result of asking to pay invoices.")
class PayInvoicePayload:
    payment: PaymentRequest | None = strawberry.field(
        description="What the client needs to take the payment."
    )
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of a Stripe account mutation.")
class StripeAccountPayload:
    onboarding_url: str | None = strawberry.field(
        description="Stripe's onboarding page for the organization's account, to open now."
    )
    organization: Organization | None = strawberry.field(description="The organization.")
    user_errors: list[BillingError] = strawberry.field(description="Problems.")


async def _account_payload(info: Info, outcome: OnboardingOutcome) -> StripeAccountPayload:
    org = None
    if not outcome.problems:
        org = await load_row(info, "Organization", info.context.viewer.organization_id)
    return StripeAccountPayload(
        onboarding_url=outcome.url, organization=org, user_errors=billing_errors(outcome.problems)
    )


@strawberry.type
class OnlinePaymentMutations:
    @strawberry.mutation(
        description="Ask to pay open invoices online. Returns what the client needs to take "
        "the card; the invoices change when Stripe confirms the payment.",
        extensions=portal_only(),
    )
    async def pay_invoice(
        self, info: Info, input: Annotated[PayInvoiceInput, INPUT]
    ) -> PayInvoicePayload:
        outcome = await pay_invoices(
            info, input.invoice_ids, input.idempotency_key, input.amount, input.payment_method_id
        )
        return PayInvoicePayload(
            payment=payment_request(outcome.request), user_errors=billing_errors(outcome.problems)
        )

    @strawberry.mutation(
        description="Connect the organization's Stripe account (created on first use) and get "
        "Stripe's onboarding link for it. OWNER only.",
        extensions=owner_only(),
    )
    async def start_stripe_onboarding(self, info: Info) -> StripeAccountPayload:
        return await _account_payload(info, await start_onboarding(info))

    @strawberry.mutation(
        description="Ask Stripe again whether the connected account can take payments.",
        extensions=owner_only(),
    )
    async def refresh_stripe_account(self, info: Info) -> StripeAccountPayload:
        return await _account_payload(info, await refresh_account(info))


@strawberry.type(description="What the portal client needs to collect a card with Stripe.js.")
class CardSetup:
    client_secret: str = strawberry.field(description="The SetupIntent's client secret.")
    setup_intent_id: str = strawberry.field(description="Send it to `saveCard` when confirmed.")
    stripe_account: str = strawberry.field(description="Initialise Stripe.js with it.")


@strawberry.type(description="The result of starting to save a card.")
class CardSetupPayload:
    setup: CardSetup | None = strawberry.field(description="What to collect the card with.")
    user_errors: list[BillingError] = strawberry.field(description="Problems.")


@strawberry.input(description="A confirmed SetupIntent whose card to keep.")
class SaveCardInput:
    setup_intent_id: str = strawberry.field(description="From `startCardSetup`.")


@strawberry.input(description="A saved card.")
class CardInput:
    id: strawberry.ID = strawberry.field(description="The saved card's global ID.")


@strawberry.input(description="Turn autopay on or off.")
class SetAutopayInput:
    enabled: bool = strawberry.field(description="On: open invoices are charged when due.")


@strawberry.type(description="The result of a saved-card mutation.")
class SavedCardPayload:
    payment_method: SavedPaymentMethod | None = strawberry.field(description="The card.")
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


@strawberry.type(description="The result of changing autopay.")
class AutopayPayload:
    customer: Customer | None = strawberry.field(description="The customer account.")
    user_errors: list[BillingError] = strawberry.field(description="Problems with the input.")


async def _card_payload(info: Info, outcome: Outcome) -> SavedCardPayload:
    return await billing_payload(
        info, SavedCardPayload, outcome, "SavedPaymentMethod", "payment_method"
    )


@strawberry.type
class WalletMutations:
    @strawberry.mutation(
        description="Start saving a card for later: returns what Stripe.js needs to collect "
        "it on the organization's account.",
        extensions=portal_only(),
    )
    async def start_card_setup(self, info: Info) -> CardSetupPayload:
        outcome = await wallet.start_card_setup(info)
        setup = None
        if outcome.setup is not None:
            setup = CardSetup(
                client_secret=outcome.setup.client_secret or "",
                setup_intent_id=outcome.setup.setup_intent_id,
                stripe_account=outcome.setup.account,
            )
        return CardSetupPayload(setup=setup, user_errors=billing_errors(outcome.problems))

    @strawberry.mutation(
        description="Keep the card of a confirmed SetupIntent; only its brand, last four "
        "digits and expiry are stored.",
        extensions=portal_only(),
    )
    async def save_card(
        self, info: Info, input: Annotated[SaveCardInput, INPUT]
    ) -> SavedCardPayload:
        return await _card_payload(info, await wallet.save_card(info, input.setup_intent_id))

    @strawberry.mutation(description="Make a saved card the default.", extensions=portal_only())
    async def set_default_card(
        self, info: Info, input: Annotated[CardInput, INPUT]
    ) -> SavedCardPayload:
        return await _card_payload(info, await wallet.set_default_card(info, input.id))

    @strawberry.mutation(description="Remove a saved card.", extensions=portal_only())
    async def remove_card(self, info: Info, input: Annotated[CardInput, INPUT]) -> SavedCardPayload:
        return await _card_payload(info, await wallet.remove_card(info, input.id))

    @strawberry.mutation(
        description="Turn autopay on (needs a default card, where the organization offers it) "
        "or off.",
        extensions=portal_only(),
    )
    async def set_autopay(
        self, info: Info, input: Annotated[SetAutopayInput, INPUT]
    ) -> AutopayPayload:
        outcome = await wallet.set_autopay(info, input.enabled)
        return await billing_payload(info, AutopayPayload, outcome, "Customer", "customer")
