"""OWNER mutations on integration keys. A new key's secret is shown once, here."""

from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import owner_only
from resolvers import telematics
from schema.common import INPUT
from schema.error_codes import user_errors
from schema.integrations import IntegrationKey
from schema.mutations.jobs import WorkError, WorkErrorCode
from schema.node import load_row


@strawberry.input(description="A new integration key.")
class CreateIntegrationKeyInput:
    name: str = strawberry.field(description="What it is for, e.g. Fleet tracker.")


@strawberry.input(description="A key to revoke.")
class RevokeIntegrationKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's global ID.")


@strawberry.type(description="The result of an integration key mutation.")
class IntegrationKeyPayload:
    integration_key: IntegrationKey | None = strawberry.field(description="The key.")
    secret: str | None = strawberry.field(
        description="The whole key, shown this once: give it to the integration as "
        "`Authorization: Bearer <secret>`."
    )
    user_errors: list[WorkError] = strawberry.field(description="Problems with the input.")


async def _payload(info: Info, outcome: telematics.KeyOutcome) -> IntegrationKeyPayload:
    errors = user_errors(outcome.problems, WorkError, WorkErrorCode)
    key = None if errors else await load_row(info, "IntegrationKey", outcome.key_id)
    return IntegrationKeyPayload(integration_key=key, secret=outcome.secret, user_errors=errors)


@strawberry.type
class IntegrationMutations:
    @strawberry.mutation(
        description="Make a key for a telematics integration (OWNER only).",
        extensions=owner_only(),
    )
    async def create_integration_key(
        self, info: Info, input: Annotated[CreateIntegrationKeyInput, INPUT]
    ) -> IntegrationKeyPayload:
        return await _payload(info, await telematics.create_key(info, input))

    @strawberry.mutation(description="Stop a key working at once.", extensions=owner_only())
    async def revoke_integration_key(
        self, info: Info, input: Annotated[RevokeIntegrationKeyInput, INPUT]
    ) -> IntegrationKeyPayload:
        return await _payload(info, await telematics.revoke_key(info, input))
