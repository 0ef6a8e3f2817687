"""OWNER mutations on webhook endpoints. A signing secret is shown once, here."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import owner_only
from domain.webhooks.codes import WebhookCode
from resolvers import webhooks as actions
from resolvers.validation import Problem
from schema.common import INPUT, UserError
from schema.error_codes import code_field, error_codes, user_errors
from schema.node import load_row
from schema.webhooks import WebhookDelivery, WebhookEndpoint

WebhookErrorCode = error_codes("WebhookErrorCode", WebhookCode, "Why a webhook action was refused.")


@strawberry.type(description="A problem with a webhook action.")
class WebhookError(UserError):
    code: Enum = code_field(WebhookErrorCode)


def _errors(problems: list[Problem]) -> list[WebhookError]:
    return user_errors(problems, WebhookError, WebhookErrorCode)


@strawberry.input(description="A new webhook endpoint.")
class RegisterWebhookEndpointInput:
    url: str = strawberry.field(
        description="The https URL to post events to; it must resolve to public addresses."
    )
    event_types: list[str] = strawberry.field(
        description="The event types to receive: customer.created, customer.updated, "
        "car.status_changed, invoice.sent, invoice.paid, invoice.voided, payment.succeeded, "
        "payment.refunded, estimate.approved, estimate.declined, appointment.created, "
        "appointment.changed, appointment.cancelled, contract.signed, message.received."
    )
    description: str | None = strawberry.field(
        default=None, description="What the endpoint is for (at most 200 characters)."
    )


@strawberry.input(description="Changes to a webhook endpoint; what is left out stays.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's global ID.")
    url: str | None = strawberry.field(default=None, description="A new https URL.")
    event_types: list[str] | None = strawberry.field(
        default=None, description="The event types to receive from now on."
    )
    description: str | None = strawberry.field(default=None, description="A new description.")
    enabled: bool | None = strawberry.field(
        default=None,
        description="False stops deliveries (they wait); true sends them again and clears "
        "the endpoint's failure record.",
    )


@strawberry.input(description="A webhook endpoint.")
class WebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's global ID.")


@strawberry.input(description="A delivery to send again.")
class RedeliverWebhookInput:
    delivery_id: strawberry.ID = strawberry.field(description="The delivery's global ID.")


@strawberry.type(description="A webhook endpoint with its signing secret, shown this once.")
class WebhookSecretPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint.")
    secret: str | None = strawberry.field(
        description="The signing secret, shown this once: the receiver checks the "
        "Portico-Signature header with it (see the README)."
    )
    user_errors: list[WebhookError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="The webhook endpoint after the change.")
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint.")
    user_errors: list[WebhookError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="The endpoint that was deleted.")
class DeleteWebhookEndpointPayload:
    deleted_webhook_endpoint_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the endpoint, which no longer exists."
    )
    user_errors: list[WebhookError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="The new delivery of the same event.")
class RedeliverWebhookPayload:
    webhook_delivery: WebhookDelivery | None = strawberry.field(
        description="The new delivery, due at once; its eventId is the original's."
    )
    user_errors: list[WebhookError] = strawberry.field(description="Why nothing was sent.")


async def _secret_payload(info: Info, outcome: actions.SecretOutcome) -> WebhookSecretPayload:
    errors = _errors(outcome.problems)
    endpoint = None if errors else await load_row(info, "WebhookEndpoint", outcome.endpoint_id)
    return WebhookSecretPayload(
        webhook_endpoint=endpoint, secret=outcome.secret, user_errors=errors
    )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Register an endpoint for the organization's events (OWNER only).",
        extensions=owner_only(),
    )
    async def register_webhook_endpoint(
        self, info: Info, input: Annotated[RegisterWebhookEndpointInput, INPUT]
    ) -> WebhookSecretPayload:
        outcome = await actions.register(info, input.url, input.event_types, input.description)
        return await _secret_payload(info, outcome)

    @strawberry.mutation(
        description="Change, enable or disable an endpoint (OWNER only).",
        extensions=owner_only(),
    )
    async def update_webhook_endpoint(
        self, info: Info, input: Annotated[UpdateWebhookEndpointInput, INPUT]
    ) -> WebhookEndpointPayload:
        outcome = await actions.update(
            info, input.id, input.url, input.event_types, input.description, input.enabled
        )
        errors = _errors(outcome.problems)
        endpoint = None if errors else await load_row(info, "WebhookEndpoint", outcome.row_id)
        return WebhookEndpointPayload(webhook_endpoint=endpoint, user_errors=errors)

    @strawberry.mutation(
        description="Give an endpoint a new signing secret, at once (OWNER only).",
        extensions=owner_only(),
    )
    async def rotate_webhook_secret(
        self, info: Info, input: Annotated[WebhookEndpointInput, INPUT]
    ) -> WebhookSecretPayload:
        return await _secret_payload(info, await actions.rotate_secret(info, input.id))

    @strawberry.mutation(
        description="Delete an endpoint and its delivery log (OWNER only).",
        extensions=owner_only(),
    )
    async def delete_webhook_endpoint(
        self, info: Info, input: Annotated[WebhookEndpointInput, INPUT]
    ) -> DeleteWebhookEndpointPayload:
        outcome = await actions.delete(info, input.id)
        errors = _errors(outcome.problems)
        return DeleteWebhookEndpointPayload(
            deleted_webhook_endpoint_id=None if errors else input.id, user_errors=errors
        )

    @strawberry.mutation(
        description="Send a delivery's event again, with the same event id (OWNER only).",
        extensions=owner_only(),
    )
    async def redeliver_webhook(
        self, info: Info, input: Annotated[RedeliverWebhookInput, INPUT]
    ) -> RedeliverWebhookPayload:
        outcome = await actions.redeliver(info, input.delivery_id)
        errors = _errors(outcome.problems)
        delivery = None if errors else await load_row(info, "WebhookDelivery", outcome.row_id)
        return RedeliverWebhookPayload(webhook_delivery=delivery, user_errors=errors)
